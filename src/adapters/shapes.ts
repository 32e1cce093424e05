// What a request and a response look like to Tessera, and how to tell one framework's from
// another's. Typed by shape: no runtime dependency on node:http, Next.js or Express. The entry
// points, `csrf` and every compatibility entry use these predicates, so "is this a Node
// request?" has one answer everywhere.
import { isObject } from '../core/plain.js'

/** The parts of `http.IncomingMessage` Tessera reads. Express, Connect, micro and Next's Pages Router pass the same object. */
export interface NodeRequest {
  headers: Record<string, string | string[] | undefined>
  /** `net.Socket` or `tls.TLSSocket`; only `encrypted` is read. */
  socket?: object | null
}

/** The parts of `http.ServerResponse` Tessera writes. */
export interface NodeResponse {
  readonly headersSent: boolean
  getHeader(name: string): number | string | string[] | undefined
  setHeader(name: string, value: number | string | readonly string[]): unknown
  hasHeader?(name: string): boolean
  writeHead(...args: any[]): unknown
  end(...args: any[]): unknown
  destroy?(error?: Error): unknown
  statusCode: number
}

/** What Next.js `cookies()` returns (and any store with the same four methods). */
export interface CookieStoreLike {
  get(name: string): { name: string; value: string } | undefined
  getAll(): { name: string; value: string }[]
  set(name: string, value: string, options?: Record<string, unknown>): unknown
  delete(name: string): unknown
}

/** A Web `Request` as far as Tessera needs one. */
export interface RequestLike {
  readonly url: string
  readonly headers: Headers
}

/** A Web `Response` as far as Tessera needs one (`NextResponse` included). */
export interface ResponseLike {
  readonly headers: Headers
}

/** A Web `Request`: a string `url` and `Headers` with `get`. */
export function isRequestLike(value: unknown): value is RequestLike {
  return isObject(value) && typeof value.url === 'string' && isObject(value.headers) && typeof value.headers.get === 'function'
}

/** Something with Web `Headers` (a `Response`, `NextResponse`). */
export function isResponseLike(value: unknown): value is ResponseLike {
  return isObject(value) && isObject(value.headers) && typeof value.headers.get === 'function'
}

/** Next.js `cookies()` (or any store with `get`, `getAll`, `set` and `delete`). */
export function isCookieStore(value: unknown): value is CookieStoreLike {
  return isObject(value) && ['get', 'getAll', 'set', 'delete'].every((m) => typeof value[m] === 'function')
}

/** A node:http request: a plain headers object (not Web `Headers`). */
export function isNodeRequest(value: unknown): value is NodeRequest {
  return isObject(value) && isObject(value.headers) && typeof value.headers.get !== 'function'
}

/** A node:http response: `setHeader` and `getHeader`. */
export function isNodeResponse(value: unknown): value is NodeResponse {
  return isObject(value) && typeof value.setHeader === 'function' && typeof value.getHeader === 'function'
}

/** A `{ req, res }` pair from node:http (`getServerSideProps`' context, next-session's calls). */
export function isNodePair(value: unknown): value is { req: NodeRequest; res: NodeResponse } {
  return isObject(value) && isNodeRequest(value.req) && isNodeResponse(value.res)
}

// What a request and a response look like to Tessera, and how to tell one framework's from
// another's. Typed by shape: no runtime dependency on node:http, Next.js or Express. The entry
// points, `csrf` and every compatibility entry use these predicates, so "is this a Node
// request?" has one answer everywhere.
import type { CookieStoreLike, NodeRequest, NodeResponse, RequestLike, ResponseLike } from '../core/frameworks.js'
import { isObject } from '../core/plain.js'

export type { CookieStoreLike, NodeRequest, NodeResponse, RequestLike, ResponseLike } from '../core/frameworks.js'

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

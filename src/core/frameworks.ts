// The request and response shapes Tessera accepts, typed structurally: no runtime dependency on
// node:http, Next.js or Express. The adapters (src/adapters) tell them apart and turn each into
// the core's RequestContext; the core itself only names them in its public types.

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

/** Every argument list `sessions.get` accepts. */
export type GetArgs =
  | [req: NodeRequest, res: NodeResponse]
  | [context: { req: NodeRequest; res: NodeResponse }]
  | [request: RequestLike, response?: ResponseLike]
  | [pair: { request: RequestLike; response?: ResponseLike }]
  | [cookieStore: CookieStoreLike]

/** One argument that identifies a request: what `read`, `merge`, `replace`, `pluck` and `destroy` take. */
export type SessionContext =
  | { req: NodeRequest; res: NodeResponse }
  | { request: RequestLike; response?: ResponseLike }
  | RequestLike
  | CookieStoreLike

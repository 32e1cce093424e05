// Adapters: each turns one framework's request/response shape into a RequestContext, the only
// thing the core talks to. Reading is one cookie lookup; writing is a list of cookies to apply.
import { readCookie, serializeCookie, type OutgoingCookie } from '../core/cookie.js'
import { SessionError } from '../core/errors.js'
import { isObject } from '../core/plain.js'
import { isCookieStore, isNodeRequest, isNodeResponse, isRequestLike, type CookieStoreLike, type NodeRequest, type NodeResponse, type RequestLike, type ResponseLike } from './shapes.js'

export type { CookieStoreLike, NodeRequest, NodeResponse, RequestLike, ResponseLike } from './shapes.js'

export const READ_ONLY_MESSAGE =
  'The session cannot be written here: cookies are read-only in a server component. ' +
  'Change the session in a Server Action or a Route Handler (or refresh it in proxy.ts).'

/** The request-side view the core needs, whatever the framework. */
export interface RequestContext {
  /** The value of one request cookie. */
  cookie(name: string): string | undefined
  /** true over HTTPS, false over known plain HTTP, undefined when the adapter cannot tell. */
  readonly secure: boolean | undefined
  /** Puts cookies on the response, replacing earlier ones of the same names (`lines`: the same cookies already serialised). May throw a SessionError. */
  apply(cookies: readonly OutgoingCookie[], lines?: readonly string[]): void
  /** Known to refuse writes (Next.js `cookies()` in a server component). */
  readonly readOnly: boolean
  /**
   * Apply cookies before the store write: where a cookie write is what fails in a read-only
   * context (a `cookies()` store we could not recognise), the store then stays untouched.
   */
  readonly cookiesFirst: boolean
  /** The object a session is cached on for the duration of the request. */
  readonly key: object
  /** The Node response, when the context has one (for autoCommit). */
  readonly nodeResponse?: NodeResponse
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

const SHAPES =
  'sessions.get() takes (req, res) from node:http, a { req, res } context, a Web Request (and optional Response), ' +
  'a { request, response } pair, or the cookie store from Next.js cookies()'

/** Normalizes any accepted argument list (its first two arguments) into a RequestContext, or throws a TypeError listing the shapes. */
export function toContext(a: unknown, b: unknown, trustProxy: boolean): RequestContext {
  if (b !== undefined) {
    if (isRequestLike(a) && isObject(b) && isObject(b.headers)) return webContext(a, b as ResponseLike, trustProxy)
    if (isNodeRequest(a) && isNodeResponse(b)) return nodeContext(a, b, trustProxy)
    throw new TypeError(SHAPES)
  }
  if (isRequestLike(a)) return webContext(a, undefined, trustProxy)
  if (isObject(a)) {
    if (isNodeRequest(a.req) && isNodeResponse(a.res)) return nodeContext(a.req, a.res, trustProxy)
    if (isRequestLike(a.request)) return webContext(a.request, a.response, trustProxy)
    if (isCookieStore(a)) return cookieStoreContext(a)
    if (typeof a.then === 'function') throw new TypeError(`${SHAPES}. Got a promise: in Next.js 15+, await it first (sessions.get(await cookies()))`)
  }
  throw new TypeError(SHAPES)
}

function forwardedHttps(value: string | null | undefined): boolean | undefined {
  if (!value) return undefined
  const first = value.split(',')[0]!.trim().toLowerCase()
  return first === 'https'
}

function nodeContext(req: NodeRequest, res: NodeResponse, trustProxy: boolean): RequestContext {
  let secure = (req.socket as { encrypted?: boolean } | null | undefined)?.encrypted === true
  if (trustProxy && !secure) {
    const proto = req.headers['x-forwarded-proto']
    secure = forwardedHttps(Array.isArray(proto) ? proto[0] : proto) ?? false
  }
  return new NodeContext(req, res, secure)
}

// A class rather than an object literal with closures: one allocation per request instead of three.
class NodeContext implements RequestContext {
  readonly readOnly = false
  readonly cookiesFirst = false
  constructor(
    readonly key: NodeRequest,
    readonly nodeResponse: NodeResponse,
    readonly secure: boolean,
  ) {}

  cookie(name: string): string | undefined {
    const header = this.key.headers.cookie
    return readCookie(Array.isArray(header) ? header.join('; ') : header, name)
  }

  apply(cookies: readonly OutgoingCookie[], lines: readonly string[] = cookies.map(serializeCookie)): void {
    const res = this.nodeResponse
    if (res.headersSent) {
      throw new SessionError('HEADERS_SENT', 'The session cookie cannot be set: the response headers were already sent. Commit the session before writing the response.')
    }
    const previous = res.getHeader('set-cookie')
    const kept = (previous === undefined ? [] : Array.isArray(previous) ? previous : [String(previous)]).filter(
      (line) => !cookies.some((cookie) => line.startsWith(`${cookie.name}=`)),
    )
    res.setHeader('Set-Cookie', [...kept, ...lines])
    const hasCacheControl = res.hasHeader ? res.hasHeader('cache-control') : res.getHeader('cache-control') !== undefined
    if (!hasCacheControl) res.setHeader('Cache-Control', 'no-store')
  }
}

function webContext(request: RequestLike, response: ResponseLike | undefined, trustProxy: boolean): RequestContext {
  const secure = (trustProxy ? forwardedHttps(request.headers.get('x-forwarded-proto')) : undefined) ?? request.url.startsWith('https:')
  return {
    cookie: (name) => readCookie(request.headers.get('cookie'), name),
    secure,
    readOnly: false,
    cookiesFirst: false,
    key: request,
    apply(cookies, lines = cookies.map(serializeCookie)) {
      if (!response) return // no response given: commit() hands the Set-Cookie values to the caller
      const headers = response.headers
      try {
        const kept = headers.getSetCookie().filter((line) => !cookies.some((cookie) => line.startsWith(`${cookie.name}=`)))
        headers.delete('set-cookie')
        for (const line of kept) headers.append('set-cookie', line)
        for (const line of lines) headers.append('set-cookie', line)
        if (!headers.has('cache-control')) headers.set('cache-control', 'no-store')
      } catch (cause) {
        throw new SessionError('HEADERS_SENT', 'The session cookie cannot be set: this Response has immutable headers. Pass a response whose headers can change (new Response(), NextResponse.next()).', { cause })
      }
    },
  }
}

function cookieStoreContext(store: CookieStoreLike): RequestContext {
  return {
    cookie: (name) => store.get(name)?.value,
    secure: undefined,
    // Next.js hands server components a proxy whose set and delete are one and the same
    // throwing function; route handlers and server actions get two distinct ones.
    readOnly: store.set === store.delete,
    cookiesFirst: true,
    key: store,
    apply(cookies) {
      try {
        for (const { name, value, attributes: a } of cookies) {
          store.set(name, value, {
            ...(a.maxAge === undefined ? {} : { maxAge: a.maxAge }),
            path: a.path,
            ...(a.domain ? { domain: a.domain } : {}),
            httpOnly: a.httpOnly,
            secure: a.secure,
            sameSite: a.sameSite,
            ...(a.partitioned ? { partitioned: true } : {}),
          })
        }
      } catch (cause) {
        throw new SessionError('READ_ONLY', READ_ONLY_MESSAGE, { cause })
      }
    },
  }
}

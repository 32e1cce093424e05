/**
 * Drop-in entry for apps on `next-session`: change the import, keep the code.
 *
 * - v4: `nextSession(options)` (default export) returns `getSession(req, res)`.
 * - v3: `session(options)` (Connect middleware), `withSession(handler, options)`,
 *   `applySession(req, res, options)`.
 * - Both: `MemoryStore`, `expressSession`, `promisifyStore` (next-session's `lib/compat` names).
 *
 * Everything maps onto Tessera's `createSessions` and `Session`: the session object is a view of
 * a Tessera session (`session.views = 1` writes `tesseraSession.data.views`), cookies, expiry and
 * store writes are Tessera's. Existing stores keep working: a next-session store (promise
 * `get/set/destroy/touch` taking `(sid, sess)`), an express-session store (callbacks) or a
 * `promisifyStore()` result are adapted to Tessera's store contract; sessions they already hold
 * (and the cookies pointing at them) stay valid.
 *
 * @example
 * // lib/get-session.js
 * import nextSession from 'tessera/compat/next-session' // was: from 'next-session'
 * export const getSession = nextSession({ cookie: { maxAge: 60 * 60 * 24 } })
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { promisify } from 'node:util'
import { isNodePair, isNodeRequest, isNodeResponse, type NodeRequest, type NodeResponse } from '../adapters/shapes.js'
import { Cookie as ConnectCookie, MemoryStore as CallbackMemoryStore, Store, type ConnectStoreLike } from '../connect.js'
import { cookieSecure } from '../core/plan.js'
import { isObject } from '../core/plain.js'
import type { Session as CoreSession } from '../core/session.js'
import { TESSERA_STORE, type SessionStore as TesseraStore, type StatelessStore } from '../core/types.js'
import { createSessions, MemoryStore, SessionError, type SessionCookieOptions, type Sessions, type SessionsOptions } from '../index.js'
import { fromNextSessionStore, type NextSessionStoreOptions } from '../stores/next-session-store.js'
import { dataView } from './data-view.js'

// ---------------------------------------------------------------------------------------------
// Types: the shapes of next-session 4's published declarations (lib/types.d.ts, lib/session.d.ts)

/** Session data as the app sees it. */
export type SessionRecord = Record<string, any>

/**
 * `session.cookie`: the cookie settings of this session (read-only here). `secure` is whether
 * this request's cookie carries `Secure`; `expires` is when the session ends if left idle
 * (next-session had it only with `maxAge`: Tessera's server ends every idle session).
 */
export type Cookie = CookieAttributes & {
  /** Seconds, with `cookie.maxAge` set (a persistent cookie). */
  maxAge?: number
  expires?: Date
}

/** What `Cookie` and `StoredCookie` share. */
type CookieAttributes = {
  httpOnly: boolean
  path: string
  domain?: string | undefined
  secure: boolean
  sameSite?: boolean | 'lax' | 'strict' | 'none'
}

/** The `cookie` kept in each store record, as next-session writes it (`maxAge` and `expires` both or neither). */
export type StoredCookie = CookieAttributes & ({ maxAge?: undefined; expires?: undefined } | { maxAge: number; expires: Date })

/** What a next-session store keeps: the data's keys plus `cookie`. */
export type SessionData<T = SessionRecord> = { cookie: StoredCookie } & T

/** The session object: the data itself plus `id`, `touch()`, `commit()`, `destroy()` and `cookie`. */
export type Session<T extends SessionRecord = SessionRecord> = {
  id: string
  readonly cookie: Cookie
  /** Extends the session's expiry at the next commit (with or without `cookie.maxAge`). */
  touch(): void
  /** Saves the session and sets its cookie now (autoCommit does it before the headers leave). */
  commit(): Promise<void>
  /** Removes the session from the store and expires its cookie. */
  destroy(): Promise<void>
} & T

/** next-session v3's session object: the same, plus `isNew`. */
export type SessionV3<T extends SessionRecord = SessionRecord> = Session<T> & { readonly isNew: boolean }

/**
 * A next-session store: promise methods taking `(sid, sess)`, where `sess.cookie.expires` holds
 * the expiry. Passed as `store`, it is adapted to Tessera's store contract.
 */
export interface SessionStore {
  get(sid: string): Promise<SessionData | null | undefined>
  set(sid: string, sess: SessionData): Promise<void>
  destroy(sid: string): Promise<void>
  touch?(sid: string, sess: SessionData): Promise<void>
}

/** Cookie options, as next-session takes them. `maxAge` is in seconds. */
export interface CookieOptions {
  /** Seconds. Unset: a browser-session cookie (the server still ends the session after `ttl` idle). */
  maxAge?: number | null
  httpOnly?: boolean
  path?: string
  domain?: string
  /** Unset: `Secure` over HTTPS and in production (Tessera's `'auto'`); `false` never. */
  secure?: boolean
  /** `true` = `Strict`; unset or `false` = `Lax` (what browsers assume when it is missing). */
  sameSite?: boolean | 'lax' | 'strict' | 'none'
}

/** next-session's options (v3 and v4), plus Tessera's `ttl`. */
export interface Options {
  /** Cookie name. @default 'sid' */
  name?: string
  /**
   * A next-session store, an express-session store, a `promisifyStore()` result (sessions kept
   * in next-session's record shape, so next-session reads them too), or a Tessera store, used as
   * it is (`MemoryStore`, `RedisStore`, `PostgresStore`, `fromConnectStore(...)`, `KVStore`, the
   * cookie store: a store with `patch`, or marked with `TESSERA_STORE`). Its methods are looked
   * up when used, as next-session does.
   * @default Tessera's process-wide MemoryStore
   */
  store?: SessionStore | ConnectStoreLike | TesseraStore | StatelessStore
  /** Makes new session ids (16–128 characters of `[A-Za-z0-9_-]`). @default 256 random bits */
  genid?: () => string
  /** Turns the session id into the cookie value. */
  encode?: (rawSid: string) => string | Promise<string>
  /** Turns the cookie value back into the session id (`null` for an invalid one: a new session). */
  decode?: (encryptedSid: string) => string | null | undefined | Promise<string | null | undefined>
  /**
   * Touch (extend an unmodified session) at most this often. v4 (`nextSession`): seconds.
   * v3 (`session`, `withSession`, `applySession`): milliseconds, as v3 measured it. `-1`: never
   * automatically (`session.touch()` still works). Defaults: v4 `-1`; v3 `0` (every request).
   * Without `cookie.maxAge`, unset or `-1` means Tessera's default, so the server-side idle
   * expiry keeps moving for active users.
   */
  touchAfter?: number
  /** v3: re-send the cookie when the session is touched. @default v4 true, v3 false */
  rolling?: boolean
  /** Commit before the headers leave. `false`: call `session.commit()` yourself. @default true */
  autoCommit?: boolean
  cookie?: CookieOptions
  /** Tessera: seconds a session lives idle on the server when `cookie.maxAge` is unset. @default 1209600 (14 days) */
  ttl?: number
}

type Request = IncomingMessage | NodeRequest
type Response = ServerResponse | NodeResponse

// ---------------------------------------------------------------------------------------------
// Options: next-session's names and defaults onto createSessions

const DAY = 86_400

function fail(option: string, problem: string): never {
  throw new TypeError(`next-session option ${option} ${problem}`)
}

/** A Tessera store is used as it is; any other store is next-session's (or express-session's). */
function isTesseraStore(store: Record<PropertyKey, unknown>): boolean {
  return store.stateless === true || typeof store.patch === 'function' || store[TESSERA_STORE] === true
}

function sameSiteOf(value: CookieOptions['sameSite']): SessionCookieOptions['sameSite'] {
  if (value === undefined || value === null || value === false) return undefined // Tessera's Lax
  if (value === true) return 'strict'
  if (typeof value === 'string') return value.toLowerCase() as 'lax' | 'strict' | 'none'
  return fail('cookie.sameSite', `must be true, false, 'lax', 'strict' or 'none', got ${JSON.stringify(value)}`)
}

interface Built {
  sessions: Sessions<SessionRecord>
  version: 3 | 4
  /** Seconds, when the cookie is persistent. */
  maxAge: number | undefined
  sameSite: CookieOptions['sameSite']
}

function build(options: Options | undefined, version: 3 | 4): Built {
  const opts = options ?? {}
  if (!isObject(opts)) throw new TypeError('next-session options must be an object')
  const cookie = opts.cookie ?? {}
  if (!isObject(cookie)) fail('cookie', 'must be an object')
  const maxAge = cookie.maxAge ?? undefined
  if (maxAge !== undefined && (typeof maxAge !== 'number' || !Number.isFinite(maxAge) || maxAge < 0)) {
    fail('cookie.maxAge', `must be a number of seconds, got ${JSON.stringify(maxAge)}`)
  }
  // next-session: no maxAge (or 0) is a browser-session cookie.
  const persistent = maxAge !== undefined && maxAge > 0
  const ttl = persistent ? maxAge : (opts.ttl ?? 14 * DAY)

  let touchAfter: number | undefined
  const raw = opts.touchAfter
  if (raw !== undefined && raw !== null && (typeof raw !== 'number' || Number.isNaN(raw))) fail('touchAfter', `must be a number, got ${JSON.stringify(raw)}`)
  const disabled = raw === undefined || raw === null ? version === 4 : raw < 0
  if (!persistent) {
    // No cookie expiry to extend: keep the server-side idle expiry moving (Tessera's default),
    // unless an explicit touchAfter asks for a specific interval.
    touchAfter = disabled || raw === undefined || raw === null ? undefined : Math.min(version === 3 ? raw / 1000 : raw, ttl)
  } else if (disabled) {
    touchAfter = ttl // never due for a live session: the lifetime is fixed at creation, as in next-session
  } else {
    const value = raw === undefined || raw === null ? 0 : raw
    touchAfter = Math.min(version === 3 ? value / 1000 : value, ttl)
  }

  const core: SessionsOptions = {
    name: opts.name || 'sid',
    ttl,
    touchAfter,
    rolling: opts.rolling ?? version === 4,
    cookie: {
      httpOnly: cookie.httpOnly ?? true,
      path: cookie.path || '/',
      domain: cookie.domain || undefined,
      secure: typeof cookie.secure === 'boolean' ? cookie.secure : 'auto',
      sameSite: sameSiteOf(cookie.sameSite),
      persistent,
    },
  }
  const store = opts.store
  if (store !== undefined && store !== null) {
    if (!isObject(store)) fail('store', 'must be a store object (next-session, express-session or Tessera)')
    // Records in a next-session (or connect) store keep next-session's shape and cookie.
    const record: NextSessionStoreOptions['cookie'] = { ...cookie, maxAge: persistent ? maxAge : undefined } as NextSessionStoreOptions['cookie']
    core.store = isTesseraStore(store as unknown as Record<PropertyKey, unknown>) ? (store as TesseraStore | StatelessStore) : fromNextSessionStore(store, { ttl, cookie: record })
  }
  if (opts.genid !== undefined) core.genid = opts.genid
  if (opts.encode !== undefined) core.encode = opts.encode
  if (opts.decode !== undefined) core.decode = opts.decode
  if (opts.autoCommit !== undefined) core.autoCommit = opts.autoCommit
  return { sessions: createSessions<SessionRecord>(core), version, maxAge: persistent ? maxAge : undefined, sameSite: cookie.sameSite }
}

// ---------------------------------------------------------------------------------------------
// The session object: the data itself (a view of the Tessera session's), plus next-session's own

const views = new WeakMap<CoreSession<SessionRecord>, Session>()
const allViews = new WeakSet<object>()

/** `session.cookie`, next-session's shape: the options, whether this cookie is `Secure` (the core's rule), and the expiry. */
function cookieOf(built: Built, session: CoreSession<SessionRecord>, req: NodeRequest): Cookie {
  const { config } = built.sessions
  // Whether the request came over HTTPS, as the node adapter reads it (this entry has no trustProxy).
  const https = (req.socket as { encrypted?: boolean } | null | undefined)?.encrypted === true
  const view: Record<string, unknown> = {
    httpOnly: config.cookie.httpOnly,
    path: config.cookie.path,
    domain: config.cookie.domain,
    secure: cookieSecure(config, https),
    sameSite: built.sameSite,
  }
  if (built.maxAge !== undefined) view.maxAge = built.maxAge
  else if (built.version === 3) view.maxAge = null
  view.expires = session.expiresAt
  return Object.freeze(view) as Cookie
}

function viewOf(built: Built, session: CoreSession<SessionRecord>, req: NodeRequest, holder: object): Session {
  const existing = views.get(session)
  if (existing) return existing

  const methods = {
    touch(): void {
      session.touch()
    },
    async commit(): Promise<void> {
      await session.commit()
    },
    async destroy(): Promise<void> {
      // A new, empty session takes the destroyed one's place, so a write after destroy() keeps
      // a cookie (the new session's replaces the clearing one).
      await session.restart()
      const target = holder as { session?: unknown }
      if (target.session === view) delete target.session
    },
  }
  const own: Record<string, () => unknown> = {
    id: () => session.id,
    cookie: () => cookieOf(built, session, req),
    touch: () => methods.touch,
    commit: () => methods.commit,
    destroy: () => methods.destroy,
  }
  if (built.version === 3) own.isNew = () => session.isNew
  const view = dataView<Session>(() => session.data as Record<PropertyKey, unknown>, own, { enumerable: ['cookie'] })
  views.set(session, view)
  allViews.add(view)
  return view
}

/**
 * A response Tessera can put no cookie on (an object without `setHeader`, as in a unit test):
 * the session works, `commit()` saves it, its cookie goes nowhere, and the object's own
 * `writeHead`/`end` stay as they are.
 */
function detachedResponse(): NodeResponse {
  const headers = new Map<string, number | string | readonly string[]>()
  return {
    headersSent: false,
    statusCode: 200,
    getHeader: (name) => headers.get(name.toLowerCase()) as ReturnType<NodeResponse['getHeader']>,
    setHeader: (name, value) => headers.set(name.toLowerCase(), value),
    writeHead: () => undefined,
    end: () => undefined,
  }
}

async function attach(built: Built, req: Request, res: Response): Promise<Session> {
  // next-session reads `req.headers?.cookie` and only touches `res` to set a cookie: objects
  // without those (test doubles) give a session without a cookie, not an error.
  const request: NodeRequest = isNodeRequest(req) ? req : { headers: {} }
  const response = isNodeResponse(res) ? res : detachedResponse()
  const session = await built.sessions.get(request, response)
  const view = viewOf(built, session, request, req)
  ;(req as { session?: unknown }).session = view
  return view
}

// ---------------------------------------------------------------------------------------------
// v4

/**
 * next-session 4: configure once, then `await getSession(req, res)` in API routes,
 * `getServerSideProps`, Express, micro or node:http. The session is also put on `req.session`;
 * when `req.session` is already there, it is what `getSession` returns (as in next-session).
 * A store failure rejects with `SessionError` `STORE_ERROR`.
 */
export default function nextSession<T extends SessionRecord = SessionRecord>(
  options?: Options,
): (req: IncomingMessage, res: ServerResponse) => Promise<Session<T>> {
  const built = build(options, 4)
  return async (req, res) => {
    const current = (req as { session?: unknown } | undefined)?.session
    if (current) return current as Session<T>
    return (await attach(built, req, res)) as Session<T>
  }
}

// ---------------------------------------------------------------------------------------------
// v3

const v3Built = new WeakMap<object, Built>()
let v3Default: Built | undefined

/** One Tessera instance per options object: "reuse the same options in every route", as v3 asks. */
function v3(options: Options | undefined): Built {
  if (options === undefined || options === null) return (v3Default ??= build(undefined, 3))
  let built = v3Built.get(options)
  if (!built) v3Built.set(options, (built = build(options, 3)))
  return built
}

async function applyWith(built: Built, req: Request, res: Response): Promise<void> {
  const current = (req as { session?: unknown }).session
  if (isObject(current) && allViews.has(current)) return
  await attach(built, req, res)
}

/** next-session 3: loads the session onto `req.session` (a no-op when it is there already). */
export async function applySession(req: IncomingMessage, res: ServerResponse, options?: Options): Promise<void> {
  await applyWith(v3(options), req, res)
}

/**
 * next-session 3: Connect/Express middleware putting the session on `req.session`. A store
 * failure goes to `next(error)` as a `SessionError`. While the store has emitted `disconnect`
 * (until `connect`), requests pass through without a session, as in next-session.
 */
export function session(options?: Options): (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void {
  const built = v3(options)
  let ready = true
  const store = options?.store as { on?: (event: string, listener: () => void) => unknown } | undefined
  if (store && typeof store.on === 'function') {
    store.on('disconnect', () => (ready = false))
    store.on('connect', () => (ready = true))
  }
  return (req, res, next) => {
    if (!ready) return next()
    applyWith(built, req, res).then(() => next(), next)
  }
}

/**
 * next-session 3: wraps an API route `(req, res)`, a `getServerSideProps(context)`, or a page
 * with `getInitialProps`, so `req.session` is there when it runs. Other calls (rendering the page
 * component) pass through untouched.
 */
export function withSession<H extends (...args: any[]) => any>(handler: H, options?: Options): H {
  if (typeof handler !== 'function') throw new TypeError('withSession(handler, options) needs a function: an API route, getServerSideProps or a page')
  const built = () => v3(options)
  const original = (handler as { getInitialProps?: (ctx: any) => unknown }).getInitialProps
  const getInitialProps =
    typeof original === 'function'
      ? async (ctx: { req?: unknown; res?: unknown }) => {
          // Only on the server: client-side navigation has neither req nor res.
          if (isNodePair(ctx)) await applyWith(built(), ctx.req, ctx.res)
          return original.call(handler, ctx)
        }
      : undefined
  const name = (handler as { displayName?: string }).displayName || handler.name || 'Component'
  return new Proxy(handler, {
    apply(target, thisArg, args: unknown[]) {
      const [a, b] = args
      if (isNodeRequest(a) && isNodeResponse(b)) return applyWith(built(), a, b).then(() => Reflect.apply(target, thisArg, args))
      if (isNodePair(a)) return applyWith(built(), a.req, a.res).then(() => Reflect.apply(target, thisArg, args))
      return Reflect.apply(target, thisArg, args)
    },
    get(target, key, receiver) {
      if (key === 'getInitialProps' && getInitialProps) return getInitialProps
      if (key === 'displayName') return `withSession(${name})`
      return Reflect.get(target, key, receiver)
    },
  })
}

// ---------------------------------------------------------------------------------------------
// Stores: next-session's `lib/compat` names

/** Wraps an express-session (callback) store in next-session's promise contract. */
export function promisifyStore(connectStore: any): SessionStore {
  if (!isObject(connectStore) || ['get', 'set', 'destroy'].some((m) => typeof connectStore[m] !== 'function')) {
    throw new TypeError('promisifyStore needs an express-session store (with get, set and destroy)')
  }
  const method = (name: string) => promisify(connectStore[name] as (...args: any[]) => void).bind(connectStore)
  return {
    get: method('get') as SessionStore['get'],
    set: method('set') as SessionStore['set'],
    destroy: method('destroy') as SessionStore['destroy'],
    ...(typeof connectStore.touch === 'function' ? { touch: method('touch') as NonNullable<SessionStore['touch']> } : {}),
  }
}

/**
 * Stands in for the `express-session` module in store factories written as
 * `connectStore(expressSession)` (`.Store`, `.MemoryStore`, `.Cookie`). Calling it does nothing.
 */
export const expressSession: ((options?: unknown) => void) & {
  Store: typeof Store
  MemoryStore: typeof CallbackMemoryStore
  Cookie: typeof ConnectCookie
} = Object.assign(function expressSession(_options?: unknown): void {}, { Store, MemoryStore: CallbackMemoryStore, Cookie: ConnectCookie })

export { fromNextSessionStore, MemoryStore, Store, SessionError, TESSERA_STORE }
export type { NextSessionStoreOptions }

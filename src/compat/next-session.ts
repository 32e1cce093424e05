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
import type { NodeRequest, NodeResponse } from '../core/frameworks.js'
import { SessionError } from '../core/errors.js'
import type { SessionCookieOptions, SessionsOptions } from '../core/options.js'
import type { Session as CoreSession } from '../core/session.js'
import { createSessions, type Sessions } from '../index.js'
import type { SessionStore as TesseraStore, StatelessStore } from '../core/types.js'
import { Cookie as ConnectCookie, fromConnectStore, MemoryStore as CallbackMemoryStore, Store, type ConnectStoreLike } from '../connect.js'
import { MemoryStore } from '../stores/memory-store.js'

// ---------------------------------------------------------------------------------------------
// Types: the shapes of next-session 4's published declarations (lib/types.d.ts, lib/session.d.ts)

/** Session data as the app sees it. */
export type SessionRecord = Record<string, any>

/** `session.cookie`: the cookie settings of this session (read-only here). */
export type Cookie = {
  httpOnly: boolean
  path: string
  domain?: string | undefined
  secure: boolean
  sameSite?: boolean | 'lax' | 'strict' | 'none'
} & ({ maxAge?: undefined; expires?: undefined } | { maxAge: number; expires: Date })

/** What a next-session store keeps: the data's keys plus `cookie`. */
export type SessionData<T = SessionRecord> = { cookie: Cookie } & T

/** The session object: the data itself plus `id`, `touch()`, `commit()`, `destroy()` and `cookie`. */
export type Session<T extends SessionRecord = SessionRecord> = {
  id: string
  /** Extends the session's expiry at the next commit (with or without `cookie.maxAge`). */
  touch(): void
  /** Saves the session and sets its cookie now (autoCommit does it before the headers leave). */
  commit(): Promise<void>
  /** Removes the session from the store and expires its cookie. */
  destroy(): Promise<void>
} & SessionData<T>

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
   * A next-session store, an express-session store, a `promisifyStore()` result, or a Tessera
   * store (`MemoryStore`, `RedisStore`, ... : any store with `patch`, or the cookie store).
   * @default Tessera's process-wide MemoryStore
   */
  store?: SessionStore | ConnectStoreLike | TesseraStore | StatelessStore
  /** Makes new session ids (16–128 characters of `[A-Za-z0-9_-]`). @default 256 random bits */
  genid?: () => string
  /** Turns the session id into the cookie value. Needs the core's `encode` hook. */
  encode?: (rawSid: string) => string | Promise<string>
  /** Turns the cookie value back into the session id (`null` for an invalid one). Needs the core's `decode` hook. */
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

/** Options the core is asked for that it may not have yet (see docs/migrate/next-session.md). */
interface PendingCoreOptions {
  encode?: Options['encode']
  decode?: Options['decode']
  autoCommit?: boolean
}

function fail(option: string, problem: string): never {
  throw new TypeError(`next-session option ${option} ${problem}`)
}

function isObject(value: unknown): value is Record<string, any> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null
}

/** Set by `promisifyStore`: the callback store behind it, used directly. */
const CONNECT_STORE = Symbol('tessera.compat.connectStore')

/** A Tessera store is used as is; next-session and express-session stores get an adapter. */
function isTesseraStore(store: Record<PropertyKey, any>): boolean {
  return (
    store instanceof MemoryStore ||
    store.stateless === true ||
    typeof store.patch === 'function' ||
    (store as Record<symbol, unknown>)[Symbol.for('tessera.store')] === true
  )
}

/** A promise store (next-session's contract) in callback clothes, for `fromConnectStore`. */
function callbackStore(store: SessionStore): ConnectStoreLike {
  const run = (callback: (error?: unknown, value?: unknown) => void, action: () => unknown): void => {
    Promise.resolve()
      .then(action)
      .then((value) => callback(null, value), (error: unknown) => callback(error ?? new Error('store failed')))
  }
  return {
    get: (sid, callback) => run(callback, () => store.get(sid)),
    set: (sid, sess, callback) => run(callback, () => store.set(sid, sess)),
    destroy: (sid, callback) => run(callback, () => store.destroy(sid)),
  }
}

/** Options of {@link fromNextSessionStore}. */
export interface NextSessionStoreOptions {
  /** Seconds a session without an expiry in its cookie (a browser-session cookie) lives from now. @default 1209600 (14 days) */
  ttl?: number
  /** Cookie attributes written into each stored session's `cookie`, for a later move back. @default { path: '/', httpOnly: true } */
  cookie?: { path?: string; httpOnly?: boolean; domain?: string; secure?: boolean; sameSite?: CookieOptions['sameSite'] }
}

/**
 * Adapts a next-session store (promise `get/set/destroy` taking `(sid, sess)`), an express-session
 * store (callbacks) or a `promisifyStore()` result to Tessera's store contract, for
 * `createSessions({ store })`. Sessions it already holds stay readable; what Tessera writes keeps
 * next-session's shape (data keys plus `cookie.expires`).
 *
 * @example
 * const sessions = createSessions({ store: fromNextSessionStore(promisifyStore(connectStore)) })
 */
export function fromNextSessionStore(store: SessionStore | ConnectStoreLike, options: NextSessionStoreOptions = {}): TesseraStore {
  if (!isObject(store) || ['get', 'set', 'destroy'].some((m) => typeof (store as unknown as Record<string, unknown>)[m] !== 'function')) {
    throw new TypeError('fromNextSessionStore needs a store with get, set and destroy methods')
  }
  const { ttl = 14 * DAY, cookie = {} } = options
  const shape = store as unknown as Record<PropertyKey, any>
  const connect = shape[CONNECT_STORE] as ConnectStoreLike | undefined
  if (connect) return fromConnectStore(connect, { ttl, cookie })
  // express-session stores take a callback: get(sid, callback).
  if ((shape.get as (...args: unknown[]) => unknown).length >= 2) return fromConnectStore(store as ConnectStoreLike, { ttl, cookie })
  // next-session stores: promise methods. Touches go through set (fromConnectStore never calls touch).
  return fromConnectStore(callbackStore(store as SessionStore), { ttl, cookie })
}

function toStore(store: Options['store'], ttl: number, cookie: NonNullable<NextSessionStoreOptions['cookie']>): TesseraStore | StatelessStore | undefined {
  if (store === undefined || store === null) return undefined
  if (!isObject(store) || ['get', 'set', 'destroy'].some((m) => typeof (store as unknown as Record<string, unknown>)[m] !== 'function')) {
    fail('store', 'must have get, set and destroy methods')
  }
  if (isTesseraStore(store as unknown as Record<PropertyKey, any>)) return store as TesseraStore | StatelessStore
  return fromNextSessionStore(store as SessionStore | ConnectStoreLike, { ttl, cookie })
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

  const attributes = {
    path: cookie.path || '/',
    httpOnly: cookie.httpOnly ?? true,
    ...(cookie.domain ? { domain: cookie.domain } : {}),
    ...(typeof cookie.secure === 'boolean' ? { secure: cookie.secure } : {}),
    ...(cookie.sameSite === undefined ? {} : { sameSite: cookie.sameSite }),
  }
  const core: SessionsOptions & PendingCoreOptions = {
    name: opts.name || 'sid',
    ttl,
    touchAfter,
    rolling: opts.rolling ?? version === 4,
    cookie: {
      httpOnly: attributes.httpOnly,
      path: attributes.path,
      domain: cookie.domain || undefined,
      secure: typeof cookie.secure === 'boolean' ? cookie.secure : 'auto',
      sameSite: sameSiteOf(cookie.sameSite),
      persistent,
    },
  }
  const store = toStore(opts.store, ttl, attributes)
  if (store) core.store = store
  if (opts.genid !== undefined) core.genid = opts.genid
  if (opts.encode !== undefined) core.encode = opts.encode
  if (opts.decode !== undefined) core.decode = opts.decode
  if (opts.autoCommit !== undefined) core.autoCommit = opts.autoCommit
  const sessions = createSessions<SessionRecord>(core)

  // encode/decode need a core hook (a cookie codec around the id). Ignoring them would log every
  // user out (their cookies hold encoded ids), so without the hook this fails loudly.
  const config = sessions.config as { encode?: unknown; decode?: unknown }
  if ((opts.encode !== undefined && typeof config.encode !== 'function') || (opts.decode !== undefined && typeof config.decode !== 'function')) {
    throw new TypeError(
      'next-session options encode/decode need the Tessera core’s cookie codec (SessionsOptions.encode/decode), which this version lacks. ' +
        'Remove them (and sign ids with `secrets` instead), or upgrade Tessera.',
    )
  }
  return { sessions, version, maxAge: persistent ? maxAge : undefined, sameSite: cookie.sameSite }
}

// ---------------------------------------------------------------------------------------------
// The session object: a Proxy over one Tessera Session

const views = new WeakMap<CoreSession<SessionRecord>, object>()
const allViews = new WeakSet<object>()
const INSPECT = Symbol.for('nodejs.util.inspect.custom')

function cookieOf(built: Built, session: CoreSession<SessionRecord>, req: Request): Cookie {
  const { cookie, production } = built.sessions.config
  const secure = cookie.secure === 'auto' ? ((req as NodeRequest).socket as { encrypted?: boolean } | null | undefined)?.encrypted === true || production : cookie.secure
  const view: Record<string, unknown> = { httpOnly: cookie.httpOnly, path: cookie.path, domain: cookie.domain, secure, sameSite: built.sameSite }
  if (built.maxAge !== undefined) {
    view.maxAge = built.maxAge
    view.expires = session.expiresAt
  } else if (built.version === 3) {
    view.maxAge = null
  }
  return Object.freeze(view) as Cookie
}

function viewOf(built: Built, session: CoreSession<SessionRecord>, req: Request): Session {
  const existing = views.get(session)
  if (existing) return existing as Session

  const methods = {
    touch(): void {
      session.touch()
    },
    async commit(): Promise<void> {
      await session.commit()
    },
    async destroy(): Promise<void> {
      await session.destroy()
      // Start a new, empty session in place of the destroyed one, so a write after destroy()
      // keeps a cookie (the new session's replaces the clearing one). Needs the core's
      // Session.restart(); without it, writes after destroy() throw SessionError DESTROYED.
      const restart = (session as { restart?: () => Promise<void> }).restart
      if (typeof restart === 'function') await restart.call(session)
      const holder = req as { session?: unknown }
      if (holder.session === view) delete holder.session
    },
  }
  const special: Record<string, () => unknown> = {
    id: () => session.id,
    cookie: () => cookieOf(built, session, req),
    touch: () => methods.touch,
    commit: () => methods.commit,
    destroy: () => methods.destroy,
  }
  if (built.version === 3) special.isNew = () => session.isNew
  const enumerable = new Set(['cookie'])
  const data = () => session.data as Record<PropertyKey, unknown>
  const isSpecial = (key: PropertyKey): key is string => typeof key === 'string' && Object.prototype.hasOwnProperty.call(special, key)

  // The target only carries the console.log view; everything else lives in the Tessera session.
  const target: Record<PropertyKey, unknown> = {}
  Object.defineProperty(target, INSPECT, {
    value: () => ({ ...data(), cookie: special.cookie!() }),
    enumerable: false,
    configurable: true,
  })

  const view = new Proxy(target, {
    get(_, key) {
      if (isSpecial(key)) return special[key]!()
      if (key === INSPECT) return target[INSPECT]
      return Reflect.get(data(), key)
    },
    set(_, key, value) {
      if (isSpecial(key)) throw new TypeError(`session.${key} cannot be assigned`)
      return Reflect.set(data(), key, value)
    },
    deleteProperty(_, key) {
      if (isSpecial(key)) throw new TypeError(`session.${key} cannot be deleted`)
      return Reflect.deleteProperty(data(), key)
    },
    has(_, key) {
      return isSpecial(key) || Reflect.has(data(), key)
    },
    ownKeys() {
      return [...Reflect.ownKeys(data()).filter((key) => !isSpecial(key)), 'cookie', INSPECT]
    },
    getOwnPropertyDescriptor(_, key) {
      if (isSpecial(key)) return { value: special[key]!(), writable: false, enumerable: enumerable.has(key), configurable: true }
      if (key === INSPECT) return Reflect.getOwnPropertyDescriptor(target, key)
      return Reflect.getOwnPropertyDescriptor(data(), key)
    },
    defineProperty(_, key, descriptor) {
      if (isSpecial(key)) throw new TypeError(`session.${key} cannot be redefined`)
      return Reflect.defineProperty(data(), key, descriptor)
    },
  }) as unknown as Session
  views.set(session, view)
  allViews.add(view)
  return view
}

async function attach(built: Built, req: Request, res: Response): Promise<Session> {
  const session = await built.sessions.get(req as NodeRequest, res as NodeResponse)
  const view = viewOf(built, session, req)
  ;(req as { session?: unknown }).session = view
  return view
}

// ---------------------------------------------------------------------------------------------
// v4

/**
 * next-session 4: configure once, then `await getSession(req, res)` in API routes,
 * `getServerSideProps`, Express, micro or node:http. The session is also put on `req.session`.
 * A store failure rejects with `SessionError` `STORE_ERROR`.
 */
export default function nextSession<T extends SessionRecord = SessionRecord>(
  options?: Options,
): (req: IncomingMessage, res: ServerResponse) => Promise<Session<T>> {
  const built = build(options, 4)
  return (req, res) => attach(built, req, res) as Promise<Session<T>>
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

function isNodeRequest(value: unknown): value is Request {
  return isObject(value) && isObject(value.headers) && typeof value.headers.get !== 'function'
}
function isNodeResponse(value: unknown): value is Response {
  return isObject(value) && typeof value.setHeader === 'function' && typeof value.getHeader === 'function'
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
          if (isNodeRequest(ctx?.req) && isNodeResponse(ctx?.res)) await applyWith(built(), ctx.req, ctx.res)
          return original.call(handler, ctx)
        }
      : undefined
  const name = (handler as { displayName?: string }).displayName || handler.name || 'Component'
  return new Proxy(handler, {
    apply(target, thisArg, args: unknown[]) {
      const [a, b] = args
      if (isNodeRequest(a) && isNodeResponse(b)) return applyWith(built(), a, b).then(() => Reflect.apply(target, thisArg, args))
      if (isObject(a) && isNodeRequest(a.req) && isNodeResponse(a.res)) {
        return applyWith(built(), a.req, a.res).then(() => Reflect.apply(target, thisArg, args))
      }
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

/**
 * Wraps an express-session (callback) store in next-session's promise contract. The result works
 * with next-session and with this entry (which then uses the callback store directly).
 */
export function promisifyStore(connectStore: any): SessionStore {
  if (!isObject(connectStore) || ['get', 'set', 'destroy'].some((m) => typeof connectStore[m] !== 'function')) {
    throw new TypeError('promisifyStore needs an express-session store (with get, set and destroy)')
  }
  const method = (name: string) => promisify(connectStore[name] as (...args: any[]) => void).bind(connectStore)
  const store: SessionStore = {
    get: method('get') as SessionStore['get'],
    set: method('set') as SessionStore['set'],
    destroy: method('destroy') as SessionStore['destroy'],
    ...(typeof connectStore.touch === 'function' ? { touch: method('touch') as NonNullable<SessionStore['touch']> } : {}),
  }
  Object.defineProperty(store, CONNECT_STORE, { value: connectStore, enumerable: false })
  return store
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

export { MemoryStore, Store, SessionError }

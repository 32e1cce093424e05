/**
 * Drop-in entry for apps on `iron-session` (v8, and v6's wrappers): change the import, keep the code.
 *
 * - v8: `getIronSession(req, res, options)`, `getIronSession(cookies(), options)`,
 *   `getIronSession(request, response, options)`, `sealData`, `unsealData`.
 * - v6: `withIronSessionApiRoute`, `withIronSessionSsr`, `ironSession` (Express middleware).
 *
 * A thin layer over Tessera: each options object maps onto one `createSessions` with a
 * `CookieStore` (cached, so keys are derived once), and the session object is a view of the
 * Tessera session's data plus `save()`, `destroy()` and `updateConfig()`. Cookies iron-session
 * sealed (`Fe26.2*…`) open through the store's `iron` option, so users stay logged in; the next
 * `save()` re-seals them in Tessera's format (or, with `sealFormat: 'iron'`, in iron's, which the
 * real iron-session opens too: for a gradual rollout). Unlike iron-session, a tampered, foreign or
 * expired cookie gives an empty session, never an exception.
 *
 * @example
 * import { getIronSession } from 'tessera/compat/iron-session' // was: from 'iron-session'
 * const session = await getIronSession<{ user?: string }>(req, res, { cookieName: 'app', password })
 * session.user = 'alice'
 * await session.save()
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { CookieStoreLike, NodeRequest, NodeResponse, RequestLike, ResponseLike } from '../core/frameworks.js'
import { ironSeal, ironUnseal } from '../core/iron.js'
import type { SessionCookieOptions, SessionsOptions } from '../core/options.js'
import type { Session as CoreSession } from '../core/session.js'
import { createSessions, type Sessions } from '../index.js'
import type { SessionRecord } from '../core/types.js'
import { CookieStore } from '../stores/cookie-store.js'

// ---------------------------------------------------------------------------------------------
// Types: iron-session 8's published shapes

export type Password = string | Record<string, string>

/** Cookie attributes, as iron-session passes them to the `cookie` library. `maxAge` is in seconds. */
export interface CookieOptions {
  domain?: string
  path?: string
  httpOnly?: boolean
  /** Unset: Tessera's `'auto'` (Secure over HTTPS and in production); `true`: always; `false`: never. */
  secure?: boolean
  sameSite?: boolean | 'lax' | 'strict' | 'none'
  /** Seconds. Explicitly `undefined`: a browser-session cookie and no expiry (iron-session's rule). */
  maxAge?: number
  partitioned?: boolean
  /** Accepted for type compatibility; Tessera sets the expiry from `maxAge`/`ttl`. */
  expires?: Date
  priority?: 'low' | 'medium' | 'high'
}

export interface SessionOptions {
  cookieName: string
  /** A password of 32+ characters, or `{ 1: old, 2: new }`: the highest id seals, all open. */
  password: Password
  /** Seconds the session is valid after a save. 0: no expiry. @default 1209600 (14 days) */
  ttl?: number
  cookieOptions?: CookieOptions
  /**
   * Tessera: the format new cookies are sealed in. `'tessera'` (default): Tessera's `t1.` seal.
   * `'iron'`: iron-session's `Fe26.2*…~2`, which the real iron-session opens, for apps that roll
   * Tessera out gradually (some servers still on iron-session).
   */
  sealFormat?: 'tessera' | 'iron'
}

export type IronSession<T> = T & {
  /** Seals the data and sets the cookie. */
  readonly save: () => Promise<void>
  /** Empties the data and expires the cookie. Returns a promise: await it before the response leaves. */
  readonly destroy: () => Promise<void>
  /** Options for the next `save()` (a longer ttl for "remember me"). */
  readonly updateConfig: (newSessionOptions: SessionOptions) => void
}

type Data = Record<string, unknown>
type NodeReq = IncomingMessage | NodeRequest
type NodeRes = ServerResponse | NodeResponse

// ---------------------------------------------------------------------------------------------
// Options onto createSessions, once per options

const DAY = 86_400
const DEFAULT_TTL = 14 * DAY
/** Tessera needs an expiry; iron-session's `ttl: 0` ("never") becomes the cookie's longest Max-Age. */
const NO_EXPIRY = 2_147_483_647

interface Built {
  sessions: Sessions<Data>
  name: string
}

function usage(problem: string): never {
  throw new Error(`iron-session: Bad usage. ${problem}`)
}

function passwordMap(password: Password): Record<string, string> {
  const map: Record<string, string> = typeof password === 'string' ? { 1: password } : { ...password }
  if (Object.keys(map).length === 0) usage('Missing password.')
  if (Object.values(map).some((p) => typeof p !== 'string' || p.length < 32)) usage('Password must be at least 32 characters long.')
  return map
}

/**
 * Tessera's secrets: the passwords themselves, newest (highest id) first, so it seals and the
 * rest still open. The keys stay apart from iron's: Tessera derives AES-GCM keys with HKDF-SHA-256
 * under its own info string, iron AES-CBC and HMAC keys with salted PBKDF2-SHA-1. So the native API
 * takes the same value: `createSessions({ secrets: password, ... })` opens what this entry sealed.
 */
export function secretsOf(password: Password): string[] {
  const map = passwordMap(password)
  return Object.keys(map)
    .sort((a, b) => Number(b) - Number(a))
    .map((id) => map[id]!)
}

function sameSiteOf(value: CookieOptions['sameSite']): SessionCookieOptions['sameSite'] {
  if (value === undefined || value === false) return 'lax'
  if (value === true) return 'strict'
  return value
}

/** CookieStore whose seals are iron-session's (`sealFormat: 'iron'`); it still opens both. */
class IronFormatStore extends CookieStore {
  readonly #password: Record<string, string>
  constructor(password: Record<string, string>) {
    super({ iron: { password } })
    this.#password = password
  }
  override async seal(_id: string, record: SessionRecord): Promise<string> {
    const ttlSec = Math.max(1, Math.ceil((record.expiresAt - Date.now()) / 1000))
    return ironSeal(record.data, this.#password, { ttlSec })
  }
}

function build(options: SessionOptions): Built {
  if (typeof options !== 'object' || options === null) usage('Missing options.')
  if (!options.cookieName) usage('Missing cookie name.')
  if (!options.password) usage('Missing password.')
  const password = passwordMap(options.password)
  const cookie = options.cookieOptions ?? {}
  const ttlOption = options.ttl ?? DEFAULT_TTL
  if (typeof ttlOption !== 'number' || !Number.isFinite(ttlOption) || ttlOption < 0) usage(`ttl must be a number of seconds ≥ 0, got ${JSON.stringify(options.ttl)}`)
  // iron-session: `cookieOptions: { maxAge: undefined }` is a browser-session cookie with no expiry.
  const sessionCookie = 'maxAge' in cookie && cookie.maxAge === undefined
  let ttl = sessionCookie || ttlOption === 0 ? NO_EXPIRY : ttlOption
  // An explicit maxAge shorter than ttl: the session ends with the cookie (iron's seal would outlive it).
  if (typeof cookie.maxAge === 'number' && cookie.maxAge > 0) ttl = Math.min(ttl, cookie.maxAge)
  const store = options.sealFormat === 'iron' ? new IronFormatStore(password) : new CookieStore({ iron: { password } })
  const core: SessionsOptions = {
    store,
    secrets: secretsOf(password),
    name: options.cookieName,
    ttl,
    // As iron-session: the expiry moves on save() only, never on a mere read.
    touchAfter: ttl,
    rolling: true,
    autoCommit: false,
    cookie: {
      httpOnly: cookie.httpOnly ?? true,
      secure: cookie.secure ?? 'auto',
      sameSite: sameSiteOf(cookie.sameSite),
      path: cookie.path ?? '/',
      domain: cookie.domain,
      partitioned: cookie.partitioned ?? false,
      persistent: !sessionCookie,
    },
  }
  return { sessions: createSessions<Data>(core), name: options.cookieName }
}

const byObject = new WeakMap<object, Built>()
const byKey = new Map<string, Built>()
const MAX_KEYS = 100

/** One Tessera instance per options object, and per distinct options (a literal per request). */
function built(options: SessionOptions): Built {
  if (typeof options !== 'object' || options === null) usage('Missing options.')
  const cached = byObject.get(options)
  if (cached) return cached
  const key = JSON.stringify([options.cookieName, options.password, options.ttl, options.cookieOptions, 'maxAge' in (options.cookieOptions ?? {}), options.sealFormat])
  let result = byKey.get(key)
  if (!result) {
    result = build(options)
    if (byKey.size >= MAX_KEYS) byKey.clear()
    byKey.set(key, result)
  }
  byObject.set(options, result)
  return result
}

// ---------------------------------------------------------------------------------------------
// The session object: the data itself plus save/destroy/updateConfig

type Where = [cookies: CookieStoreLike] | [req: NodeReq, res: NodeRes] | [request: RequestLike, response: ResponseLike]

const METHODS = new Set<PropertyKey>(['save', 'destroy', 'updateConfig'])

function viewOf(first: Built, initial: CoreSession<Data>, where: Where): IronSession<Data> {
  let config = first
  let session = initial

  const methods = {
    async save(): Promise<void> {
      const response = where[1] as { headersSent?: boolean } | undefined
      if (response?.headersSent) {
        throw new Error('iron-session: Cannot set session cookie: session.save() was called after headers were sent. Make sure to call it before any res.send() or res.end()')
      }
      if (config.sessions !== first.sessions && session === initial) {
        // updateConfig(): the same data, written under the new options.
        const next = await config.sessions.get(...(where as [NodeRequest, NodeResponse]))
        next.data = { ...(session.data as Data) }
        session = next
      }
      session.touch()
      await session.commit()
    },
    async destroy(): Promise<void> {
      // Clears the cookie now; an empty session takes its place, so a later save() works.
      await session.restart()
    },
    updateConfig(newSessionOptions: SessionOptions): void {
      config = built(newSessionOptions)
    },
  }
  const data = () => session.data as Data
  const isMethod = (key: PropertyKey): key is keyof typeof methods => METHODS.has(key)

  return new Proxy({} as Data, {
    get(_, key) {
      if (isMethod(key)) return methods[key]
      return Reflect.get(data(), key)
    },
    set(_, key, value) {
      if (isMethod(key)) throw new TypeError(`session.${String(key)} cannot be assigned`)
      return Reflect.set(data(), key, value)
    },
    deleteProperty(_, key) {
      if (isMethod(key)) return false
      return Reflect.deleteProperty(data(), key)
    },
    has(_, key) {
      return isMethod(key) || Reflect.has(data(), key)
    },
    // Like iron-session's non-enumerable methods: Object.keys and JSON see only the data.
    ownKeys() {
      return Reflect.ownKeys(data())
    },
    getOwnPropertyDescriptor(_, key) {
      const descriptor = Reflect.getOwnPropertyDescriptor(data(), key)
      return descriptor && { ...descriptor, configurable: true }
    },
    defineProperty(_, key, descriptor) {
      if (isMethod(key)) return false
      return Reflect.defineProperty(data(), key, descriptor)
    },
  }) as IronSession<Data>
}

// ---------------------------------------------------------------------------------------------
// v8

/**
 * The session of this request: `(req, res, options)` on node:http and Pages API routes,
 * `(request, response, options)` with Web objects (middleware), `(await cookies(), options)` in
 * the App Router. Change it, then `await session.save()`.
 */
export async function getIronSession<T extends object>(cookies: CookieStoreLike, sessionOptions: SessionOptions): Promise<IronSession<T>>
export async function getIronSession<T extends object>(
  req: IncomingMessage | Request,
  res: Response | ServerResponse,
  sessionOptions: SessionOptions,
): Promise<IronSession<T>>
export async function getIronSession<T extends object>(...args: unknown[]): Promise<IronSession<T>> {
  const badUsage = 'iron-session: Bad usage: use getIronSession(req, res, options) or getIronSession(cookieStore, options).'
  if (!args[0] || !args[1]) throw new Error(badUsage)
  const three = args.length >= 3 && args[2] !== undefined
  const options = (three ? args[2] : args[1]) as SessionOptions
  const where = (three ? [args[0], args[1]] : [args[0]]) as Where
  const config = built(options)
  const session = await config.sessions.get(...(where as [NodeRequest, NodeResponse]))
  return viewOf(config, session, where) as IronSession<T>
}

/** Seals `data` as iron-session's `sealData` does (`Fe26.2*…~2`); iron-session opens it. */
export async function sealData(data: unknown, { password, ttl = DEFAULT_TTL }: { password: Password; ttl?: number }): Promise<string> {
  return ironSeal(data, password, { ttlSec: ttl })
}

/**
 * Opens a seal from `sealData` (this one's or iron-session's). Anything that does not open
 * (tampered, expired, another password, not a seal) gives `{}`, never an exception.
 */
export async function unsealData<T>(seal: string, { password }: { password: Password; ttl?: number }): Promise<T> {
  const map = typeof password === 'string' ? { 1: password } : password
  const value = await ironUnseal(seal, map)
  if (typeof value !== 'object' || value === null) return {} as T
  // iron-session's token version 2 holds the data itself; older (v6/v7) seals hold `{ persistent }`.
  if (typeof seal === 'string' && seal.endsWith('~2')) return value as T
  const persistent = (value as { persistent?: unknown }).persistent
  return { ...(typeof persistent === 'object' && persistent !== null ? persistent : {}) } as T
}

// ---------------------------------------------------------------------------------------------
// v6

async function attach(req: NodeReq, res: NodeRes, options: SessionOptions): Promise<void> {
  ;(req as { session?: unknown }).session = await getIronSession(req as IncomingMessage, res as ServerResponse, options)
}

/** iron-session 6: wraps an API route so `req.session` is there. */
export function withIronSessionApiRoute<H extends (req: any, res: any) => unknown>(handler: H, options: SessionOptions): H {
  built(options) // bad options fail at import, not at the first request
  return (async (req: NodeReq, res: NodeRes) => {
    await attach(req, res, options)
    return handler(req, res)
  }) as unknown as H
}

/** iron-session 6: wraps `getServerSideProps` so `context.req.session` is there. */
export function withIronSessionSsr<H extends (context: any) => unknown>(handler: H, options: SessionOptions): H {
  built(options)
  return (async (context: { req: NodeReq; res: NodeRes }) => {
    await attach(context.req, context.res, options)
    return handler(context)
  }) as unknown as H
}

/** iron-session 6: Express/Connect middleware putting the session on `req.session`. */
export function ironSession(options: SessionOptions): (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void {
  built(options)
  return (req, res, next) => {
    attach(req, res, options).then(() => next(), next)
  }
}

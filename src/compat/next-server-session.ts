/**
 * Drop-in entry for apps on `next-server-session`: change the import, keep the code.
 *
 * Every function maps onto one Tessera call: `getSessionData` → `sessions.read`,
 * `setSessionData` → `sessions.merge` (only the changed keys reach the store, so concurrent
 * requests changing different keys all survive), `replaceSessionData` → `sessions.replace`,
 * `pluckSessionProperty` → `sessions.pluck`, `destroySession` → `sessions.destroy`, and the CSRF
 * pair → `csrfToken` / `verifyCsrfToken` from `tessera/csrf`. Each takes a `getServerSideProps`
 * context or an API route's `(req, res)`.
 *
 * @example
 * // next.config.js (or any module loaded once on the server)
 * require('tessera/compat/next-server-session').configure() // was: require('next-server-session')
 *
 * // pages/api/cart.js
 * import { getSessionData, setSessionData } from 'tessera/compat/next-server-session'
 * export default async function handler(req, res) {
 *   const { cart = {} } = await getSessionData(req, res)
 *   await setSessionData(req, res, { cart: { ...cart, [req.body.article]: 1 } })
 *   res.end('ok')
 * }
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { NodeRequest, NodeResponse } from '../core/frameworks.js'
import { SessionError } from '../core/errors.js'
import { generateId } from '../core/id.js'
import type { SessionCookieOptions } from '../core/options.js'
import { createSessions, type Sessions } from '../index.js'
import type { SessionRecord, SessionStore as TesseraStore } from '../core/types.js'
import { CSRF_SESSION_KEY, csrfToken, verifyCsrfToken } from '../csrf.js'
import { MemoryStore } from '../stores/memory-store.js'
import { RedisStore, type RedisClientLike } from '../redis.js'

// ---------------------------------------------------------------------------------------------
// Types

/** next-server-session's store contract: data only; the store decides how long it keeps it. */
export interface SessionStore {
  id: () => Promise<string>
  get: (sessionId: string) => Promise<any | null>
  set: (sessionId: string, data: any) => Promise<void>
  merge: (sessionId: string, data: any) => Promise<void>
  destroy: (sessionId: string) => Promise<any>
}

/** What `createCookieHandler()` returns; pass it to `configure({ cookieHandler })`. */
export interface CookieHandler {
  /** The cookie name. */
  readonly name: string
}

/** Options of {@link configure}. */
export interface SessionConfig {
  /**
   * From `createMemorySessionStore()` / `createRedisSessionStore()`, your own store implementing
   * {@link SessionStore}, or any Tessera store (`RedisStore`, `PostgresStore`, ...).
   * @default createMemorySessionStore()
   */
  sessionStore?: SessionStore | TesseraStore
  /** From `createCookieHandler()`. @default createCookieHandler() */
  cookieHandler?: CookieHandler
  /**
   * Milliseconds a session lives after its last use. Defaults to what the store was created with
   * (`createMemorySessionStore(ms)`), else 30 minutes.
   */
  sessionMaxAgeMS?: number
}

/** A `getServerSideProps` context (or anything with the request and its response). */
export interface Context {
  req: IncomingMessage
  res: ServerResponse
}

/** Options of {@link validateCSRFToken}. */
export interface ValidateOptions {
  /** Replace the token after a successful check, so each token works once. @default false */
  singleUse?: boolean
}

const DEFAULT_MAX_AGE_MS = 30 * 60 * 1000
const NATIVE = Symbol('tessera.compat.next-server-session')

interface NativeStore {
  store: TesseraStore
  /** Milliseconds. */
  maxAge: number
}
interface NativeCookie {
  name: string
  cookie: SessionCookieOptions
}

function isObject(value: unknown): value is Record<PropertyKey, any> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null
}

function maxAgeOf(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 1000) {
    throw new TypeError(`${what} must be a number of milliseconds ≥ 1000, got ${JSON.stringify(value)}`)
  }
  return value
}

// ---------------------------------------------------------------------------------------------
// Stores

/** next-server-session's store methods over a Tessera store, for code that calls the store itself. */
function facade(store: TesseraStore, maxAge: number): SessionStore & { [NATIVE]: NativeStore } {
  const record = (data: Record<string, unknown>): SessionRecord => {
    const now = Date.now()
    return { data, createdAt: now, expiresAt: now + maxAge }
  }
  return {
    id: async () => generateId(),
    get: async (sessionId) => (await store.get(sessionId))?.data ?? null,
    set: async (sessionId, data) => store.set(sessionId, record({ ...data })),
    async merge(sessionId, data) {
      const existing = await store.get(sessionId)
      if (existing && store.patch) return store.patch(sessionId, { set: { ...data }, unset: [] }, Date.now() + maxAge)
      return store.set(sessionId, record({ ...existing?.data, ...data }))
    },
    destroy: async (sessionId) => store.destroy(sessionId),
    [NATIVE]: { store, maxAge },
  }
}

/**
 * A store your app implemented for next-server-session, adapted to Tessera's store contract.
 * It keeps data only, so expiry stays the store's own business: what it returns is alive.
 */
function fromPeerStore(peer: SessionStore, maxAge: number): TesseraStore {
  const live = (data: Record<string, unknown>): SessionRecord => {
    const now = Date.now()
    return { data: structuredClone(data), createdAt: now, expiresAt: now + maxAge }
  }
  return {
    async get(id) {
      const data: unknown = await peer.get(id)
      return isObject(data) ? live(data) : undefined
    },
    async set(id, record) {
      if (record.expiresAt <= Date.now()) return void (await peer.destroy(id))
      await peer.set(id, structuredClone(record.data))
    },
    async destroy(id) {
      await peer.destroy(id)
    },
    async patch(id, { set, unset }) {
      const current: unknown = await peer.get(id)
      if (!isObject(current)) return // never bring a destroyed session back
      if (unset.length === 0) return peer.merge(id, structuredClone(set))
      const next: Record<string, unknown> = { ...current, ...structuredClone(set) }
      for (const key of unset) delete next[key]
      await peer.set(id, next)
    },
  }
}

/**
 * The in-memory store: sessions live `maxSessionAgeMS` after their last use (30 minutes by
 * default). Tessera's `MemoryStore` underneath: copies, a timer that frees expired sessions
 * without keeping the process alive.
 */
export function createMemorySessionStore(maxSessionAgeMS: number = DEFAULT_MAX_AGE_MS): SessionStore {
  return facade(new MemoryStore(), maxAgeOf(maxSessionAgeMS, 'createMemorySessionStore(maxSessionAgeMS)'))
}

/**
 * The Redis store, on Tessera's `RedisStore`. Pass a host, port and database (the `redis`
 * package is loaded and connected on first use, as next-server-session did), or a connected
 * client (ioredis, or node-redis after `connect()`) as the second argument.
 *
 * Sessions are kept in Tessera's layout, not next-server-session's `sess_<id>` strings: users
 * sign in again once after the switch.
 */
export function createRedisSessionStore(
  maxSessionAgeMS: number = DEFAULT_MAX_AGE_MS,
  host?: string | RedisClientLike,
  port?: number,
  db?: number,
): SessionStore & { close(): Promise<void> } {
  const maxAge = maxAgeOf(maxSessionAgeMS, 'createRedisSessionStore(maxSessionAgeMS)')
  if (isObject(host)) return { ...facade(new RedisStore({ client: host }), maxAge), close: async () => {} }

  type Client = {
    connect(): Promise<unknown>
    on(event: string, listener: (error: unknown) => void): unknown
    close?(): Promise<unknown>
    quit?(): Promise<unknown>
    destroy?(): void
  }
  let client: Client | undefined
  let ready: Promise<RedisStore> | undefined
  const connect = (): Promise<RedisStore> =>
    (ready ??= (async () => {
      const specifier = 'redis'
      let redis: { createClient(options: unknown): Client }
      try {
        redis = await import(/* webpackIgnore: true */ specifier)
      } catch (cause) {
        throw new Error('createRedisSessionStore(maxAge, host, port, db) needs the `redis` package (npm install redis), or pass a connected client instead of a host', { cause })
      }
      let connected = false
      const created = redis.createClient({
        socket: {
          host: host ?? '127.0.0.1',
          port: port ?? 6379,
          connectTimeout: 2000,
          // Once connected, reconnect (commands meanwhile time out as STORE_ERROR); a first
          // connection that fails rejects, and the next use tries again.
          reconnectStrategy: (retries: number, cause: Error) => (connected ? Math.min(50 * 2 ** retries, 2000) : cause),
        },
        database: db ?? 0,
      })
      created.on('error', () => {}) // failures reach callers as STORE_ERROR; never an unhandled 'error' event
      try {
        await created.connect()
      } catch (error) {
        try {
          created.destroy?.()
        } catch {
          // already closed by the failed connection
        }
        throw error
      }
      connected = true
      client = created
      return new RedisStore({ client: created as unknown as RedisClientLike })
    })().catch((error: unknown) => {
      ready = undefined // the next use tries again
      throw error
    }))

  const lazy: TesseraStore = {
    get: async (id) => (await connect()).get(id),
    set: async (id, record) => (await connect()).set(id, record),
    destroy: async (id) => (await connect()).destroy(id),
    patch: async (id, changes, expiresAt) => (await connect()).patch(id, changes, expiresAt),
    touch: async (id, expiresAt) => (await connect()).touch(id, expiresAt),
  }
  return {
    ...facade(lazy, maxAge),
    async close() {
      const current = client
      ready = undefined
      client = undefined
      if (current) await (current.close ?? current.quit)?.call(current)
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Cookie handler

const DEFAULT_COOKIE_CONFIG = Object.freeze({ httpOnly: true, sameSite: true, path: '/', secure: false })

/**
 * The session cookie's name (`nextSession` by default) and settings, in the `cookie` package's
 * terms: `httpOnly`, `sameSite` (`true` = `Strict`), `path`, `domain`, `secure`, `partitioned`,
 * `maxAge`/`expires` (any of them makes the cookie persistent; its lifetime is the session's).
 * Settings left out take Tessera's defaults (`HttpOnly`, `SameSite=Lax`, `Secure` over HTTPS).
 */
export function createCookieHandler(cookieName: string = 'nextSession', cookieConfig?: Record<string, any>): CookieHandler {
  const defaults = cookieConfig === undefined
  const config: Record<string, any> = cookieConfig ?? DEFAULT_COOKIE_CONFIG
  if (typeof cookieName !== 'string') throw new TypeError(`createCookieHandler(cookieName) must be a string, got ${JSON.stringify(cookieName)}`)
  if (!isObject(config)) throw new TypeError('createCookieHandler(name, cookieConfig) needs an object of cookie options')
  if (config.encode !== undefined) throw new TypeError('createCookieHandler: cookieConfig.encode is not supported (session ids are URL-safe already)')
  const { sameSite } = config
  const cookie: SessionCookieOptions = {
    httpOnly: config.httpOnly ?? true,
    path: config.path ?? '/',
    // next-server-session's default `secure: false` was a placeholder: Tessera sets Secure over HTTPS.
    secure: defaults || config.secure === undefined ? 'auto' : Boolean(config.secure),
    persistent: config.maxAge !== undefined || config.expires !== undefined,
  }
  if (config.domain !== undefined) cookie.domain = config.domain
  if (config.partitioned !== undefined) cookie.partitioned = Boolean(config.partitioned)
  if (sameSite === true) cookie.sameSite = 'strict'
  else if (typeof sameSite === 'string') cookie.sameSite = sameSite.toLowerCase() as SessionCookieOptions['sameSite']
  const native: NativeCookie = { name: cookieName, cookie }
  return Object.freeze({ name: cookieName, [NATIVE]: native })
}

// ---------------------------------------------------------------------------------------------
// configure: one Tessera instance for the whole process

// Kept on globalThis: next.config.js and the pages may load this module separately (bundles,
// ESM and CommonJS copies), and configure() must reach all of them.
const STATE = Symbol.for('tessera.compat.next-server-session')
type Holder = { [STATE]?: Sessions<Record<string, any>> }

function build(config: SessionConfig): Sessions<Record<string, any>> {
  if (!isObject(config)) throw new TypeError('configure(config) takes an object: { sessionStore, cookieHandler }')
  const { cookieHandler, sessionMaxAgeMS } = config
  const sessionStore = config.sessionStore as unknown
  if (sessionMaxAgeMS !== undefined) maxAgeOf(sessionMaxAgeMS, 'configure({ sessionMaxAgeMS })')

  let store: TesseraStore
  let maxAge: number
  if (sessionStore === undefined) {
    ;({ store, maxAge } = (createMemorySessionStore(sessionMaxAgeMS) as unknown as { [NATIVE]: NativeStore })[NATIVE])
  } else if (isObject(sessionStore) && sessionStore[NATIVE]) {
    const native = sessionStore[NATIVE] as NativeStore
    store = native.store
    maxAge = sessionMaxAgeMS ?? native.maxAge
  } else if (isObject(sessionStore) && ['get', 'set', 'merge', 'destroy'].every((m) => typeof sessionStore[m] === 'function')) {
    maxAge = sessionMaxAgeMS ?? DEFAULT_MAX_AGE_MS
    store = fromPeerStore(sessionStore as SessionStore, maxAge)
  } else if (isObject(sessionStore) && ['get', 'set', 'destroy'].every((m) => typeof sessionStore[m] === 'function')) {
    maxAge = sessionMaxAgeMS ?? DEFAULT_MAX_AGE_MS
    store = sessionStore as TesseraStore
  } else {
    throw new TypeError('configure({ sessionStore }) needs a store with id, get, set, merge and destroy (or a Tessera store)')
  }

  const handler = cookieHandler ?? createCookieHandler()
  const cookie = isObject(handler) ? ((handler as unknown as Record<symbol, unknown>)[NATIVE] as NativeCookie | undefined) : undefined
  if (!cookie) throw new TypeError('configure({ cookieHandler }) takes what createCookieHandler(name, cookieConfig) returns')

  return createSessions<Record<string, any>>({ store, name: cookie.name, ttl: maxAge / 1000, cookie: cookie.cookie })
}

/**
 * Sets up sessions once, on server start. Without arguments: in memory, 30 minutes after the
 * last use, cookie `nextSession`. Calling any other function first configures the defaults.
 */
export function configure(config: SessionConfig = {}): void {
  ;(globalThis as Holder)[STATE] = build(config)
}

function sessions(): Sessions<Record<string, any>> {
  return ((globalThis as Holder)[STATE] ??= build({}))
}

// ---------------------------------------------------------------------------------------------
// The calling forms: (context, ...rest) or (req, res, ...rest)

function isNodeRequest(value: unknown): value is NodeRequest {
  return isObject(value) && isObject(value.headers) && typeof value.headers.get !== 'function'
}
function isNodeResponse(value: unknown): value is NodeResponse {
  return isObject(value) && typeof value.setHeader === 'function' && typeof value.getHeader === 'function'
}

function split(args: readonly unknown[]): [{ req: NodeRequest; res: NodeResponse }, unknown[]] {
  const [a, b] = args
  if (isObject(a) && isNodeRequest(a.req) && isNodeResponse(a.res)) return [{ req: a.req, res: a.res }, args.slice(1)]
  if (isNodeRequest(a) && isNodeResponse(b)) return [{ req: a, res: b }, args.slice(2)]
  throw new TypeError('Either pass a GetServerSidePropsContext as first argument, OR NextApiRequest and NextApiResponse as first and second argument.')
}

// ---------------------------------------------------------------------------------------------
// The API

/**
 * The session data, or `{}` when there is none. Establishes no session and sets no cookie (it
 * does refresh an existing session's expiry when a refresh is due).
 */
export async function getSessionData<T = any>(context: Context): Promise<T>
export async function getSessionData<T = any>(req: IncomingMessage, res: ServerResponse): Promise<T>
export async function getSessionData(...args: unknown[]): Promise<unknown> {
  const [ctx] = split(args)
  const all = sessions()
  await all.get(ctx) // the same load read() uses; commits itself, so an active session's expiry moves
  const data = await all.read(ctx)
  if (!data) return {}
  const copy = structuredClone(data) as Record<string, unknown>
  delete copy[CSRF_SESSION_KEY]
  return copy
}

function dataArgument(rest: unknown[]): Record<string, unknown> {
  const data = rest[0]
  if (data === undefined) throw new Error('No session data given')
  if (!isObject(data) || Array.isArray(data)) throw new TypeError('Session data must be an object')
  return data
}

/** Merges `data` into the session (only its keys change), creating the session and its cookie when needed. */
export async function setSessionData<T>(context: Context, data: T): Promise<void>
export async function setSessionData<T>(req: IncomingMessage, res: ServerResponse, data: T): Promise<void>
export async function setSessionData(...args: unknown[]): Promise<void> {
  const [ctx, rest] = split(args)
  await sessions().merge(ctx, dataArgument(rest))
}

/** Replaces all session data with `data`. */
export async function replaceSessionData<T>(context: Context, data: T): Promise<void>
export async function replaceSessionData<T>(req: IncomingMessage, res: ServerResponse, data: T): Promise<void>
export async function replaceSessionData(...args: unknown[]): Promise<void> {
  const [ctx, rest] = split(args)
  await sessions().replace(ctx, { ...dataArgument(rest) })
}

/** Removes `propertyName` from the session and returns its value, or `null` when it was not there. */
export async function pluckSessionProperty<T = any>(context: Context, propertyName: string): Promise<T | null>
export async function pluckSessionProperty<T = any>(req: IncomingMessage, res: ServerResponse, propertyName: string): Promise<T | null>
export async function pluckSessionProperty(...args: unknown[]): Promise<unknown> {
  const [ctx, rest] = split(args)
  const name = rest[0]
  if (!name || typeof name !== 'string') throw new Error('No propertyName given')
  const value = await sessions().pluck(ctx, name)
  return value === undefined ? null : value
}

/** Removes the session from the store and expires its cookie. */
export async function destroySession(context: Context): Promise<void>
export async function destroySession(req: IncomingMessage, res: ServerResponse): Promise<void>
export async function destroySession(...args: unknown[]): Promise<void> {
  const [ctx] = split(args)
  await sessions().destroy(ctx)
}

/**
 * The session's CSRF token (32 random bytes), created and saved when the session has none. Put
 * it in forms and requests; check it with {@link validateCSRFToken}.
 */
export async function getCSRFToken(context: Context): Promise<string>
export async function getCSRFToken(req: IncomingMessage, res: ServerResponse): Promise<string>
export async function getCSRFToken(...args: unknown[]): Promise<string> {
  const [ctx] = split(args)
  const session = await sessions().get(ctx)
  const token = csrfToken(session)
  await session.commit()
  return token
}

/**
 * Whether `token` is the session's CSRF token (constant-time). `false` when the session has no
 * token or none was given. A wrong guess leaves the real token in place; with
 * `{ singleUse: true }` a correct one is replaced, so it works once.
 */
export async function validateCSRFToken(context: Context, token: unknown, options?: ValidateOptions): Promise<boolean>
export async function validateCSRFToken(req: IncomingMessage, res: ServerResponse, token: unknown, options?: ValidateOptions): Promise<boolean>
export async function validateCSRFToken(...args: unknown[]): Promise<boolean> {
  const [ctx, rest] = split(args)
  const [token, options] = rest as [unknown, ValidateOptions | undefined]
  const singleUse = options?.singleUse === true
  const session = await sessions().get(ctx)
  const result = verifyCsrfToken(session, token, { singleUse })
  if (result.ok && singleUse) await session.commit()
  return result.ok
}

export { SessionError }

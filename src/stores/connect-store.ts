import { isObject, setOwn } from '../core/plain.js'
import type { SessionRecord, SessionStore } from '../core/types.js'
import { Deadlines, operationTimeoutMs } from './deadline.js'

/** A Node-style callback, as connect stores take it. */
export type Callback<T = unknown> = (error?: unknown, value?: T) => void

/**
 * An express-session store (connect-redis, connect-pg-simple, connect-mongo, memorystore, ...):
 * the callback methods Tessera uses.
 */
export interface ConnectStoreLike {
  get(sid: string, callback: Callback<any>): unknown
  set(sid: string, session: any, callback: Callback): unknown
  destroy(sid: string, callback: Callback): unknown
  touch?(sid: string, session: any, callback: Callback): unknown
}

/** The cookie express-session keeps inside each session, as Tessera writes it. */
export interface ConnectSessionCookie {
  originalMaxAge: number | null
  expires: Date | string | null
  maxAge?: number
  httpOnly?: boolean
  path?: string
  domain?: string
  secure?: boolean
  sameSite?: boolean | 'lax' | 'strict' | 'none'
}

/** Options of {@link fromConnectStore}. */
export interface ConnectStoreOptions {
  /**
   * Seconds a session written by express-session is assumed to live from now when its cookie
   * tells nothing useful: no expiry (a browser-session cookie), or an expiry that has passed
   * while the store still holds it (a store's `touch` moves only its own TTL, never the stored
   * cookie). Tessera's first commit then rewrites it with an exact expiry. @default 86400
   */
  ttl?: number
  /**
   * Cookie attributes written into the stored session's `cookie` (for stores and apps that read
   * them, or a later move back to express-session). @default { path: '/', httpOnly: true }
   */
  cookie?: Pick<ConnectSessionCookie, 'path' | 'httpOnly' | 'domain' | 'secure' | 'sameSite'>
  /**
   * Seconds to wait for the store to call back. Past it the operation rejects (the core answers
   * with a `SessionError` `STORE_ERROR`, "timed out") and a later callback is ignored; a store
   * that never calls back no longer hangs the request. The store may still finish the operation
   * afterwards. @default 2
   */
  operationTimeout?: number
}

/** Where Tessera keeps what express-session has no field for. */
const RESERVED = '__tessera'
interface Reserved {
  /** createdAt, ms */
  c: number
  /** expiresAt, ms: exact (stores round their TTL to seconds) */
  e: number
  /** userId */
  u?: string
  /** Data keys named like a reserved key (`cookie`, `__tessera`), kept here so nothing is lost. */
  k?: Record<string, unknown>
}

function call<T>(run: (callback: Callback<T>) => unknown): Promise<T | undefined> {
  return new Promise<T | undefined>((resolve, reject) => {
    let settled = false
    const callback: Callback<T> = (error, value) => {
      if (settled) return
      settled = true
      if (error) reject(error instanceof Error ? error : new Error(String(error)))
      else resolve(value)
    }
    try {
      const returned = run(callback)
      // Some stores also return a promise; its rejection is the callback's error, never unhandled.
      if (returned && typeof (returned as Promise<unknown>).then === 'function') (returned as Promise<unknown>).then(undefined, callback)
    } catch (error) {
      callback(error)
    }
  })
}

/** The expiry (ms) an express-session session's `cookie` states, if it states a valid one. */
export function cookieExpiry(cookie: unknown): number | undefined {
  if (!isObject(cookie)) return undefined
  const { expires, _expires } = cookie as { expires?: unknown; _expires?: unknown }
  const value = expires ?? _expires
  if (value === null || value === undefined || value === false) return undefined
  const ms = value instanceof Date ? value.getTime() : typeof value === 'string' || typeof value === 'number' ? new Date(value).getTime() : NaN
  return Number.isFinite(ms) ? ms : undefined
}

/**
 * Turns an express-session store into a Tessera store, so an app moves to Tessera on the
 * sessions it already has (cookies signed by express-session keep working when `secrets` holds
 * the same secret and `name` is `connect.sid`).
 *
 * What the store gets looks like an express-session session: the data's top-level keys plus a
 * `cookie` whose `expires`/`originalMaxAge` match Tessera's expiry, so stores that take their TTL
 * from the cookie expire the session when Tessera does. Connect stores have no partial update:
 * every change rewrites the whole session, and two concurrent requests changing different keys
 * can overwrite each other (last writer wins), and a rotation (the first commit after
 * `regenerate()`) checks that the old session exists with a read before it writes (not atomic). A touch rewrites the whole session too (a connect
 * store's `touch` moves only its own TTL, so the new expiry could not be read back). They keep
 * no per-user index.
 *
 * @example
 * import { createClient } from 'redis'
 * import { RedisStore as ConnectRedis } from 'connect-redis'
 * import { fromConnectStore } from 'tessera/connect'
 * const client = await createClient({ url: process.env.REDIS_URL }).connect()
 * export const sessions = createSessions({
 *   name: 'connect.sid',
 *   secrets: [process.env.SESSION_SECRET!],
 *   store: fromConnectStore(new ConnectRedis({ client })),
 * })
 */
export function fromConnectStore(store: ConnectStoreLike, options: ConnectStoreOptions = {}): SessionStore {
  if (!isObject(store) || ['get', 'set', 'destroy'].some((m) => typeof (store as any)[m] !== 'function')) {
    throw new TypeError('fromConnectStore needs an express-session store (with get, set and destroy)')
  }
  const { ttl = 86_400, cookie: cookieOptions = {}, operationTimeout = 2 } = options
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || !(ttl > 0)) {
    throw new TypeError(`fromConnectStore option ttl must be a number of seconds > 0, got ${JSON.stringify(ttl)}`)
  }
  const deadlines = new Deadlines(operationTimeoutMs('fromConnectStore', operationTimeout), 'The connect store operation')
  const attributes = { path: '/', httpOnly: true, ...cookieOptions }

  const cookieFor = (expiresAt: number, now: number): ConnectSessionCookie => ({
    originalMaxAge: Math.max(0, expiresAt - now),
    expires: new Date(expiresAt),
    ...attributes,
  })

  const adapter: SessionStore = {
    async get(id) {
      const session = await deadlines.run('get', () => call<Record<string, unknown> | null>((cb) => store.get(id, cb)))
      if (!isObject(session)) return undefined
      const now = Date.now()
      const reserved = (isObject(session[RESERVED]) ? session[RESERVED] : {}) as Partial<Reserved>
      let expiresAt: number
      if (typeof reserved.e === 'number' && Number.isFinite(reserved.e)) {
        // Written by Tessera: exact. The store may hold it up to a second longer (TTLs in seconds).
        expiresAt = reserved.e
        if (expiresAt <= now) return undefined
      } else {
        // Written by express-session: the store returned it, so the store considers it alive.
        const fromCookie = cookieExpiry(session.cookie)
        expiresAt = fromCookie !== undefined && fromCookie > now ? fromCookie : now + ttl * 1000
      }
      const data: Record<string, unknown> = {}
      for (const key of Object.keys(session)) {
        if (key === 'cookie' || key === RESERVED) continue
        setOwn(data, key, session[key])
      }
      if (isObject(reserved.k)) for (const key of Object.keys(reserved.k)) setOwn(data, key, reserved.k[key])
      const record: SessionRecord = {
        data: structuredClone(data),
        createdAt: typeof reserved.c === 'number' && Number.isFinite(reserved.c) ? reserved.c : now,
        expiresAt,
      }
      if (typeof reserved.u === 'string') record.userId = reserved.u
      return record
    },

    async set(id, record) {
      const now = Date.now()
      if (record.expiresAt <= now) return adapter.destroy(id)
      const session: Record<string, unknown> = {}
      const reserved: Reserved = { c: record.createdAt, e: record.expiresAt }
      if (record.userId !== undefined) reserved.u = record.userId
      for (const key of Object.keys(record.data)) {
        const value = structuredClone(record.data[key])
        if (key === 'cookie' || key === RESERVED) (reserved.k ??= {})[key] = value
        else setOwn(session, key, value)
      }
      session.cookie = cookieFor(record.expiresAt, now)
      session[RESERVED] = reserved
      await deadlines.run('set', () => call((cb) => store.set(id, session, cb)))
    },

    async destroy(id) {
      await deadlines.run('destroy', () => call((cb) => store.destroy(id, cb)))
    },

    // Review 12: a regenerate() slower than a logout must not bring the session back. A connect
    // store has no conditional write, so this is a read, then a destroy and a set: not atomic. It
    // closes the race when the logout lands before this read (the common case: a slow request),
    // not when it lands between the read and the set.
    async rotate(oldId, newId, record) {
      if (!(await adapter.get(oldId))) return false
      await adapter.destroy(oldId)
      await adapter.set(newId, record)
      return true
    },
  }

  return adapter
}

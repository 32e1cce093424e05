// next-session's stores in Tessera. A next-session store (promise `get/set/destroy` taking
// `(sid, sess)`) or an express-session store (the same with callbacks) keeps each session in
// next-session's record shape: the data's top-level keys plus a `cookie` object. This adapter
// reads that shape and writes it, so a server still on next-session (a rolling deploy, a
// rollback) reads every record Tessera wrote, and the other way round. The one addition,
// `cookie.tessera` (creation time, bound user), sits where next-session carries it along
// unread: it never changes, so it cannot go stale while next-session writes the record. The
// expiry is next-session's own `cookie.expires`, which next-session's touch moves.
import { isObject, setOwn } from '../core/plain.js'
import { TESSERA_STORE, type SessionRecord, type SessionStore } from '../core/types.js'
import { Deadlines, operationTimeoutMs } from './deadline.js'

/** The `cookie` next-session keeps in each record. `maxAge` in seconds; both or neither of `maxAge` and `expires`. */
export interface NextSessionCookie {
  path: string
  httpOnly: boolean
  domain?: string | undefined
  secure: boolean
  sameSite?: boolean | 'lax' | 'strict' | 'none' | undefined
  maxAge?: number
  expires?: Date | string
  /** Tessera's: what next-session's record has no field for. */
  tessera?: { createdAt: number; userId?: string }
}

/**
 * A next-session store: promise methods taking `(sid, sess)`. An express-session store (the
 * same methods with a trailing callback) is taken too.
 */
export interface NextSessionStoreLike {
  get(sid: string): unknown
  set(sid: string, sess: Record<string, unknown> & { cookie: NextSessionCookie }): unknown
  destroy(sid: string): unknown
  touch?(sid: string, sess: Record<string, unknown> & { cookie: NextSessionCookie }): unknown
}

/** Options of {@link fromNextSessionStore}. */
export interface NextSessionStoreOptions {
  /**
   * Seconds a session lives from now when its record states no expiry that is still to come: a
   * browser-session cookie's record (next-session writes no `cookie.expires` then), or one whose
   * stored expiry a store's own `touch` left behind while it kept the session. The store
   * returned it, so the store holds it alive. @default 1209600 (14 days)
   */
  ttl?: number
  /**
   * The cookie next-session writes into each record, as next-session's `cookie` option gives it
   * (`secure` is the option, `false` when unset, as next-session stores it). `maxAge` (seconds)
   * set: persistent cookies, each record gets `maxAge` and `expires`.
   * @default { path: '/', httpOnly: true, secure: false }
   */
  cookie?: { path?: string; httpOnly?: boolean; domain?: string; secure?: boolean; sameSite?: NextSessionCookie['sameSite']; maxAge?: number }
  /** Seconds to wait for the store; past it the operation fails (`STORE_ERROR`). @default 2 */
  operationTimeout?: number
}

type Method = 'get' | 'set' | 'destroy'
/** How many arguments each method takes before an express-session store's callback. */
const ARITY: Record<Method, number> = { get: 1, set: 2, destroy: 1 }
const DAY = 86_400

/**
 * Adapts a next-session store (or an express-session store) to Tessera's store contract,
 * keeping next-session's record shape both ways: `{ ...data, cookie: { path, httpOnly, domain,
 * sameSite, secure, maxAge?, expires?, tessera } }`. Methods are looked up when used, as next-session does:
 * a store without `destroy` works until a session is destroyed (that commit then fails with
 * `STORE_ERROR`).
 *
 * Without `cookie.maxAge` the record states no expiry (next-session writes none for a
 * browser-session cookie): the store decides how long it keeps the session, as with
 * next-session. The store has no partial update, so two requests changing different keys of one
 * session at once are last-writer-wins, as with next-session; and no per-user index.
 *
 * @example
 * import { createSessions } from 'tessera'
 * import { fromNextSessionStore } from 'tessera/compat/next-session'
 * export const sessions = createSessions({ store: fromNextSessionStore(promisifyStore(connectStore)) })
 */
export function fromNextSessionStore(store: NextSessionStoreLike | object, options: NextSessionStoreOptions = {}): SessionStore {
  if (!isObject(store)) throw new TypeError('fromNextSessionStore needs a next-session store (an object with get, set and destroy)')
  const { ttl = 14 * DAY, cookie = {}, operationTimeout = 2 } = options
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || !(ttl > 0)) {
    throw new TypeError(`fromNextSessionStore option ttl must be a number of seconds > 0, got ${JSON.stringify(ttl)}`)
  }
  const maxAge = cookie.maxAge
  if (maxAge !== undefined && (typeof maxAge !== 'number' || !Number.isFinite(maxAge) || maxAge < 0)) {
    throw new TypeError(`fromNextSessionStore option cookie.maxAge must be a number of seconds, got ${JSON.stringify(maxAge)}`)
  }
  const deadlines = new Deadlines(operationTimeoutMs('fromNextSessionStore', operationTimeout), 'The next-session store operation')
  const target = store as Record<string, unknown>

  // One store call: a promise (or a plain value) from a next-session store, a callback from an
  // express-session one (told apart by the callback parameter, as promisify results have none).
  const call = (method: Method, ...args: unknown[]): Promise<unknown> =>
    deadlines.run(method, () => {
      const fn = target[method]
      if (typeof fn !== 'function') return Promise.reject(new TypeError(`The next-session store has no ${method}() method`))
      if (fn.length <= ARITY[method]) return Promise.resolve().then(() => fn.apply(store, args))
      return new Promise((resolve, reject) => {
        fn.apply(store, [...args, (error: unknown, value: unknown) => (error ? reject(error) : resolve(value))])
      })
    })

  // next-session's record cookie, key for key in its order (`domain` and `sameSite` may be undefined).
  const cookieOf = (expiresAt: number): NextSessionCookie => {
    const out: NextSessionCookie = {
      path: cookie.path || '/',
      httpOnly: cookie.httpOnly ?? true,
      domain: cookie.domain || undefined,
      sameSite: cookie.sameSite,
      secure: cookie.secure || false,
    }
    if (maxAge) {
      out.maxAge = maxAge
      out.expires = new Date(expiresAt)
    }
    return out
  }

  const adapter: SessionStore = {
    async get(id) {
      const stored = await call('get', id)
      if (!isObject(stored)) return undefined
      const now = Date.now()
      const stated = expiryOf(stored.cookie)
      const data: Record<string, unknown> = {}
      for (const key of Object.keys(stored)) {
        // `__tessera`: what earlier versions of this adapter kept beside the data; not data.
        if (key !== 'cookie' && key !== '__tessera') setOwn(data, key, stored[key])
      }
      const ours = (isObject(stored.cookie) && isObject(stored.cookie.tessera) ? stored.cookie.tessera : isObject(stored.__tessera) ? { createdAt: stored.__tessera.c, userId: stored.__tessera.u } : {}) as Partial<
        NonNullable<NextSessionCookie['tessera']>
      >
      const record: SessionRecord = {
        data: structuredClone(data),
        createdAt: typeof ours.createdAt === 'number' && Number.isFinite(ours.createdAt) ? ours.createdAt : now,
        // No expiry still to come, yet the store returned it: the store holds it alive (see `ttl`).
        expiresAt: stated !== undefined && stated > now ? stated : now + ttl * 1000,
      }
      if (typeof ours.userId === 'string') record.userId = ours.userId
      return record
    },

    async set(id, record) {
      if (record.expiresAt <= Date.now()) return adapter.destroy(id)
      const session: Record<string, unknown> = {}
      for (const key of Object.keys(record.data)) {
        if (key === 'cookie') throw new TypeError('A next-session record keeps its cookie under "cookie": a data key of that name cannot be stored')
        setOwn(session, key, structuredClone(record.data[key]))
      }
      const cookie = cookieOf(record.expiresAt)
      cookie.tessera = record.userId === undefined ? { createdAt: record.createdAt } : { createdAt: record.createdAt, userId: record.userId }
      session.cookie = cookie
      await call('set', id, session)
    },

    async destroy(id) {
      await call('destroy', id)
    },
  }
  Object.defineProperty(adapter, TESSERA_STORE, { value: true })
  return adapter
}

/** The expiry (ms) a record's `cookie.expires` states: a `Date`, or the string a JSON store makes of it. */
function expiryOf(cookie: unknown): number | undefined {
  if (!isObject(cookie)) return undefined
  const expires = cookie.expires as unknown
  const ms = expires instanceof Date ? expires.getTime() : typeof expires === 'string' || typeof expires === 'number' ? new Date(expires).getTime() : NaN
  return Number.isFinite(ms) ? ms : undefined
}

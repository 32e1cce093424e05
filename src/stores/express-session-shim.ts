// Enough of the express-session module for store factories written as `connectStore(session)`
// (connect-pg-simple, connect-mongo, ...): the `Store` base class they extend, the `Cookie` kept
// inside each session, and a callback `MemoryStore` for tests. Only the factories see this;
// `fromConnectStore` (connect-store.ts) is what turns the store into a Tessera store.
import { EventEmitter } from 'node:events'
import { isObject } from '../core/plain.js'
import { cookieExpiry, type Callback, type ConnectSessionCookie } from './connect-store.js'

/** express-session's `Cookie`: the cookie settings kept inside each session. */
export class Cookie {
  path = '/'
  httpOnly = true
  domain?: string
  secure?: boolean | 'auto'
  sameSite?: boolean | 'lax' | 'strict' | 'none'
  originalMaxAge: number | null = null
  #expires: Date | null = null

  constructor(options?: Partial<ConnectSessionCookie> & { [key: string]: unknown }) {
    if (options !== undefined && !isObject(options)) throw new TypeError('argument options must be a object')
    if (options) {
      for (const key of Object.keys(options)) {
        if (key !== 'data') (this as Record<string, unknown>)[key] = options[key]
      }
    }
    if (this.originalMaxAge === undefined || this.originalMaxAge === null) this.originalMaxAge = this.maxAge ?? null
  }

  get expires(): Date | null {
    return this.#expires
  }
  set expires(value: Date | string | null) {
    this.#expires = typeof value === 'string' ? new Date(value) : value
    this.originalMaxAge = this.maxAge ?? null
  }

  /** Milliseconds left, from `expires`. */
  get maxAge(): number | undefined {
    return this.#expires ? this.#expires.getTime() - Date.now() : undefined
  }
  set maxAge(ms: number | null | undefined) {
    this.expires = typeof ms === 'number' ? new Date(Date.now() + ms) : null
  }

  get data(): Record<string, unknown> {
    return {
      originalMaxAge: this.originalMaxAge,
      expires: this.#expires,
      secure: this.secure,
      httpOnly: this.httpOnly,
      domain: this.domain,
      path: this.path,
      sameSite: this.sameSite,
    }
  }

  toJSON(): Record<string, unknown> {
    return this.data
  }
}

/** An instance of {@link Store}: an EventEmitter. */
export interface Store extends EventEmitter {}

/** What {@link Store} is: a constructor that also works called on `this`, as ES5 stores do. */
export interface StoreConstructor {
  new (options?: unknown): Store
  (this: unknown, options?: unknown): void
  readonly prototype: Store
}

/**
 * express-session's `Store` base class: an EventEmitter that store classes extend (its
 * constructor takes and ignores options, as connect-pg-simple passes them). A function
 * constructor, not a class, because stores written in the ES5 style call it on their instance
 * (`Store.call(this, options)` in connect-pg-simple and older connect stores), which a class
 * refuses; `class MyStore extends Store` works as well.
 */
export const Store = function Store(this: unknown, _options?: unknown): void {
  // EventEmitter is itself a function constructor, so it initialises any object it is called on.
  if (typeof this === 'object' && this !== null) (EventEmitter as unknown as (this: object) => void).call(this)
} as unknown as StoreConstructor
Object.setPrototypeOf(Store.prototype, EventEmitter.prototype)
Object.setPrototypeOf(Store, EventEmitter)

interface MemoryEntry {
  json: string
  expiresAt: number | undefined
}

/** express-session's `MemoryStore`: callback API, JSON copies, expiry from the session's cookie. For tests. */
export class MemoryStore extends Store {
  readonly #sessions = new Map<string, MemoryEntry>()

  #live(sid: string): MemoryEntry | undefined {
    const entry = this.#sessions.get(sid)
    if (entry && entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      this.#sessions.delete(sid)
      return undefined
    }
    return entry
  }

  get(sid: string, callback: Callback<Record<string, unknown> | null>): void {
    const entry = this.#live(sid)
    setImmediate(callback, null, entry ? JSON.parse(entry.json) : null)
  }

  set(sid: string, session: Record<string, unknown>, callback?: Callback): void {
    this.#sessions.set(sid, { json: JSON.stringify(session), expiresAt: cookieExpiry(session.cookie) })
    if (callback) setImmediate(callback, null)
  }

  touch(sid: string, session: Record<string, unknown>, callback?: Callback): void {
    const entry = this.#live(sid)
    if (entry) {
      const stored = JSON.parse(entry.json) as Record<string, unknown>
      stored.cookie = session.cookie
      this.#sessions.set(sid, { json: JSON.stringify(stored), expiresAt: cookieExpiry(session.cookie) })
    }
    if (callback) setImmediate(callback, null)
  }

  destroy(sid: string, callback?: Callback): void {
    this.#sessions.delete(sid)
    if (callback) setImmediate(callback, null)
  }

  all(callback: Callback<Record<string, Record<string, unknown>>>): void {
    const out: Record<string, Record<string, unknown>> = Object.create(null)
    for (const sid of [...this.#sessions.keys()]) {
      const entry = this.#live(sid)
      if (entry) out[sid] = JSON.parse(entry.json)
    }
    setImmediate(callback, null, out)
  }

  length(callback: Callback<number>): void {
    let count = 0
    for (const sid of [...this.#sessions.keys()]) if (this.#live(sid)) count++
    setImmediate(callback, null, count)
  }

  clear(callback?: Callback): void {
    this.#sessions.clear()
    if (callback) setImmediate(callback, null)
  }
}

/**
 * Stands in for the `express-session` module where store factories want it, so they work without
 * installing express-session.
 *
 * @example
 * import connectPgSimple from 'connect-pg-simple'
 * import { expressSession, fromConnectStore } from 'tessera/connect'
 * const PgStore = connectPgSimple(expressSession)
 * const store = fromConnectStore(new PgStore({ pool, createTableIfMissing: true }))
 */
export const expressSession = { Store, MemoryStore, Cookie } as const

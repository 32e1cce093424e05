import { isObject } from '../core/plain.js'
import type { SessionRecord, SessionStore } from '../core/types.js'

/** An `unstorage` `Storage` (from `createStorage({ driver })`), as far as the store uses it. */
export interface UnstorageLike {
  getItemRaw(key: string, options?: any): Promise<unknown>
  setItemRaw(key: string, value: any, options?: any): Promise<void>
  removeItem(key: string, options?: any): Promise<void>
  /** Only checked: a driver has the item methods too, but not `mount`. */
  mount(...args: any[]): unknown
}

/** Options of {@link fromUnstorage}. */
export interface UnstorageStoreOptions {
  /** Prefix of every key (unstorage joins namespaces with `:`). @default 'tessera:' */
  prefix?: string
  /**
   * Whether to pass `{ ttl }` (seconds until the session's expiry, rounded up) to `setItemRaw`, for
   * the drivers that expire keys (redis, Upstash, Vercel KV, Cloudflare KV, whose minimum is 60 s).
   * Drivers without expiry ignore it and keep expired sessions until they are destroyed or
   * overwritten; the store never returns one past its expiry. @default true
   */
  ttl?: boolean
}

const utf8 = new TextDecoder()

/** The stored value as a record; undefined when missing, damaged, foreign or expired. */
function parse(raw: unknown, now: number): SessionRecord | undefined {
  const text = typeof raw === 'string' ? raw : raw instanceof Uint8Array ? utf8.decode(raw) : undefined
  if (text === undefined) return undefined
  let value: unknown
  try {
    value = JSON.parse(text) // own properties only: a "__proto__" key stays data
  } catch {
    return undefined
  }
  if (!isObject(value)) return undefined
  const { data, createdAt, expiresAt, userId } = value as Record<string, unknown>
  if (!isObject(data) || Array.isArray(data) || typeof createdAt !== 'number' || typeof expiresAt !== 'number') return undefined
  if (!Number.isFinite(createdAt) || !(expiresAt > now) || (userId !== undefined && typeof userId !== 'string')) return undefined
  const record: SessionRecord = { data: data as Record<string, unknown>, createdAt, expiresAt }
  if (userId !== undefined) record.userId = userId
  return record
}

class UnstorageStore implements SessionStore {
  readonly #storage: UnstorageLike
  readonly #prefix: string
  readonly #ttl: boolean

  constructor(storage: UnstorageLike, prefix: string, ttl: boolean) {
    this.#storage = storage
    this.#prefix = prefix
    this.#ttl = ttl
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    return parse(await this.#storage.getItemRaw(this.#prefix + id), Date.now())
  }

  async set(id: string, record: SessionRecord): Promise<void> {
    const now = Date.now()
    if (record.expiresAt <= now) return this.destroy(id)
    const value = JSON.stringify({ createdAt: record.createdAt, expiresAt: record.expiresAt, userId: record.userId, data: record.data })
    const options = this.#ttl ? { ttl: Math.ceil((record.expiresAt - now) / 1000) } : undefined
    await this.#storage.setItemRaw(this.#prefix + id, value, options)
  }

  async destroy(id: string): Promise<void> {
    await this.#storage.removeItem(this.#prefix + id)
  }

  /**
   * `set` only while the session exists: a read, then the write. Not atomic (unstorage has no
   * conditional write), but a logout now has to land in the one round trip between the two to be
   * undone, instead of anywhere during a request that loaded the session before it.
   */
  async update(id: string, record: SessionRecord): Promise<void> {
    if ((await this.get(id)) === undefined) return
    await this.set(id, record)
  }

  /** A read and a write (no driver moves an expiry alone): a write between them is overwritten with what was read. */
  async touch(id: string, expiresAt: number): Promise<void> {
    const record = await this.get(id)
    if (record === undefined) return // never recreates a session
    record.expiresAt = expiresAt
    await this.set(id, record)
  }
}

/**
 * A store over any `unstorage` driver: memory, fs, redis, Cloudflare KV, Upstash, Vercel KV,
 * Netlify Blobs, MongoDB, Deno KV, … Each session is one item holding its JSON record. A read is
 * one driver `getItem`, a new session's write one `setItem` (with the driver's TTL where it has
 * one), a change to a loaded session or a touch both (see `update`).
 *
 * There is no `patch`: the core writes the whole record, so two concurrent requests that change
 * different keys of one session are last-writer-wins (one change is lost). `update` and `touch`
 * read before they write, so they do not recreate a session destroyed before they started; the
 * check and the write are two steps, not one. Use RedisStore, UpstashStore or PostgresStore
 * where that matters.
 *
 * @example
 * import { createStorage } from 'unstorage'
 * import redisDriver from 'unstorage/drivers/redis'
 * import { fromUnstorage } from 'tessera/unstorage'
 *
 * const storage = createStorage({ driver: redisDriver({ url: process.env.REDIS_URL }) })
 * export const sessions = createSessions({ store: fromUnstorage(storage), secrets: process.env.SESSION_SECRET })
 */
export function fromUnstorage(storage: UnstorageLike, options: UnstorageStoreOptions = {}): SessionStore {
  if (!isObject(storage) || typeof storage.getItemRaw !== 'function' || typeof storage.setItemRaw !== 'function' || typeof storage.removeItem !== 'function' || typeof storage.mount !== 'function') {
    throw new TypeError('fromUnstorage(storage) takes an unstorage Storage: createStorage({ driver }), not a driver')
  }
  if (!isObject(options)) throw new TypeError('fromUnstorage options must be an object')
  const { prefix = 'tessera:', ttl = true } = options
  if (typeof prefix !== 'string') throw new TypeError(`fromUnstorage option prefix must be a string, got ${JSON.stringify(prefix)}`)
  if (typeof ttl !== 'boolean') throw new TypeError(`fromUnstorage option ttl must be a boolean, got ${JSON.stringify(ttl)}`)
  return new UnstorageStore(storage, prefix, ttl)
}

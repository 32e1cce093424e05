import { isObject } from '../core/plain.js'
import type { SessionRecord, SessionStore } from '../core/types.js'

/**
 * A Cloudflare Workers KV namespace binding (`env.SESSIONS`), as far as the store uses it. Typed
 * by shape: `@cloudflare/workers-types`' `KVNamespace` fits, and so does Miniflare's.
 */
export interface KVNamespaceLike {
  get(key: string, type: 'text'): Promise<string | null>
  put(key: string, value: string, options?: { expirationTtl?: number }): Promise<unknown>
  delete(key: string): Promise<unknown>
}

/** Options of {@link KVStore}. */
export interface KVStoreOptions {
  /** The KV namespace binding, `env.SESSIONS` in a Worker's `fetch(request, env)`. */
  namespace: KVNamespaceLike
  /** Prefix of every key the store writes (KV keys are at most 512 bytes). @default 'tessera:' */
  prefix?: string
}

/** KV refuses an `expirationTtl` under 60 seconds. */
const MIN_TTL_SECONDS = 60
/** A session id is 43 characters (64 with `hashIds`); KV keys are at most 512 bytes. */
const MAX_PREFIX = 256

/**
 * Sessions in Cloudflare Workers KV. One KV read per request that carries a cookie, one KV write
 * per request that changes the session (or whose expiry is due to move), nothing else.
 *
 * KV is eventually consistent: a write is visible at once where it was made and within about
 * 60 seconds elsewhere, and each key takes about one write per second. So:
 *
 * - No `patch`: two requests of one session that change different keys at the same time are
 *   last-writer-wins (the later whole record replaces the earlier one).
 * - No `update` and no `touch`: KV has no conditional write, and extending a TTL means writing
 *   the value again, which the core does with one `set` of the record it already holds (a
 *   `touch` of ours would read it first: one more round trip for the same write).
 * - KV's TTL is at least 60 s, so a record may outlive its `expiresAt` in KV by up to a minute.
 *   That is safe: the store checks `expiresAt` on every read and the core enforces idle and
 *   absolute expiry itself; KV's TTL only frees the space.
 *
 * Use the cookie store when the session is small and must be read-your-writes everywhere, or
 * `UpstashStore` (`tessera/upstash`) for strongly consistent, per-key atomic writes.
 *
 * @example
 * import { createSessions, type Sessions } from 'tessera'
 * import { KVStore } from 'tessera/cloudflare'
 *
 * let sessions: Sessions | undefined
 * export default {
 *   async fetch(request: Request, env: { SESSIONS: KVNamespace; SESSION_SECRET: string }) {
 *     sessions ??= createSessions({ store: new KVStore({ namespace: env.SESSIONS }), secrets: env.SESSION_SECRET })
 *     const session = await sessions.get(request)
 *     // ...
 *   },
 * }
 */
export class KVStore implements SessionStore {
  readonly #kv: KVNamespaceLike
  readonly #prefix: string

  constructor(options: KVStoreOptions) {
    if (!isObject(options)) throw new TypeError('KVStore options must be an object with a namespace (a KV namespace binding)')
    const { namespace, prefix = 'tessera:' } = options
    if (!isObject(namespace) || typeof namespace.get !== 'function' || typeof namespace.put !== 'function' || typeof namespace.delete !== 'function') {
      throw new TypeError('KVStore option namespace must be a KV namespace binding (with get, put and delete), such as env.SESSIONS')
    }
    if (typeof prefix !== 'string' || prefix.length > MAX_PREFIX) {
      throw new TypeError(`KVStore option prefix must be a string of at most ${MAX_PREFIX} characters, got ${JSON.stringify(prefix)}`)
    }
    this.#kv = namespace
    this.#prefix = prefix
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    // Read as text and parse here: a value that is not a session record is bad input (a fresh
    // session), while a KV failure rejects (STORE_ERROR). get(key, 'json') would throw for both.
    const text = await this.#kv.get(this.#prefix + id, 'text')
    if (text === null) return undefined
    const record = parse(text)
    if (!record || record.expiresAt <= Date.now()) return undefined
    return record
  }

  async set(id: string, record: SessionRecord): Promise<void> {
    const remaining = record.expiresAt - Date.now()
    if (remaining <= 0) return this.destroy(id)
    const value: SessionRecord = { data: record.data, createdAt: record.createdAt, expiresAt: record.expiresAt }
    if (record.userId !== undefined) value.userId = record.userId
    // KV's TTL only frees the space (get checks expiresAt), so rounding up to KV's minimum is safe.
    const expirationTtl = Math.max(MIN_TTL_SECONDS, Math.ceil(remaining / 1000))
    await this.#kv.put(this.#prefix + id, JSON.stringify(value), { expirationTtl })
  }

  async destroy(id: string): Promise<void> {
    await this.#kv.delete(this.#prefix + id)
  }
}

function parse(text: string): SessionRecord | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (!isObject(value) || !isObject(value.data) || Array.isArray(value.data)) return undefined
  const { data, createdAt, expiresAt, userId } = value
  if (typeof createdAt !== 'number' || typeof expiresAt !== 'number') return undefined
  const record: SessionRecord = { data: data as Record<string, unknown>, createdAt, expiresAt }
  if (typeof userId === 'string') record.userId = userId
  return record
}

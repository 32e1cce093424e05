import { createHash } from 'node:crypto'
import { setMaxListeners } from 'node:events'
import type { SessionChanges, SessionRecord, SessionStore, SessionSummary } from '../core/types.js'

// ---------------------------------------------------------------------------------------------
// The clients, typed by shape: no runtime import of ioredis or redis.

type Arg = string | number

/** An ioredis `Redis` (standalone or Sentinel) or `Cluster`, as far as the store uses it. */
export interface IoRedisLike {
  readonly isCluster: boolean
  call(...args: any[]): Promise<unknown>
  multi(...args: any[]): any
}

/** A node-redis v4+ client from `createClient()`, as far as the store uses it. */
export interface NodeRedisClientLike {
  sendCommand(args: any, options?: any): Promise<unknown>
  multi(...args: any[]): any
}

/** A node-redis v4+ cluster from `createCluster()`, as far as the store uses it. */
export interface NodeRedisClusterLike {
  readonly masters: unknown
  sendCommand(firstKey: any, isReadonly: any, args: any, options?: any): Promise<unknown>
  multi(...args: any[]): any
}

/** A node-redis v5 Sentinel client from `createSentinel()`, as far as the store uses it. */
export interface NodeRedisSentinelLike {
  getSentinelNode(...args: any[]): unknown
  sendCommand(isReadonly: any, args: any, options?: any): Promise<unknown>
  multi(...args: any[]): any
}

/** Any client {@link RedisStore} accepts. */
export type RedisClientLike = IoRedisLike | NodeRedisClientLike | NodeRedisClusterLike | NodeRedisSentinelLike

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions {
  /**
   * A connected client: ioredis `new Redis()` (standalone or Sentinel) / `new Cluster()`, or
   * node-redis `createClient()` / `createCluster()` / `createSentinel()` (after
   * `await client.connect()`). The store never connects or closes it.
   */
  client: RedisClientLike
  /** Prefix of every key the store writes (no `{` or `}`: the store adds the hash tags). @default 'tessera:' */
  prefix?: string
  /**
   * Seconds to wait for each Redis command. Past it the operation rejects (the core answers with
   * a `SessionError` `STORE_ERROR`) instead of waiting for a reconnect. With node-redis, a command
   * still queued in the client by then (while disconnected) is dropped, so a write reported as
   * failed is never sent later; ioredis has no way to drop a queued command (use
   * `enableOfflineQueue: false`). @default 2
   */
  operationTimeout?: number
}

/** What node-redis takes with a command: the signal that drops it while still queued (v5 abortSignal, v4 signal). */
interface CommandOptions {
  readonly abortSignal: AbortSignal
  readonly signal: AbortSignal
}

/** The one thing the store needs from any client: send one command (`key` routes it in a cluster). */
interface Driver {
  readonly cluster: boolean
  /** Whether `send` honours `options` (node-redis): a command still queued when its signal aborts is dropped, never sent later. */
  readonly abortable: boolean
  send(key: string, args: string[], options: CommandOptions | undefined): Promise<unknown>
}

function isObject(value: unknown): value is Record<string, any> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null
}

function ioredisDriver(client: IoRedisLike): Driver {
  return {
    cluster: client.isCluster === true,
    abortable: false,
    send: (_key, args) => client.call(...args),
  }
}

function nodeRedisDriver(client: NodeRedisClientLike): Driver {
  return { cluster: false, abortable: true, send: (_key, args, options) => client.sendCommand(args, options) }
}

function nodeRedisClusterDriver(client: NodeRedisClusterLike): Driver {
  return { cluster: true, abortable: true, send: (key, args, options) => client.sendCommand(key, false, args, options) }
}

function nodeRedisSentinelDriver(client: NodeRedisSentinelLike): Driver {
  return { cluster: false, abortable: true, send: (_key, args, options) => client.sendCommand(false, args, options) }
}

function driverFor(client: unknown): Driver {
  if (isObject(client)) {
    if (typeof client.call === 'function' && typeof client.isCluster === 'boolean' && typeof client.multi === 'function') {
      return ioredisDriver(client as IoRedisLike)
    }
    if (typeof client.sendCommand === 'function' && typeof client.multi === 'function') {
      if (typeof client.getSentinelNode === 'function') return nodeRedisSentinelDriver(client as NodeRedisSentinelLike)
      return 'masters' in client || typeof client.nodeClient === 'function'
        ? nodeRedisClusterDriver(client as NodeRedisClusterLike)
        : nodeRedisDriver(client as NodeRedisClientLike)
    }
  }
  throw new TypeError(
    'RedisStore option client must be an ioredis Redis or Cluster, or a node-redis client, cluster or sentinel (createClient() / createCluster() / createSentinel())',
  )
}

// ---------------------------------------------------------------------------------------------
// operationTimeout without a timer, a promise race or an AbortController per call: calls wait in
// one list in start order (so in deadline order) with one timer for the oldest. For node-redis,
// calls started within the same few milliseconds share one AbortSignal, aborted when the first of
// them times out: a command of that group still queued in the client (disconnected, or the socket
// backed up) is dropped then, so it can never be sent after the caller was told it failed. A
// later call of the group whose command is still queued is dropped at most BUCKET_MS early.

/** Longest span of call starts that share one AbortSignal (also at most a tenth of the timeout). */
const BUCKET_MS = 20

const MAX_DELAY_MS = 2 ** 31 - 1

interface Bucket {
  readonly controller: AbortController
  readonly options: CommandOptions
  /** performance.now() after which new calls open a new bucket. */
  readonly until: number
}

/** One store call waiting for Redis. */
class Call {
  prev: Call | undefined = undefined
  next: Call | undefined = undefined
  done = false
  constructor(
    readonly deadline: number,
    readonly bucket: Bucket | undefined,
    readonly what: string,
    readonly reject: (error: unknown) => void,
  ) {}
}

class Deadlines {
  #head: Call | undefined = undefined
  #tail: Call | undefined = undefined
  #timer: ReturnType<typeof setTimeout> | undefined = undefined
  #bucket: Bucket | undefined = undefined
  readonly #bucketMs: number

  constructor(
    readonly ms: number,
    readonly abortable: boolean,
  ) {
    this.#bucketMs = Math.min(BUCKET_MS, ms / 10)
  }

  /** Registers a call; it rejects with the timeout error at its deadline unless `finish` came first. */
  start(what: string, reject: (error: unknown) => void): Call {
    const now = performance.now()
    let bucket: Bucket | undefined
    if (this.abortable) {
      bucket = this.#bucket
      if (bucket === undefined || now >= bucket.until || bucket.controller.signal.aborted) bucket = this.#bucket = this.#newBucket(now)
    }
    const call = new Call(now + this.ms, bucket, what, reject)
    const tail = this.#tail
    if (tail === undefined) this.#head = call
    else {
      tail.next = call
      call.prev = tail
    }
    this.#tail = call
    if (this.#timer === undefined) this.#arm(call.deadline - now)
    return call
  }

  /** Takes a call out of the list; false when it had already timed out (its answer is then ignored). */
  finish(call: Call): boolean {
    if (call.done) return false
    call.done = true
    const { prev, next } = call
    if (prev === undefined) this.#head = next
    else prev.next = next
    if (next === undefined) this.#tail = prev
    else next.prev = prev
    call.prev = call.next = undefined
    return true
  }

  error(what: string): Error {
    return new Error(`The Redis operation timed out: no answer to ${what} within ${this.ms / 1000} s (operationTimeout)`)
  }

  #newBucket(now: number): Bucket {
    const controller = new AbortController()
    // Many commands listen on this signal at once: not a leak.
    setMaxListeners(0, controller.signal)
    const options = { abortSignal: controller.signal, signal: controller.signal }
    return { controller, options, until: now + this.#bucketMs }
  }

  #arm(delay: number): void {
    // Past 2^31 - 1 ms setTimeout would fire at once: wait the longest it can, then look again.
    this.#timer = setTimeout(this.#expire, Math.min(MAX_DELAY_MS, Math.max(1, Math.ceil(delay))))
    // A pending command keeps the process alive through its client's socket, not through this timer.
    this.#timer.unref?.()
  }

  readonly #expire = (): void => {
    this.#timer = undefined
    const now = performance.now()
    let call = this.#head
    while (call !== undefined && call.deadline <= now) {
      this.finish(call)
      // Abort first: the client drops the still-queued commands synchronously, before anything else can send them.
      call.bucket?.controller.abort()
      call.reject(this.error(call.what))
      call = this.#head
    }
    if (call !== undefined) this.#arm(call.deadline - now)
  }
}

// ---------------------------------------------------------------------------------------------
// Layout: one HASH per session at `<prefix>{<id>}`: reserved meta fields start with NUL, every
// other field is one top-level data key holding JSON. A data key that itself starts with NUL is
// stored with one more NUL in front. Per user, a ZSET `<prefix>user:{<userId>}` of session ids
// scored by their expiry.

const NUL = '\u0000'
const CREATED = `${NUL}c`
const EXPIRES = `${NUL}e`
const USER = `${NUL}u`

const fieldOf = (key: string): string => (key.startsWith(NUL) ? NUL + key : key)

class Script {
  readonly sha: string
  constructor(readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex')
  }
}

// Lua shared by the scripts: the index update. Trims members whose score (expiry) has passed,
// applies the change, and lets the index key live exactly as long as its longest session.
const INDEX_LUA = `
local function index(key, id, score, now, mode)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if mode == 'rem' then
    redis.call('ZREM', key, id)
  elseif tonumber(score) > tonumber(now) then
    if mode == 'xx' then redis.call('ZADD', key, 'XX', score, id) else redis.call('ZADD', key, score, id) end
  else
    redis.call('ZREM', key, id)
  end
  local top = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if top[2] then redis.call('PEXPIREAT', key, top[2]) end
end
local E = string.char(0) .. 'e'
local U = string.char(0) .. 'u'
`

/** KEYS[1] index; ARGV id, score, now, mode ('add' | 'xx' | 'rem'). */
const INDEX = new Script(`${INDEX_LUA}
index(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
return 1`)

/**
 * Replaces a whole session. KEYS[1] session, then the index to add it to when ARGV[4] is '1', then
 * the index to drop it from when ARGV[5] is '1'; ARGV id, expiresAt, now, add, rem, existing
 * ('1': only while the session exists, never recreating it), then the hash's field/value pairs
 * (meta fields included). Returns 0 when `existing` found no session, else 1.
 */
const SET = new Script(`${INDEX_LUA}
if ARGV[6] == '1' and redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('DEL', KEYS[1])
local i = 7
while i <= #ARGV do
  local j = math.min(i + 199, #ARGV)
  redis.call('HSET', KEYS[1], unpack(ARGV, i, j))
  i = j + 1
end
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
local k = 2
if ARGV[4] == '1' then
  index(KEYS[k], ARGV[1], ARGV[2], ARGV[3], 'add')
  k = k + 1
end
if ARGV[5] == '1' then index(KEYS[k], ARGV[1], 0, ARGV[3], 'rem') end
return 1`)

/**
 * KEYS[1] session, KEYS[2] (optional) index of the user the caller expects; ARGV id, expected
 * user, expiresAt, now, n, then n field/value pairs (the expiry field among them), then fields to
 * delete. Nothing happens when the session is gone, or is no session of ours (no expiry field):
 * it never recreates one. Returns nil when missing, else the session's user ('' for none).
 */
const PATCH = new Script(`${INDEX_LUA}
local meta = redis.call('HMGET', KEYS[1], E, U)
if not meta[1] then return false end
local last = 5 + 2 * tonumber(ARGV[5])
local i = 6
while i <= last do
  local j = math.min(i + 199, last)
  redis.call('HSET', KEYS[1], unpack(ARGV, i, j))
  i = j + 1
end
while i <= #ARGV do
  local j = math.min(i + 199, #ARGV)
  redis.call('HDEL', KEYS[1], unpack(ARGV, i, j))
  i = j + 1
end
local user = meta[2]
-- An unchanged expiry (a change inside touchAfter) leaves the key's TTL and the index score as
-- they are: one redis.call less.
if meta[1] == ARGV[3] then return user or '' end
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
if user and KEYS[2] and user == ARGV[2] then index(KEYS[2], ARGV[1], ARGV[3], ARGV[4], 'xx') end
return user or ''`)

/** KEYS[1] session, KEYS[2] optional index; ARGV id, expected user, expiresAt, now. Same reply as PATCH. */
const TOUCH = new Script(`${INDEX_LUA}
local meta = redis.call('HMGET', KEYS[1], E, U)
if not meta[1] then return false end
redis.call('HSET', KEYS[1], E, ARGV[3])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
local user = meta[2]
if user and KEYS[2] and user == ARGV[2] then index(KEYS[2], ARGV[1], ARGV[3], ARGV[4], 'xx') end
return user or ''`)

/** KEYS[1] session, KEYS[2] optional index; ARGV id, expected user, now. Returns the user it had ('' for none). */
const DESTROY = new Script(`${INDEX_LUA}
local user = redis.call('HGET', KEYS[1], U)
redis.call('DEL', KEYS[1])
if user and KEYS[2] and user == ARGV[2] then index(KEYS[2], ARGV[1], 0, ARGV[3], 'rem') end
return user or ''`)

/** KEYS[1] session; ARGV user. Deletes the session when it belongs to that user; 1 when it did. */
const REVOKE = new Script(`${INDEX_LUA}
if redis.call('HGET', KEYS[1], U) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0`)

function isNoScript(error: unknown): boolean {
  return error instanceof Error && /NOSCRIPT/i.test(error.message)
}

/** HGETALL's reply as a flat field/value array, whichever shape the client and protocol produce (flat array, Map or object). */
function flatHash(reply: unknown): unknown[] {
  if (Array.isArray(reply)) return reply
  if (reply === null || reply === undefined) return []
  if (reply instanceof Map) return [...reply].flat()
  if (typeof reply === 'object') return Object.entries(reply).flat()
  throw new Error(`unexpected HGETALL reply: ${typeof reply}`)
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : undefined

function defineKey(target: Record<string, unknown>, key: string, value: unknown): void {
  // defineProperty for __proto__, so it stays plain data and never a prototype; plain assignment
  // otherwise (defineProperty on every field showed up in profiles).
  if (key === '__proto__') Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true })
  else target[key] = value
}

/** A session hash's reply as a record; undefined when it is missing, damaged, foreign or expired. */
function parseHash(reply: unknown): SessionRecord | undefined {
  const flat = flatHash(reply)
  let createdAt: number | undefined
  let expiresAt: number | undefined
  let userId: string | undefined
  const data: Record<string, unknown> = {}
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const raw = flat[i]
    const field = typeof raw === 'string' ? raw : String(raw)
    const value = text(flat[i + 1])
    if (value === undefined) return undefined
    if (field.charCodeAt(0) === 0) {
      if (field.charCodeAt(1) !== 0) {
        if (field === CREATED) createdAt = Number(value)
        else if (field === EXPIRES) expiresAt = Number(value)
        else if (field === USER) userId = value
        continue
      }
    }
    try {
      defineKey(data, field.charCodeAt(0) === 0 ? field.slice(1) : field, JSON.parse(value))
    } catch {
      return undefined // not ours, or damaged: treated as missing, never thrown
    }
  }
  if (createdAt === undefined || expiresAt === undefined || !Number.isFinite(createdAt) || !Number.isFinite(expiresAt)) return undefined
  if (expiresAt <= Date.now()) return undefined
  const record: SessionRecord = { data, createdAt, expiresAt }
  if (userId !== undefined) record.userId = userId
  return record
}

/** Remembers the user of recently read or written sessions, so a touch or patch can update the index in the same round trip. */
const USER_CACHE_SIZE = 10_000

/**
 * Sessions in Redis: standalone, Sentinel or Cluster, through ioredis or node-redis.
 *
 * Each session is one HASH (`<prefix>{<id>}`, a field per top-level data key), so a commit writes
 * only the keys it changed and concurrent requests never overwrite each other. Every operation is
 * one round trip; every command gives up after `operationTimeout` seconds.
 *
 * @example
 * import { Redis } from 'ioredis'
 * import { RedisStore } from 'tessera/redis'
 * const client = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: false })
 * export const sessions = createSessions({ store: new RedisStore({ client }), secrets: process.env.SESSION_SECRET })
 */
export class RedisStore implements SessionStore {
  readonly prefix: string
  readonly #driver: Driver
  readonly #deadlines: Deadlines
  /** Users of recently read or written sessions; a session without a user has no entry. */
  readonly #users = new Map<string, string>()

  constructor(options: RedisStoreOptions) {
    if (!isObject(options)) throw new TypeError('RedisStore options must be an object with a client')
    const { client, prefix = 'tessera:', operationTimeout = 2 } = options
    this.#driver = driverFor(client)
    if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
      // A brace would become the hash tag of every key: all sessions in one Cluster slot.
      throw new TypeError(`RedisStore option prefix must be a string without { or }, got ${JSON.stringify(prefix)}`)
    }
    if (typeof operationTimeout !== 'number' || !Number.isFinite(operationTimeout) || !(operationTimeout > 0)) {
      throw new TypeError(`RedisStore option operationTimeout must be a number of seconds > 0, got ${JSON.stringify(operationTimeout)}`)
    }
    this.prefix = prefix
    this.#deadlines = new Deadlines(operationTimeout * 1000, this.#driver.abortable)
  }

  /** The key of one session's hash. */
  sessionKey(id: string): string {
    return `${this.prefix}{${id}}`
  }

  /** The key of one user's index. */
  userKey(userId: string): string {
    return `${this.prefix}user:{${userId}}`
  }

  get(id: string): Promise<SessionRecord | undefined> {
    const key = this.sessionKey(id)
    return this.#call(key, ['HGETALL', key], 'HGETALL', undefined, (reply) => {
      const record = parseHash(reply)
      if (record) this.#remember(id, record.userId)
      return record
    }) as Promise<SessionRecord | undefined>
  }

  async set(id: string, record: SessionRecord): Promise<void> {
    return this.#write(id, record, false)
  }

  /** As `set`, but only while the session exists (checked inside the same script): never recreates one. */
  async update(id: string, record: SessionRecord): Promise<void> {
    return this.#write(id, record, true)
  }

  async #write(id: string, record: SessionRecord, existing: boolean): Promise<void> {
    const now = Date.now()
    if (record.expiresAt <= now) return this.destroy(id)
    const key = this.sessionKey(id)
    const expiresAt = String(record.expiresAt)
    // Index changes: add to the new user's, drop from the previous user's when it changed.
    const previous = this.#users.get(id)
    const add = record.userId !== undefined ? this.userKey(record.userId) : undefined
    const rem = previous && previous !== record.userId ? this.userKey(previous) : undefined
    this.#remember(id, record.userId)
    // Outside a cluster the index keys ride in the same script: the session and its index entries change together.
    const inline = !this.#driver.cluster
    const args = ['EVALSHA', SET.sha, '1', key]
    if (inline) {
      if (add !== undefined) args.push(add)
      if (rem !== undefined) args.push(rem)
      args[2] = String(args.length - 3)
    }
    args.push(id, expiresAt, String(now), inline && add !== undefined ? '1' : '', inline && rem !== undefined ? '1' : '', existing ? '1' : '')
    args.push(CREATED, String(record.createdAt), EXPIRES, expiresAt)
    if (record.userId !== undefined) args.push(USER, record.userId)
    for (const name of Object.keys(record.data)) {
      const json = JSON.stringify(record.data[name])
      if (json !== undefined) args.push(fieldOf(name), json)
    }
    const written = this.#call(key, args, 'EVALSHA', SET)
    // Cluster: the index lives in another slot; its updates go out as their own commands: at the
    // same time as a set, after an update (only if it found the session).
    const separateIndex = !inline && (add !== undefined || rem !== undefined)
    if (existing || !separateIndex) {
      if (Number(await written) === 0) {
        this.#users.delete(id) // update() found no session
        return
      }
      if (!separateIndex) return
    }
    const updates: Promise<unknown>[] = [written]
    if (add !== undefined) updates.push(this.#index(add, id, expiresAt, now, 'add'))
    if (rem !== undefined) updates.push(this.#index(rem, id, '0', now, 'rem'))
    await Promise.all(updates)
  }

  async patch(id: string, changes: SessionChanges, expiresAt: number): Promise<void> {
    const now = Date.now()
    const score = String(expiresAt)
    const pairs: string[] = [EXPIRES, score]
    const unset: string[] = []
    for (const name of Object.keys(changes.set)) {
      const json = JSON.stringify(changes.set[name])
      if (json === undefined) unset.push(fieldOf(name)) // undefined is no value in JSON: the key goes
      else pairs.push(fieldOf(name), json)
    }
    for (const name of changes.unset) unset.push(fieldOf(name))
    await this.#withIndex(id, now, 'xx', score, PATCH, [score, String(now), String(pairs.length / 2), ...pairs, ...unset])
  }

  async touch(id: string, expiresAt: number): Promise<void> {
    const now = Date.now()
    const score = String(expiresAt)
    await this.#withIndex(id, now, 'xx', score, TOUCH, [score, String(now)])
  }

  async destroy(id: string): Promise<void> {
    const now = Date.now()
    await this.#withIndex(id, now, 'rem', '0', DESTROY, [String(now)])
    this.#users.delete(id)
  }

  async listUser(userId: string): Promise<SessionSummary[]> {
    const now = Date.now()
    const indexKey = this.userKey(userId)
    const ids = ((await this.#call(indexKey, ['ZRANGEBYSCORE', indexKey, `(${now}`, '+inf'], 'ZRANGEBYSCORE', undefined)) as unknown[]).map(String)
    const metas = await Promise.all(
      ids.map((id) => {
        const key = this.sessionKey(id)
        return this.#call(key, ['HMGET', key, CREATED, EXPIRES, USER], 'HMGET', undefined) as Promise<unknown[]>
      }),
    )
    const out: SessionSummary[] = []
    const stale: string[] = []
    ids.forEach((id, i) => {
      const [c, e, u] = (metas[i] ?? []).map(text)
      const createdAt = Number(c)
      const expiresAt = Number(e)
      if (c === undefined || e === undefined || u !== userId || !Number.isFinite(createdAt) || !(expiresAt > now)) stale.push(id)
      else out.push({ id, createdAt: new Date(createdAt), expiresAt: new Date(expiresAt) })
    })
    if (stale.length) await this.#call(indexKey, ['ZREM', indexKey, ...stale], 'ZREM', undefined)
    return out
  }

  async revokeUser(userId: string, except?: string): Promise<number> {
    const indexKey = this.userKey(userId)
    const ids = ((await this.#call(indexKey, ['ZRANGE', indexKey, '0', '-1'], 'ZRANGE', undefined)) as unknown[])
      .map(String)
      .filter((id) => id !== except)
    if (!ids.length) return 0
    const results = await Promise.all(
      ids.map((id) => {
        const key = this.sessionKey(id)
        return this.#call(key, ['EVALSHA', REVOKE.sha, '1', key, userId], 'EVALSHA', REVOKE)
      }),
    )
    for (const id of ids) this.#users.delete(id)
    await this.#call(indexKey, ['ZREM', indexKey, ...ids], 'ZREM', undefined)
    return results.reduce<number>((sum, n) => sum + (Number(n) === 1 ? 1 : 0), 0)
  }

  // -------------------------------------------------------------------------------------------

  /**
   * Runs a session script (ARGV id, expected user, ...rest), keeping the user index in step.
   * Outside a cluster the index key rides in the same script (when the session's user is known
   * from a recent read or write); in a cluster the index update goes out at the same time as its
   * own command. When the session turns out to belong to another user than expected, that user's
   * index is fixed with one more command.
   */
  async #withIndex(id: string, now: number, mode: 'xx' | 'rem', score: string, script: Script, rest: string[]): Promise<void> {
    const key = this.sessionKey(id)
    const expected = this.#users.get(id) ?? undefined
    let reply: unknown
    if (expected === undefined) {
      reply = await this.#call(key, ['EVALSHA', script.sha, '1', key, id, '', ...rest], 'EVALSHA', script)
    } else if (!this.#driver.cluster) {
      reply = await this.#call(key, ['EVALSHA', script.sha, '2', key, this.userKey(expected), id, expected, ...rest], 'EVALSHA', script)
    } else {
      ;[reply] = await Promise.all([
        this.#call(key, ['EVALSHA', script.sha, '1', key, id, expected, ...rest], 'EVALSHA', script),
        this.#index(this.userKey(expected), id, score, now, mode),
      ])
    }
    const actual = text(reply)
    if (actual && actual !== expected) {
      this.#remember(id, actual)
      await this.#index(this.userKey(actual), id, score, now, mode)
    }
  }

  #index(indexKey: string, id: string, score: string, now: number, mode: 'add' | 'xx' | 'rem'): Promise<unknown> {
    return this.#call(indexKey, ['EVALSHA', INDEX.sha, '1', indexKey, id, score, String(now), mode], 'EVALSHA', INDEX)
  }

  #remember(id: string, userId: string | undefined): void {
    if (userId === undefined) {
      if (this.#users.size) this.#users.delete(id)
      return
    }
    if (this.#users.get(id) === userId) return // already known: skip the re-insert on every read
    this.#users.delete(id)
    this.#users.set(id, userId)
    if (this.#users.size > USER_CACHE_SIZE) this.#users.delete(this.#users.keys().next().value as string)
  }

  /**
   * Sends one command, rejecting after operationTimeout (a late answer is ignored, never
   * unhandled). `args` is an EVALSHA of `script`: when the server does not know the script yet,
   * it is sent once more as EVAL. `map`, when given, turns the reply into the result (a throw rejects).
   */
  #call(key: string, args: string[], what: string, script: Script | undefined, map?: (reply: unknown) => unknown): Promise<unknown> {
    const driver = this.#driver
    const deadlines = this.#deadlines
    return new Promise((resolve, reject) => {
      const call = deadlines.start(what, reject)
      const options = call.bucket?.options
      const onValue = (value: unknown): void => {
        if (!deadlines.finish(call)) return
        if (map === undefined) return resolve(value)
        try {
          resolve(map(value))
        } catch (error) {
          reject(error)
        }
      }
      const onError = (error: unknown): void => {
        if (call.done) return
        if (script !== undefined && isNoScript(error)) {
          const again = args.slice()
          again[0] = 'EVAL'
          again[1] = script.lua
          script = undefined
          send(again)
          return
        }
        deadlines.finish(call)
        // Dropped from the client's queue because its signal was aborted: that is the timeout.
        reject(options?.abortSignal.aborted ? deadlines.error(what) : error)
      }
      const send = (command: string[]): void => {
        try {
          driver.send(key, command, options).then(onValue, onError)
        } catch (error) {
          onError(error)
        }
      }
      send(args)
    })
  }
}

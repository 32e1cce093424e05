import { createHash } from 'node:crypto'
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
   * a `SessionError` `STORE_ERROR`) instead of waiting for a reconnect. @default 2
   */
  operationTimeout?: number
}

/** The two things the store needs from any client: one command, and one MULTI on a single slot. */
interface Driver {
  readonly cluster: boolean
  /** Sends one command; `key` routes it in a cluster. */
  send(key: string, args: Arg[], signal: AbortSignal): Promise<unknown>
  /** MULTI/EXEC in one round trip; outside a cluster the commands may name any keys. Rejects when one fails. */
  transaction(key: string, commands: Arg[][], signal: AbortSignal): Promise<unknown[]>
}

function isObject(value: unknown): value is Record<string, any> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null
}

function ioredisDriver(client: IoRedisLike): Driver {
  return {
    cluster: client.isCluster === true,
    send: (_key, args) => client.call(...args.map(String)),
    async transaction(_key, commands) {
      const multi = client.multi()
      for (const command of commands) multi.call(...command.map(String))
      const replies = (await multi.exec()) as [Error | null, unknown][] | null
      if (!replies) throw new Error('Redis transaction was aborted')
      return replies.map(([error, reply]) => {
        if (error) throw error
        return reply
      })
    },
  }
}

function nodeRedisDriver(client: NodeRedisClientLike): Driver {
  return {
    cluster: false,
    // abortSignal (v5) / signal (v4): a command still waiting for the connection is dropped at the timeout.
    send: (_key, args, signal) => client.sendCommand(args.map(String), { abortSignal: signal, signal }),
    async transaction(_key, commands) {
      const multi = client.multi()
      for (const command of commands) multi.addCommand(command.map(String))
      return (await multi.exec()) as unknown[]
    },
  }
}

function nodeRedisClusterDriver(client: NodeRedisClusterLike): Driver {
  return {
    cluster: true,
    send: (key, args, signal) => client.sendCommand(key, false, args.map(String), { abortSignal: signal, signal }),
    async transaction(key, commands) {
      const multi = client.multi(key)
      for (const command of commands) multi.addCommand(key, false, command.map(String))
      return (await multi.exec()) as unknown[]
    },
  }
}

function nodeRedisSentinelDriver(client: NodeRedisSentinelLike): Driver {
  return {
    cluster: false,
    send: (_key, args, signal) => client.sendCommand(false, args.map(String), { abortSignal: signal }),
    async transaction(_key, commands) {
      const multi = client.multi()
      for (const command of commands) multi.addCommand(false, command.map(String))
      return (await multi.exec()) as unknown[]
    },
  }
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
 * KEYS[1] session, KEYS[2] (optional) index of the user the caller expects; ARGV id, expiresAt,
 * now, expected user, n, then n field/value pairs, then fields to delete. Nothing happens when the
 * session is gone (never recreates it). Returns nil when missing, else the session's user ('' for none).
 */
const PATCH = new Script(`${INDEX_LUA}
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
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
redis.call('HSET', KEYS[1], E, ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
local user = redis.call('HGET', KEYS[1], U)
if user and KEYS[2] and user == ARGV[4] then index(KEYS[2], ARGV[1], ARGV[2], ARGV[3], 'xx') end
return user or ''`)

/** KEYS[1] session, KEYS[2] optional index; ARGV id, expiresAt, now, expected user. Same reply as PATCH. */
const TOUCH = new Script(`${INDEX_LUA}
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSET', KEYS[1], E, ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
local user = redis.call('HGET', KEYS[1], U)
if user and KEYS[2] and user == ARGV[4] then index(KEYS[2], ARGV[1], ARGV[2], ARGV[3], 'xx') end
return user or ''`)

/** KEYS[1] session, KEYS[2] optional index; ARGV id, now, expected user. Returns the user it had ('' for none). */
const DESTROY = new Script(`${INDEX_LUA}
local user = redis.call('HGET', KEYS[1], U)
redis.call('DEL', KEYS[1])
if user and KEYS[2] and user == ARGV[3] then index(KEYS[2], ARGV[1], 0, ARGV[2], 'rem') end
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

/** HGETALL's reply, whichever shape the client and protocol produce (flat array, Map or object). */
function hashEntries(reply: unknown): [string, unknown][] {
  if (reply === null || reply === undefined) return []
  if (Array.isArray(reply)) {
    const out: [string, unknown][] = []
    for (let i = 0; i + 1 < reply.length; i += 2) out.push([String(reply[i]), reply[i + 1]])
    return out
  }
  if (reply instanceof Map) return [...reply].map(([k, v]) => [String(k), v])
  if (typeof reply === 'object') return Object.entries(reply)
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
  readonly #timeoutMs: number
  readonly #users = new Map<string, string | null>()

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
    this.#timeoutMs = operationTimeout * 1000
  }

  /** The key of one session's hash. */
  sessionKey(id: string): string {
    return `${this.prefix}{${id}}`
  }

  /** The key of one user's index. */
  userKey(userId: string): string {
    return `${this.prefix}user:{${userId}}`
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const reply = await this.#send(this.sessionKey(id), ['HGETALL', this.sessionKey(id)], 'HGETALL')
    const record = this.#parse(hashEntries(reply))
    if (record) this.#remember(id, record.userId ?? null)
    return record
  }

  async set(id: string, record: SessionRecord): Promise<void> {
    const now = Date.now()
    if (record.expiresAt <= now) return this.destroy(id)
    const key = this.sessionKey(id)
    const hset: Arg[] = ['HSET', key, CREATED, record.createdAt, EXPIRES, record.expiresAt]
    if (record.userId !== undefined) hset.push(USER, record.userId)
    for (const name of Object.keys(record.data)) {
      const json = JSON.stringify(record.data[name])
      if (json !== undefined) hset.push(fieldOf(name), json)
    }
    const commands: Arg[][] = [['DEL', key], hset, ['PEXPIREAT', key, record.expiresAt]]
    // Index changes: add to the new user's, drop from the previous user's when it changed.
    const previous = this.#users.get(id)
    const indexOps: Arg[][] = []
    if (record.userId !== undefined) indexOps.push([this.userKey(record.userId), id, record.expiresAt, now, 'add'])
    if (previous && previous !== record.userId) indexOps.push([this.userKey(previous), id, 0, now, 'rem'])
    this.#remember(id, record.userId ?? null)

    if (!this.#driver.cluster) {
      // One MULTI: the session and its index entries change together.
      for (const [indexKey, ...args] of indexOps) commands.push(['EVAL', INDEX.lua, 1, indexKey!, ...args])
      await this.#transaction(key, commands, 'MULTI')
      return
    }
    // Cluster: the index lives in another slot; its updates go out at the same time, as their own commands.
    await Promise.all([
      this.#transaction(key, commands, 'MULTI'),
      ...indexOps.map(([indexKey, ...args]) => this.#script(INDEX, [indexKey as string], args)),
    ])
  }

  async patch(id: string, changes: SessionChanges, expiresAt: number): Promise<void> {
    const now = Date.now()
    const pairs: Arg[] = []
    const unset: string[] = []
    for (const name of Object.keys(changes.set)) {
      const json = JSON.stringify(changes.set[name])
      if (json === undefined) unset.push(fieldOf(name)) // undefined is no value in JSON: the key goes
      else pairs.push(fieldOf(name), json)
    }
    for (const name of changes.unset) unset.push(fieldOf(name))
    await this.#withIndex(id, now, 'xx', (keys, expected) =>
      this.#script(PATCH, keys, [id, expiresAt, now, expected, pairs.length / 2, ...pairs, ...unset]),
      expiresAt,
    )
  }

  async touch(id: string, expiresAt: number): Promise<void> {
    const now = Date.now()
    await this.#withIndex(id, now, 'xx', (keys, expected) => this.#script(TOUCH, keys, [id, expiresAt, now, expected]), expiresAt)
  }

  async destroy(id: string): Promise<void> {
    const now = Date.now()
    await this.#withIndex(id, now, 'rem', (keys, expected) => this.#script(DESTROY, keys, [id, now, expected]), 0)
    this.#users.delete(id)
  }

  async listUser(userId: string): Promise<SessionSummary[]> {
    const now = Date.now()
    const indexKey = this.userKey(userId)
    const ids = ((await this.#send(indexKey, ['ZRANGEBYSCORE', indexKey, `(${now}`, '+inf'], 'ZRANGEBYSCORE')) as unknown[]).map(String)
    const metas = await Promise.all(
      ids.map((id) => this.#send(this.sessionKey(id), ['HMGET', this.sessionKey(id), CREATED, EXPIRES, USER], 'HMGET') as Promise<unknown[]>),
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
    if (stale.length) await this.#send(indexKey, ['ZREM', indexKey, ...stale], 'ZREM')
    return out
  }

  async revokeUser(userId: string, except?: string): Promise<number> {
    const indexKey = this.userKey(userId)
    const ids = ((await this.#send(indexKey, ['ZRANGE', indexKey, 0, -1], 'ZRANGE')) as unknown[]).map(String).filter((id) => id !== except)
    if (!ids.length) return 0
    const results = await Promise.all(ids.map((id) => this.#script(REVOKE, [this.sessionKey(id)], [userId])))
    for (const id of ids) this.#users.delete(id)
    await this.#send(indexKey, ['ZREM', indexKey, ...ids], 'ZREM')
    return results.reduce<number>((sum, n) => sum + (Number(n) === 1 ? 1 : 0), 0)
  }

  // -------------------------------------------------------------------------------------------

  #parse(entries: [string, unknown][]): SessionRecord | undefined {
    let createdAt: number | undefined
    let expiresAt: number | undefined
    let userId: string | undefined
    const data: Record<string, unknown> = {}
    for (const [field, raw] of entries) {
      const value = text(raw)
      if (value === undefined) return undefined
      if (field.startsWith(NUL) && !field.startsWith(NUL + NUL)) {
        if (field === CREATED) createdAt = Number(value)
        else if (field === EXPIRES) expiresAt = Number(value)
        else if (field === USER) userId = value
        continue
      }
      try {
        defineKey(data, field.startsWith(NUL) ? field.slice(1) : field, JSON.parse(value))
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

  /**
   * Runs a session script, keeping the user index in step. Outside a cluster the index key rides
   * in the same script (when the session's user is known from a recent read or write); in a
   * cluster the index update goes out at the same time as its own command. When the session turns
   * out to belong to another user than expected, that user's index is fixed with one more command.
   */
  async #withIndex(
    id: string,
    now: number,
    mode: 'xx' | 'rem',
    run: (keys: string[], expected: string) => Promise<unknown>,
    score: number,
  ): Promise<void> {
    const key = this.sessionKey(id)
    const expected = this.#users.get(id) ?? undefined
    let reply: unknown
    if (expected === undefined) {
      reply = await run([key], '')
    } else if (!this.#driver.cluster) {
      reply = await run([key, this.userKey(expected)], expected)
    } else {
      ;[reply] = await Promise.all([run([key], expected), this.#script(INDEX, [this.userKey(expected)], [id, score, now, mode])])
    }
    const actual = text(reply)
    if (actual && actual !== expected) {
      this.#remember(id, actual)
      await this.#script(INDEX, [this.userKey(actual)], [id, score, now, mode])
    }
  }

  #remember(id: string, userId: string | null): void {
    if (this.#users.get(id) === userId) return // already known: skip the re-insert on every read
    this.#users.delete(id)
    this.#users.set(id, userId)
    if (this.#users.size > USER_CACHE_SIZE) this.#users.delete(this.#users.keys().next().value as string)
  }

  /** EVALSHA, falling back to EVAL once when the server does not know the script yet. */
  #script(script: Script, keys: string[], args: Arg[]): Promise<unknown> {
    return this.#timed('EVALSHA', async (signal) => {
      const tail: Arg[] = [keys.length, ...keys, ...args]
      try {
        return await this.#driver.send(keys[0]!, ['EVALSHA', script.sha, ...tail], signal)
      } catch (error) {
        if (!isNoScript(error)) throw error
        return this.#driver.send(keys[0]!, ['EVAL', script.lua, ...tail], signal)
      }
    })
  }

  #send(key: string, args: Arg[], what: string): Promise<unknown> {
    return this.#timed(what, (signal) => this.#driver.send(key, args, signal))
  }

  #transaction(key: string, commands: Arg[][], what: string): Promise<unknown[]> {
    return this.#timed(what, (signal) => this.#driver.transaction(key, commands, signal))
  }

  /** Races one client call against operationTimeout; a late answer is ignored, never unhandled. */
  #timed<T>(what: string, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController()
    let work: Promise<T>
    try {
      work = Promise.resolve(run(controller.signal))
    } catch (error) {
      return Promise.reject(error)
    }
    work.catch(() => {})
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort()
        reject(new Error(`The Redis operation timed out: no answer to ${what} within ${this.#timeoutMs / 1000} s (operationTimeout)`))
      }, this.#timeoutMs)
    })
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer))
  }
}

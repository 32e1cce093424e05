import { createHash } from 'node:crypto'
import { setMaxListeners } from 'node:events'
import { isObject } from '../../core/plain.js'
import type { SessionChanges, SessionRecord, SessionStore, SessionSummary } from '../../core/types.js'
import { Deadlines, operationTimeoutMs } from '../deadline.js'
import { driverFor, type CommandOptions, type Driver, type RedisClientLike } from './clients.js'
import {
  allIdsCommand,
  destroyCall,
  getCommand,
  idsOf,
  indexCall,
  isNoScriptError,
  liveIdsCommand,
  metaCommand,
  parseSessionHash,
  patchCall,
  removeIdsCommand,
  revokeCall,
  revoked,
  rotateCall,
  rotatedFrom,
  sessionKey,
  setCall,
  setWritten,
  summaryOf,
  takeCall,
  touchCall,
  userKey,
  userOfReply,
  type IndexMode,
  type ScriptCall,
} from './scripts.js'

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

/** Remembers the user of recently read or written sessions, so a touch or patch can update the index in the same round trip. */
const USER_CACHE_SIZE = 10_000

/** EVALSHA's name of each script, hashed once. */
const shas = new Map<string, string>()
function shaOf(lua: string): string {
  let sha = shas.get(lua)
  if (sha === undefined) shas.set(lua, (sha = createHash('sha1').update(lua).digest('hex')))
  return sha
}

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
  readonly #deadlines: Deadlines<CommandOptions>
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
    const timeoutMs = operationTimeoutMs('RedisStore', operationTimeout)
    this.prefix = prefix
    this.#deadlines = new Deadlines(timeoutMs, 'The Redis operation', this.#driver.abortable ? commandOptions : undefined)
  }

  /** The key of one session's hash. */
  sessionKey(id: string): string {
    return sessionKey(this.prefix, id)
  }

  /** The key of one user's index. */
  userKey(userId: string): string {
    return userKey(this.prefix, userId)
  }

  get(id: string): Promise<SessionRecord | undefined> {
    const key = this.sessionKey(id)
    return this.#call(key, getCommand(key), undefined, (reply) => {
      const record = parseSessionHash(reply)
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
    const written = this.#eval(
      key,
      setCall({ key, id, record, now, existing, addIndex: inline ? add : undefined, removeIndex: inline ? rem : undefined }),
    )
    // Cluster: the index lives in another slot; its updates go out as their own commands: at the
    // same time as a set, after an update (only if it found the session).
    const separateIndex = !inline && (add !== undefined || rem !== undefined)
    if (existing || !separateIndex) {
      if (!setWritten(await written)) {
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

  /**
   * Moves a session to `newId`, only while `oldId` exists; false, writing nothing, when it is
   * gone. One script that checks, deletes and writes both keys. In a Cluster the two keys are in
   * different slots: the old session is first deleted if it exists (one script), then the new one
   * is written; a logout between the two finds the old session already gone, as it would after
   * the rotation.
   */
  async rotate(oldId: string, newId: string, record: SessionRecord): Promise<boolean> {
    const now = Date.now()
    const oldKey = this.sessionKey(oldId)
    const expected = this.#users.get(oldId)
    if (this.#driver.cluster) {
      const from = rotatedFrom(await this.#eval(oldKey, takeCall(oldKey)))
      this.#users.delete(oldId)
      if (from === false) return false
      await Promise.all([this.#write(newId, record, false), from ? this.#index(this.userKey(from), oldId, '0', now, 'rem') : undefined])
      return true
    }
    const key = this.sessionKey(newId)
    const call = rotateCall({
      oldKey,
      oldId,
      key,
      id: newId,
      record,
      now,
      addIndex: record.userId !== undefined ? this.userKey(record.userId) : undefined,
      expectedOldUser: expected,
      removeIndex: expected !== undefined ? this.userKey(expected) : undefined,
    })
    const from = rotatedFrom(await this.#eval(oldKey, call))
    this.#users.delete(oldId)
    if (from === false) return false
    this.#remember(newId, record.userId)
    // The old session had another user than remembered: its index entry goes with one more command.
    if (from && from !== expected) await this.#index(this.userKey(from), oldId, '0', now, 'rem')
    return true
  }

  async patch(id: string, changes: SessionChanges, expiresAt: number): Promise<void> {
    const now = Date.now()
    const key = this.sessionKey(id)
    await this.#withIndex(id, key, now, 'xx', String(expiresAt), (expectedUser, index) =>
      patchCall({ key, id, now, expectedUser, index, changes, expiresAt }),
    )
  }

  async touch(id: string, expiresAt: number): Promise<void> {
    const now = Date.now()
    const key = this.sessionKey(id)
    await this.#withIndex(id, key, now, 'xx', String(expiresAt), (expectedUser, index) =>
      touchCall({ key, id, now, expectedUser, index, expiresAt }),
    )
  }

  async destroy(id: string): Promise<void> {
    const now = Date.now()
    const key = this.sessionKey(id)
    await this.#withIndex(id, key, now, 'rem', '0', (expectedUser, index) => destroyCall({ key, id, now, expectedUser, index }))
    this.#users.delete(id)
  }

  async listUser(userId: string): Promise<SessionSummary[]> {
    const now = Date.now()
    const indexKey = this.userKey(userId)
    const ids = idsOf(await this.#call(indexKey, liveIdsCommand(indexKey, now), undefined))
    const metas = await Promise.all(
      ids.map((id) => {
        const key = this.sessionKey(id)
        return this.#call(key, metaCommand(key), undefined)
      }),
    )
    const out: SessionSummary[] = []
    const stale: string[] = []
    ids.forEach((id, i) => {
      const summary = summaryOf(id, userId, metas[i], now)
      if (summary === undefined) stale.push(id)
      else out.push(summary)
    })
    if (stale.length) await this.#call(indexKey, removeIdsCommand(indexKey, stale), undefined)
    return out
  }

  async revokeUser(userId: string, except?: string): Promise<number> {
    const indexKey = this.userKey(userId)
    const ids = idsOf(await this.#call(indexKey, allIdsCommand(indexKey), undefined)).filter((id) => id !== except)
    if (!ids.length) return 0
    const results = await Promise.all(
      ids.map((id) => {
        const key = this.sessionKey(id)
        return this.#eval(key, revokeCall(key, userId))
      }),
    )
    for (const id of ids) this.#users.delete(id)
    await this.#call(indexKey, removeIdsCommand(indexKey, ids), undefined)
    return results.reduce<number>((sum, reply) => sum + (revoked(reply) ? 1 : 0), 0)
  }

  // -------------------------------------------------------------------------------------------

  /**
   * Runs the session script `build` makes (given the user the session is expected to have, and
   * that user's index when it rides in the same script), keeping the user index in step. Outside
   * a cluster the index key rides in the same script (when the session's user is known from a
   * recent read or write); in a cluster the index update goes out at the same time as its own
   * command. When the session turns out to belong to another user than expected, that user's
   * index is fixed with one more command.
   */
  async #withIndex(
    id: string,
    key: string,
    now: number,
    mode: 'xx' | 'rem',
    score: string,
    build: (expectedUser: string | undefined, index: string | undefined) => ScriptCall,
  ): Promise<void> {
    const expected = this.#users.get(id)
    let reply: unknown
    if (expected === undefined) {
      reply = await this.#eval(key, build(undefined, undefined))
    } else if (!this.#driver.cluster) {
      reply = await this.#eval(key, build(expected, this.userKey(expected)))
    } else {
      ;[reply] = await Promise.all([
        this.#eval(key, build(expected, undefined)),
        this.#index(this.userKey(expected), id, score, now, mode),
      ])
    }
    const actual = userOfReply(reply)
    if (actual !== undefined && actual !== expected) {
      this.#remember(id, actual)
      await this.#index(this.userKey(actual), id, score, now, mode)
    }
  }

  #index(indexKey: string, id: string, score: string, now: number, mode: IndexMode): Promise<unknown> {
    return this.#eval(indexKey, indexCall(indexKey, id, score, now, mode))
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

  /** Runs a script as EVALSHA (`key` routes it in a cluster). */
  #eval(key: string, { lua, keys, args }: ScriptCall): Promise<unknown> {
    return this.#call(key, ['EVALSHA', shaOf(lua), String(keys.length), ...keys, ...args], lua)
  }

  /**
   * Sends one command, rejecting after operationTimeout (a late answer is ignored, never
   * unhandled). With `lua`, `command` is an EVALSHA of it: when the server does not know the
   * script yet, it is sent once more as EVAL. `map`, when given, turns the reply into the result
   * (a throw rejects).
   */
  #call(key: string, command: string[], lua: string | undefined, map?: (reply: unknown) => unknown): Promise<unknown> {
    const driver = this.#driver
    const deadlines = this.#deadlines
    const what = command[0]!
    return new Promise((resolve, reject) => {
      const call = deadlines.start(what, reject)
      const options = call.group?.options
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
        if (lua !== undefined && isNoScriptError(error)) {
          const again = command.slice()
          again[0] = 'EVAL'
          again[1] = lua
          lua = undefined
          send(again)
          return
        }
        deadlines.finish(call)
        // Dropped from the client's queue because its signal was aborted: that is the timeout.
        reject(options?.abortSignal.aborted ? deadlines.error(what) : error)
      }
      const send = (args: string[]): void => {
        try {
          driver.send(key, args, options).then(onValue, onError)
        } catch (error) {
          onError(error)
        }
      }
      send(command)
    })
  }
}

/** What node-redis takes with each command of a group: the signal that drops it while still queued. */
function commandOptions(signal: AbortSignal): CommandOptions {
  // Many commands listen on this signal at once: not a leak.
  setMaxListeners(0, signal)
  return { abortSignal: signal, signal }
}

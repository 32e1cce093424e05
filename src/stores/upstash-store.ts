import { isObject } from '../core/plain.js'
import type { SessionChanges, SessionRecord, SessionStore, SessionSummary } from '../core/types.js'
import { operationTimeoutMs } from './deadline.js'
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
  touchCall,
  userKey,
  userOfReply,
  type IndexMode,
  type ScriptCall,
} from './redis/scripts.js'

// ---------------------------------------------------------------------------------------------
// The client, typed by shape: no runtime import of @upstash/redis.

/** One request to the Upstash REST API, as `@upstash/redis`'s HTTP client takes it. */
export interface UpstashRequest {
  /** `['pipeline']` for a pipeline; empty for one command. */
  path?: string[]
  /** One command (`['HGETALL', key]`) or, for a pipeline, an array of them. */
  body?: unknown
  signal?: AbortSignal
}

/** `@upstash/redis`'s HTTP client (its `Requester`): sends one request, resolves to the decoded JSON answer. */
export interface UpstashRequesterLike {
  request(request: UpstashRequest): Promise<unknown>
}

/** An `@upstash/redis` `Redis` (from `new Redis({ url, token })` or `Redis.fromEnv()`), as far as the store checks it. */
export interface UpstashRedisLike {
  exec(...args: any[]): Promise<unknown>
  pipeline(...args: any[]): unknown
}

/** Options of {@link UpstashStore}. */
export interface UpstashStoreOptions {
  /**
   * An `@upstash/redis` client: `new Redis({ url, token })` or `Redis.fromEnv()` (its `retry`,
   * `keepAlive`, `responseEncoding` and `readYourWrites` settings apply), or its HTTP `Requester`.
   * The store sends its commands through the client's HTTP transport and reads the replies
   * itself, so the client's `automaticDeserialization` setting does not matter.
   */
  client: UpstashRedisLike | UpstashRequesterLike
  /** Prefix of every key the store writes (no `{` or `}`). The layout is RedisStore's: both can share a database. @default 'tessera:' */
  prefix?: string
  /**
   * Seconds to wait for each HTTP request, retries of the client included. Past it the operation
   * rejects (the core answers with a `SessionError` `STORE_ERROR`) and the request is aborted, so
   * the client sends no further retry; a request already received by Upstash may still apply.
   * @default 5
   */
  operationTimeout?: number
}

function requesterOf(client: unknown): UpstashRequesterLike {
  if (isObject(client)) {
    if (typeof client.request === 'function') return client as UpstashRequesterLike
    // A Redis of @upstash/redis keeps its HTTP transport in `client` (protected in its types, a
    // plain property at run time; `new Redis(requester)` takes the same object): through it the
    // replies come back raw, without the client's JSON deserialization, which cannot be undone
    // (a field named `"a"` and one named `a` would read the same).
    const inner: unknown = client.client
    if (typeof client.exec === 'function' && isObject(inner) && typeof inner.request === 'function') return inner as UpstashRequesterLike
  }
  throw new TypeError('UpstashStore option client must be an @upstash/redis Redis (new Redis({ url, token }) or Redis.fromEnv()) or its Requester')
}

// ---------------------------------------------------------------------------------------------
// EVALSHA needs the SHA-1 of each script: Web Crypto, so the store runs on the Edge runtime and in
// Workers too. Computed once per script per process.

const shas = new Map<string, Promise<string>>()

function sha1(lua: string): Promise<string> {
  let sha = shas.get(lua)
  if (sha === undefined) {
    sha = crypto.subtle.digest('SHA-1', new TextEncoder().encode(lua)).then((digest) =>
      Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join(''),
    )
    shas.set(lua, sha)
  }
  return sha
}

/** `EVALSHA sha n ...keys ...args`, or with `lua` as `EVAL`. */
const evalCommand = (name: 'EVALSHA' | 'EVAL', script: string, call: ScriptCall): string[] => [name, script, String(call.keys.length), ...call.keys, ...call.args]

// @upstash/redis puts the whole command in its error messages (`…, command was: [...]`): session
// data, which must not reach logs through a SessionError's cause. Only the server's words are kept.
function upstashError(what: string, error: unknown): Error {
  if (!(error instanceof Error)) return new Error(`Upstash ${what} failed: ${String(error).split(', command was:')[0]}`)
  const at = error.message.indexOf(', command was:')
  if (at >= 0) return new Error(`Upstash answered ${what} with an error: ${error.message.slice(0, at)}`)
  // Its message quotes the body, which can be session data.
  if (error.name === 'UpstashJSONParseError') return new Error(`Upstash answered ${what} with a body that is not JSON`)
  // A network failure (fetch failed, connection refused): nothing of the command in it.
  return new Error(`Upstash ${what} failed: ${error.message}`, { cause: error })
}

/** Remembers the user of recently read or written sessions, so a touch or patch can update the index in the same request. */
const USER_CACHE_SIZE = 10_000

/**
 * Sessions in Upstash Redis over its REST API (`@upstash/redis`): no TCP connection, so it runs on
 * the Next.js Edge runtime, Cloudflare Workers, Vercel and Netlify functions, Deno and Bun.
 *
 * The layout and the Lua scripts are RedisStore's: one hash per session, a field per top-level
 * key, so a commit writes only the keys it changed and concurrent requests never overwrite each
 * other. A read is one HTTP request; a write (set, update, patch, touch, destroy) is one request
 * running one script, atomically, its user-index change included.
 *
 * @example
 * import { Redis } from '@upstash/redis'
 * import { UpstashStore } from 'tessera/upstash'
 * const store = new UpstashStore({ client: Redis.fromEnv() })
 * export const sessions = createSessions({ store, secrets: process.env.SESSION_SECRET })
 */
export class UpstashStore implements SessionStore {
  readonly prefix: string
  readonly #requester: UpstashRequesterLike
  readonly #timeoutMs: number
  /** Users of recently read or written sessions; a session without a user has no entry. */
  readonly #users = new Map<string, string>()

  constructor(options: UpstashStoreOptions) {
    if (!isObject(options)) throw new TypeError('UpstashStore options must be an object with a client')
    const { client, prefix = 'tessera:', operationTimeout = 5 } = options
    this.#requester = requesterOf(client)
    if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
      throw new TypeError(`UpstashStore option prefix must be a string without { or }, got ${JSON.stringify(prefix)}`)
    }
    const timeoutMs = operationTimeoutMs('UpstashStore', operationTimeout)
    this.prefix = prefix
    this.#timeoutMs = timeoutMs
  }

  /** The key of one session's hash. */
  sessionKey(id: string): string {
    return sessionKey(this.prefix, id)
  }

  /** The key of one user's index. */
  userKey(userId: string): string {
    return userKey(this.prefix, userId)
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const record = parseSessionHash(await this.#command(getCommand(this.sessionKey(id)), 'HGETALL'))
    if (record) this.#remember(id, record.userId)
    return record
  }

  set(id: string, record: SessionRecord): Promise<void> {
    return this.#write(id, record, false)
  }

  /** As `set`, but only while the session exists (checked inside the same script): never recreates one. */
  update(id: string, record: SessionRecord): Promise<void> {
    return this.#write(id, record, true)
  }

  async #write(id: string, record: SessionRecord, existing: boolean): Promise<void> {
    const now = Date.now()
    if (record.expiresAt <= now) return this.destroy(id)
    // Index changes in the same script: add to the new user's, drop from the previous user's when it changed.
    const previous = this.#users.get(id)
    const addIndex = record.userId !== undefined ? this.userKey(record.userId) : undefined
    const removeIndex = previous && previous !== record.userId ? this.userKey(previous) : undefined
    this.#remember(id, record.userId)
    const reply = await this.#script(setCall({ key: this.sessionKey(id), id, record, now, existing, addIndex, removeIndex }), 'set')
    if (!setWritten(reply)) this.#users.delete(id) // update() found no session
  }

  /**
   * Moves a session to a new id only while the old one exists (regenerate() slower than a
   * logout: review 12): one script, one request. False when the old session was gone.
   */
  async rotate(oldId: string, newId: string, record: SessionRecord): Promise<boolean> {
    const now = Date.now()
    const expected = this.#users.get(oldId)
    const call = rotateCall({
      oldKey: this.sessionKey(oldId),
      oldId,
      key: this.sessionKey(newId),
      id: newId,
      record,
      now,
      addIndex: record.userId !== undefined ? this.userKey(record.userId) : undefined,
      expectedOldUser: expected,
      removeIndex: this.#indexOf(expected),
    })
    const from = rotatedFrom(await this.#script(call, 'rotate'))
    this.#users.delete(oldId)
    if (from === false) return false
    this.#remember(newId, record.userId)
    // The old session had another user than remembered: its index entry goes with one more request.
    if (from && from !== expected) await this.#script(indexCall(this.userKey(from), oldId, '0', now, 'rem'), 'index')
    return true
  }

  // Each builder's input is one object literal (a spread of a shared input measured slower: decisions/redis-layout.md).
  async patch(id: string, changes: SessionChanges, expiresAt: number): Promise<void> {
    const expectedUser = this.#users.get(id)
    const now = Date.now()
    const call = patchCall({ key: this.sessionKey(id), id, expectedUser, index: this.#indexOf(expectedUser), now, changes, expiresAt })
    await this.#withIndex(id, expectedUser, now, 'xx', String(expiresAt), call, 'patch')
  }

  async touch(id: string, expiresAt: number): Promise<void> {
    const expectedUser = this.#users.get(id)
    const now = Date.now()
    const call = touchCall({ key: this.sessionKey(id), id, expectedUser, index: this.#indexOf(expectedUser), now, expiresAt })
    await this.#withIndex(id, expectedUser, now, 'xx', String(expiresAt), call, 'touch')
  }

  async destroy(id: string): Promise<void> {
    const expectedUser = this.#users.get(id)
    const now = Date.now()
    const call = destroyCall({ key: this.sessionKey(id), id, expectedUser, index: this.#indexOf(expectedUser), now })
    await this.#withIndex(id, expectedUser, now, 'rem', '0', call, 'destroy')
    this.#users.delete(id)
  }

  /** Two requests: the index, then every listed session's meta fields in one pipeline (a third drops stale ids). */
  async listUser(userId: string): Promise<SessionSummary[]> {
    const now = Date.now()
    const indexKey = this.userKey(userId)
    const ids = idsOf(await this.#command(liveIdsCommand(indexKey, now), 'ZRANGEBYSCORE'))
    if (!ids.length) return []
    const metas = await this.#pipeline(
      ids.map((id) => metaCommand(this.sessionKey(id))),
      'HMGET',
    )
    const out: SessionSummary[] = []
    const stale: string[] = []
    ids.forEach((id, i) => {
      const summary = summaryOf(id, userId, metas[i], now)
      if (summary === undefined) stale.push(id)
      else out.push(summary)
    })
    if (stale.length) await this.#command(removeIdsCommand(indexKey, stale), 'ZREM')
    return out
  }

  /** Three requests: the index, one pipeline of revoke scripts, and the index cleanup. */
  async revokeUser(userId: string, except?: string): Promise<number> {
    const indexKey = this.userKey(userId)
    const ids = idsOf(await this.#command(allIdsCommand(indexKey), 'ZRANGE')).filter((id) => id !== except)
    if (!ids.length) return 0
    const replies = await this.#scripts(
      ids.map((id) => revokeCall(this.sessionKey(id), userId)),
      'revoke',
    )
    for (const id of ids) this.#users.delete(id)
    await this.#command(removeIdsCommand(indexKey, ids), 'ZREM')
    return replies.filter(revoked).length
  }

  // -------------------------------------------------------------------------------------------

  /** The index of the user a script expects, to update in the same script. */
  #indexOf(expectedUser: string | undefined): string | undefined {
    return expectedUser === undefined ? undefined : this.userKey(expectedUser)
  }

  /**
   * Runs a patch, touch or destroy script; the expected user's index rides in the same script.
   * When the session turns out to belong to another user (this process never read it), that
   * user's index is fixed with one more request.
   */
  async #withIndex(id: string, expectedUser: string | undefined, now: number, mode: IndexMode, score: string, call: ScriptCall, what: string): Promise<void> {
    const actual = userOfReply(await this.#script(call, what))
    if (actual !== undefined && actual !== expectedUser) {
      this.#remember(id, actual)
      await this.#script(indexCall(this.userKey(actual), id, score, now, mode), 'index')
    }
  }

  #remember(id: string, userId: string | undefined): void {
    if (userId === undefined) {
      if (this.#users.size) this.#users.delete(id)
      return
    }
    if (this.#users.get(id) === userId) return
    this.#users.delete(id)
    this.#users.set(id, userId)
    if (this.#users.size > USER_CACHE_SIZE) this.#users.delete(this.#users.keys().next().value as string)
  }

  /** One script in one request: EVALSHA, or EVAL once more when the server does not know the script yet. */
  async #script(call: ScriptCall, what: string): Promise<unknown> {
    try {
      return await this.#command(evalCommand('EVALSHA', await sha1(call.lua), call), what)
    } catch (error) {
      if (!isNoScriptError(error)) throw error
      return this.#command(evalCommand('EVAL', call.lua, call), what)
    }
  }

  /** Several scripts in one pipeline request; those the server did not know go again as EVAL, in a second one. */
  async #scripts(calls: ScriptCall[], what: string): Promise<unknown[]> {
    const commands = await Promise.all(calls.map(async (call) => evalCommand('EVALSHA', await sha1(call.lua), call)))
    const results = await this.#pipeline(commands, what, true)
    const missing = calls.flatMap((call, i) => (results[i] instanceof Error ? [i] : []))
    if (missing.length) {
      const again = await this.#pipeline(
        missing.map((i) => evalCommand('EVAL', calls[i]!.lua, calls[i]!)),
        what,
      )
      missing.forEach((i, j) => (results[i] = again[j]))
    }
    return results
  }

  /** One command in one request; resolves to its raw result. */
  async #command(command: string[], what: string): Promise<unknown> {
    const answer = await this.#request({ body: command }, what)
    if (!isObject(answer) || Array.isArray(answer)) throw new Error(`Upstash answered ${what} with no result`)
    if (answer.error !== undefined && answer.error !== null) throw new Error(`Upstash answered ${what} with an error: ${String(answer.error)}`)
    if (answer.result === undefined) throw new Error(`Upstash answered ${what} with no result`)
    return answer.result
  }

  /**
   * Commands in one `/pipeline` request; resolves to their results in order. With `noScript`, an
   * entry the server answered with NOSCRIPT comes back as an Error instead of failing the whole.
   */
  async #pipeline(commands: string[][], what: string, noScript = false): Promise<unknown[]> {
    const answer = await this.#request({ path: ['pipeline'], body: commands }, what)
    if (!Array.isArray(answer) || answer.length !== commands.length) throw new Error(`Upstash answered the ${what} pipeline with no results`)
    return answer.map((entry: unknown) => {
      const error = isObject(entry) ? entry.error : 'no result'
      if (error === undefined || error === null) return (entry as { result?: unknown }).result
      const failure = new Error(`Upstash answered ${what} with an error: ${String(error)}`)
      if (noScript && isNoScriptError(failure)) return failure
      throw failure
    })
  }

  /** One HTTP request, aborted and rejected after operationTimeout (its late answer, if any, is ignored). */
  #request(request: UpstashRequest, what: string): Promise<unknown> {
    const ms = this.#timeoutMs
    return new Promise((resolve, reject) => {
      const controller = new AbortController()
      const timer = setTimeout(() => {
        // Aborting also stops the client's retries: each later attempt fails at once, unsent.
        controller.abort()
        reject(new Error(`The Upstash request timed out: no answer to ${what} within ${ms / 1000} s (operationTimeout)`))
      }, ms)
      ;(timer as { unref?: () => void }).unref?.()
      let sent: Promise<unknown>
      try {
        sent = this.#requester.request({ ...request, signal: controller.signal })
      } catch (error) {
        sent = Promise.reject(error)
      }
      sent.then(
        (answer) => {
          clearTimeout(timer)
          // An aborted request resolves with a made-up answer in @upstash/redis: never take it for a result.
          if (!controller.signal.aborted) resolve(answer)
        },
        (error: unknown) => {
          clearTimeout(timer)
          if (!controller.signal.aborted) reject(upstashError(what, error))
        },
      )
    })
  }
}

// The Redis layout of sessions, shared by every store that keeps them in Redis (RedisStore over a
// TCP client, a REST store over HTTP): the keys, how a record maps to and from a hash, the Lua
// scripts as plain strings, and small pure functions that build each script's KEYS/ARGV and read
// its reply. Nothing here knows a client, sends a command or reads a clock it was not given
// (except parseSessionHash's default `now`); hashing a script for EVALSHA is the sender's job.
//
// Layout: one HASH per session at `<prefix>{<id>}`: reserved meta fields start with NUL, every
// other field is one top-level data key holding JSON. A data key that itself starts with NUL is
// stored with one more NUL in front. Per user, a ZSET `<prefix>user:{<userId>}` of session ids
// scored by their expiry, trimmed and given the TTL of its longest session by the scripts.

import { setOwn } from '../../core/plain.js'
import type { SessionChanges, SessionRecord, SessionSummary } from '../../core/types.js'

const NUL = '\u0000'
/** Reserved field: the record's createdAt (ms since the epoch, decimal). */
export const CREATED_FIELD = `${NUL}c`
/** Reserved field: the record's expiresAt (ms since the epoch, decimal); a hash without it is no session of ours. */
export const EXPIRES_FIELD = `${NUL}e`
/** Reserved field: the record's userId, absent when it has none. */
export const USER_FIELD = `${NUL}u`

/** The key of one session's hash (`prefix` must hold no `{` or `}`: the braces are its Cluster hash tag). */
export function sessionKey(prefix: string, id: string): string {
  return `${prefix}{${id}}`
}

/** The key of one user's index (a ZSET of session ids scored by expiry). */
export function userKey(prefix: string, userId: string): string {
  return `${prefix}user:{${userId}}`
}

/** The hash field of a top-level data key: a key starting with NUL gets one more, so it never meets a reserved field. */
export const fieldOf = (key: string): string => (key.startsWith(NUL) ? NUL + key : key)

// ---------------------------------------------------------------------------------------------
// Lua. Every script starts with INDEX_LUA: the index update, and the names of the meta fields.

// Trims members whose score (expiry) has passed, applies the change, and lets the index key live
// exactly as long as its longest session.
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

// Runs `command key ARGV[from..to]` in slices of 200 arguments (unpack has a stack limit). Every
// slice starts at `from` plus a multiple of 200, so HSET's field/value pairs stay whole.
const SLICES_LUA = `
local function slices(command, key, from, to)
  local i = from
  while i <= to do
    local j = math.min(i + 199, to)
    redis.call(command, key, unpack(ARGV, i, j))
    i = j + 1
  end
end
`

/** Updates one user's index. KEYS[1] index; ARGV id, score, now, mode ('add' | 'xx' | 'rem'). Built by {@link indexCall}. */
export const INDEX_SCRIPT = `${INDEX_LUA}
index(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
return 1`

/**
 * Replaces a whole session. KEYS[1] session, then the index to add it to when ARGV[4] is '1', then
 * the index to drop it from when ARGV[5] is '1'; ARGV id, expiresAt, now, add, rem, existing
 * ('1': only while the session exists, never recreating it), then the hash's field/value pairs
 * (meta fields included). Returns 0 when `existing` found no session, else 1. Built by
 * {@link setCall}, read by {@link setWritten}.
 */
export const SET_SCRIPT = `${INDEX_LUA}${SLICES_LUA}
if ARGV[6] == '1' and redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('DEL', KEYS[1])
slices('HSET', KEYS[1], 7, #ARGV)
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
local k = 2
if ARGV[4] == '1' then
  index(KEYS[k], ARGV[1], ARGV[2], ARGV[3], 'add')
  k = k + 1
end
if ARGV[5] == '1' then index(KEYS[k], ARGV[1], 0, ARGV[3], 'rem') end
return 1`

/**
 * KEYS[1] session, KEYS[2] (optional) index of the user the caller expects; ARGV id, expected
 * user, expiresAt, now, n, then n field/value pairs (the expiry field among them), then fields to
 * delete. Nothing happens when the session is gone, or is no session of ours (no expiry field):
 * it never recreates one. Returns nil when missing, else the session's user ('' for none). Built
 * by {@link patchCall}, read by {@link userOfReply}.
 */
export const PATCH_SCRIPT = `${INDEX_LUA}${SLICES_LUA}
local meta = redis.call('HMGET', KEYS[1], E, U)
if not meta[1] then return false end
local last = 5 + 2 * tonumber(ARGV[5])
slices('HSET', KEYS[1], 6, last)
slices('HDEL', KEYS[1], last + 1, #ARGV)
local user = meta[2]
-- An unchanged expiry (a change inside touchAfter) leaves the key's TTL and the index score as
-- they are: one redis.call less.
if meta[1] == ARGV[3] then return user or '' end
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
if user and KEYS[2] and user == ARGV[2] then index(KEYS[2], ARGV[1], ARGV[3], ARGV[4], 'xx') end
return user or ''`

/**
 * KEYS[1] session, KEYS[2] optional index; ARGV id, expected user, expiresAt, now. Same reply as
 * PATCH_SCRIPT. Built by {@link touchCall}, read by {@link userOfReply}.
 */
export const TOUCH_SCRIPT = `${INDEX_LUA}
local meta = redis.call('HMGET', KEYS[1], E, U)
if not meta[1] then return false end
redis.call('HSET', KEYS[1], E, ARGV[3])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
local user = meta[2]
if user and KEYS[2] and user == ARGV[2] then index(KEYS[2], ARGV[1], ARGV[3], ARGV[4], 'xx') end
return user or ''`

/**
 * KEYS[1] session, KEYS[2] optional index; ARGV id, expected user, now. Returns the user it had
 * ('' for none). Built by {@link destroyCall}, read by {@link userOfReply}.
 */
export const DESTROY_SCRIPT = `${INDEX_LUA}
local user = redis.call('HGET', KEYS[1], U)
redis.call('DEL', KEYS[1])
if user and KEYS[2] and user == ARGV[2] then index(KEYS[2], ARGV[1], 0, ARGV[3], 'rem') end
return user or ''`

/**
 * KEYS[1] session; ARGV user. Deletes the session when it belongs to that user; 1 when it did.
 * Built by {@link revokeCall}, read by {@link revoked}.
 */
export const REVOKE_SCRIPT = `${INDEX_LUA}
if redis.call('HGET', KEYS[1], U) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0`

/**
 * Moves a session to a new id, only while the old one exists (review 12: a regenerate() slower
 * than a logout must not bring the session back). KEYS[1] old session, KEYS[2] new session, then
 * the index to add the new id to when ARGV[5] is '1', then the index to drop the old id from when
 * ARGV[6] is '1' (only if the old session's user is ARGV[7]); ARGV old id, new id, expiresAt, now,
 * add, rem, expected old user, then the new hash's field/value pairs. Returns nil, writing
 * nothing, when the old session is gone (or no session of ours); else the old session's user (''
 * for none). Both sessions' keys in one script: not in a Cluster (another slot each), where
 * TAKE_SCRIPT and a set do it. Built by {@link rotateCall}, read by {@link rotatedFrom}.
 */
export const ROTATE_SCRIPT = `${INDEX_LUA}${SLICES_LUA}
local old = redis.call('HMGET', KEYS[1], E, U)
if not old[1] then return false end
redis.call('DEL', KEYS[1], KEYS[2])
slices('HSET', KEYS[2], 8, #ARGV)
redis.call('PEXPIREAT', KEYS[2], ARGV[3])
local k = 3
if ARGV[5] == '1' then
  index(KEYS[k], ARGV[2], ARGV[3], ARGV[4], 'add')
  k = k + 1
end
if ARGV[6] == '1' and old[2] == ARGV[7] then index(KEYS[k], ARGV[1], 0, ARGV[4], 'rem') end
return old[2] or ''`

/**
 * KEYS[1] session. Deletes it if it exists: the first half of a rotation in a Cluster, where the
 * new session is then written with SET_SCRIPT. Returns nil when it was gone (or no session of
 * ours), else its user ('' for none). Built by {@link takeCall}, read by {@link rotatedFrom}.
 */
export const TAKE_SCRIPT = `${INDEX_LUA}
local old = redis.call('HMGET', KEYS[1], E, U)
if not old[1] then return false end
redis.call('DEL', KEYS[1])
return old[2] or ''`

/** Every script, e.g. to hash or SCRIPT LOAD them up front. */
export const SCRIPTS: readonly string[] = [
  INDEX_SCRIPT,
  SET_SCRIPT,
  PATCH_SCRIPT,
  TOUCH_SCRIPT,
  DESTROY_SCRIPT,
  REVOKE_SCRIPT,
  ROTATE_SCRIPT,
  TAKE_SCRIPT,
]

// ---------------------------------------------------------------------------------------------
// Building a script's call. Times are ms since the epoch; a sender turns a ScriptCall into
// `EVALSHA sha1(lua) keys.length ...keys ...args` (or EVAL lua ... when the server answers NOSCRIPT).

/** One script to run: its Lua, its KEYS and its ARGV. */
export interface ScriptCall {
  readonly lua: string
  readonly keys: string[]
  readonly args: string[]
}

/** How a script changes a user's index: add the id, move its score only if present, or remove it. */
export type IndexMode = 'add' | 'xx' | 'rem'

/** Updates the index at `indexKey`: `score` is the session's expiresAt ('0' with 'rem'). */
export function indexCall(indexKey: string, id: string, score: string, now: number, mode: IndexMode): ScriptCall {
  return { lua: INDEX_SCRIPT, keys: [indexKey], args: [id, score, String(now), mode] }
}

/** A record as the flat field/value pairs of its hash, meta fields first; data keys whose JSON is undefined are left out. */
export function recordFields(record: SessionRecord): string[] {
  const pairs = [CREATED_FIELD, String(record.createdAt), EXPIRES_FIELD, String(record.expiresAt)]
  if (record.userId !== undefined) pairs.push(USER_FIELD, record.userId)
  for (const name of Object.keys(record.data)) {
    const json = JSON.stringify(record.data[name])
    if (json !== undefined) pairs.push(fieldOf(name), json)
  }
  return pairs
}

/** What {@link setCall} needs. */
export interface SetCallInput {
  /** The session's key ({@link sessionKey}). */
  key: string
  id: string
  record: SessionRecord
  now: number
  /** Only while the session exists (`update`), never recreating it. */
  existing: boolean
  /** Index to add the id to in the same script (the record's user's); leave out to update it separately. */
  addIndex?: string | undefined
  /** Index to drop the id from in the same script (a previous user's); leave out to update it separately. */
  removeIndex?: string | undefined
}

/** Writes a whole record (SET_SCRIPT), with the index changes given. */
export function setCall({ key, id, record, now, existing, addIndex, removeIndex }: SetCallInput): ScriptCall {
  const keys = [key]
  if (addIndex !== undefined) keys.push(addIndex)
  if (removeIndex !== undefined) keys.push(removeIndex)
  const args = [id, String(record.expiresAt), String(now), addIndex !== undefined ? '1' : '', removeIndex !== undefined ? '1' : '', existing ? '1' : '']
  for (const field of recordFields(record)) args.push(field)
  return { lua: SET_SCRIPT, keys, args }
}

/** True when SET_SCRIPT wrote; false when `existing` found no session. */
export const setWritten = (reply: unknown): boolean => Number(reply) !== 0

/** What the scripts that change an existing session share. */
export interface SessionCallInput {
  /** The session's key ({@link sessionKey}). */
  key: string
  id: string
  /** The user the caller believes the session has (from a recent read or write), if any. */
  expectedUser?: string | undefined
  /** That user's index, to update in the same script; leave out to update it separately (or when no user is expected). */
  index?: string | undefined
  now: number
}

function sessionCall(lua: string, { key, id, expectedUser, index }: SessionCallInput, rest: string[]): ScriptCall {
  return { lua, keys: index === undefined ? [key] : [key, index], args: [id, expectedUser ?? '', ...rest] }
}

/** Applies changes and a new expiry to an existing session (PATCH_SCRIPT); JSON-undefined values unset their key. */
export function patchCall(input: SessionCallInput & { changes: SessionChanges; expiresAt: number }): ScriptCall {
  const { changes } = input
  const score = String(input.expiresAt)
  const pairs: string[] = [EXPIRES_FIELD, score]
  const unset: string[] = []
  for (const name of Object.keys(changes.set)) {
    const json = JSON.stringify(changes.set[name])
    if (json === undefined) unset.push(fieldOf(name)) // undefined is no value in JSON: the key goes
    else pairs.push(fieldOf(name), json)
  }
  for (const name of changes.unset) unset.push(fieldOf(name))
  return sessionCall(PATCH_SCRIPT, input, [score, String(input.now), String(pairs.length / 2), ...pairs, ...unset])
}

/** Moves an existing session's expiry (TOUCH_SCRIPT). */
export function touchCall(input: SessionCallInput & { expiresAt: number }): ScriptCall {
  return sessionCall(TOUCH_SCRIPT, input, [String(input.expiresAt), String(input.now)])
}

/** Deletes a session (DESTROY_SCRIPT). */
export function destroyCall(input: SessionCallInput): ScriptCall {
  return sessionCall(DESTROY_SCRIPT, input, [String(input.now)])
}

/**
 * The user PATCH_SCRIPT, TOUCH_SCRIPT or DESTROY_SCRIPT found on the session; undefined when it
 * had none or was missing. When it differs from the expected user, that user's index needs
 * {@link indexCall}.
 */
export const userOfReply = (reply: unknown): string | undefined => replyText(reply) || undefined

/** What {@link rotateCall} needs. */
export interface RotateCallInput {
  /** The old session's key ({@link sessionKey}). */
  oldKey: string
  oldId: string
  /** The new session's key ({@link sessionKey}). */
  key: string
  id: string
  record: SessionRecord
  now: number
  /** Index to add the new id to (the record's user's); leave out to update it separately. */
  addIndex?: string | undefined
  /** The user the caller believes the old session has, and that user's index to drop the old id from. */
  expectedOldUser?: string | undefined
  removeIndex?: string | undefined
}

/** Moves a session to a new id while the old one exists (ROTATE_SCRIPT). */
export function rotateCall({ oldKey, oldId, key, id, record, now, addIndex, expectedOldUser, removeIndex }: RotateCallInput): ScriptCall {
  const keys = [oldKey, key]
  if (addIndex !== undefined) keys.push(addIndex)
  if (removeIndex !== undefined) keys.push(removeIndex)
  const args = [
    oldId,
    id,
    String(record.expiresAt),
    String(now),
    addIndex !== undefined ? '1' : '',
    removeIndex !== undefined ? '1' : '',
    expectedOldUser ?? '',
  ]
  for (const field of recordFields(record)) args.push(field)
  return { lua: ROTATE_SCRIPT, keys, args }
}

/** Deletes the session at `key` if it exists (TAKE_SCRIPT). */
export function takeCall(key: string): ScriptCall {
  return { lua: TAKE_SCRIPT, keys: [key], args: [] }
}

/**
 * ROTATE_SCRIPT's or TAKE_SCRIPT's reply: false when the old session was gone; else the old
 * session's user, '' when it had none.
 */
export const rotatedFrom = (reply: unknown): string | false => replyText(reply) ?? false

/** Deletes the session at `key` if it belongs to `userId` (REVOKE_SCRIPT). */
export function revokeCall(key: string, userId: string): ScriptCall {
  return { lua: REVOKE_SCRIPT, keys: [key], args: [userId] }
}

/** True when REVOKE_SCRIPT deleted the session. */
export const revoked = (reply: unknown): boolean => Number(reply) === 1

// ---------------------------------------------------------------------------------------------
// The plain commands (each one key) and their replies.

/** Reads a whole session: parse the reply with {@link parseSessionHash}. */
export const getCommand = (key: string): string[] => ['HGETALL', key]

/** Reads a session's meta fields: parse the reply with {@link summaryOf}. */
export const metaCommand = (key: string): string[] => ['HMGET', key, CREATED_FIELD, EXPIRES_FIELD, USER_FIELD]

/** The ids in a user's index that expire after `now`. */
export const liveIdsCommand = (indexKey: string, now: number): string[] => ['ZRANGEBYSCORE', indexKey, `(${now}`, '+inf']

/** Every id in a user's index. */
export const allIdsCommand = (indexKey: string): string[] => ['ZRANGE', indexKey, '0', '-1']

/** Drops ids from a user's index. */
export const removeIdsCommand = (indexKey: string, ids: string[]): string[] => ['ZREM', indexKey, ...ids]

/** The ids of a ZRANGE / ZRANGEBYSCORE reply, as strings. */
export const idsOf = (reply: unknown): string[] => (reply as unknown[]).map(String)

const utf8 = new TextDecoder('utf-8', { ignoreBOM: true })

/** A reply as a string: a string as is, bytes as UTF-8; undefined for anything else (nil included). */
export const replyText = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : value instanceof Uint8Array ? utf8.decode(value) : undefined

/** Whether a failed EVALSHA asks for the script itself (send it again as EVAL). */
export function isNoScriptError(error: unknown): boolean {
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

/**
 * A session hash (HGETALL's reply) as a record; undefined when it is missing, damaged, foreign or
 * expired at `now`. Throws only for a reply that is no hash at all.
 */
export function parseSessionHash(reply: unknown, now: number = Date.now()): SessionRecord | undefined {
  const flat = flatHash(reply)
  let createdAt: number | undefined
  let expiresAt: number | undefined
  let userId: string | undefined
  const data: Record<string, unknown> = {}
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const raw = flat[i]
    const field = typeof raw === 'string' ? raw : String(raw)
    const value = replyText(flat[i + 1])
    if (value === undefined) return undefined
    if (field.charCodeAt(0) === 0) {
      if (field.charCodeAt(1) !== 0) {
        if (field === CREATED_FIELD) createdAt = Number(value)
        else if (field === EXPIRES_FIELD) expiresAt = Number(value)
        else if (field === USER_FIELD) userId = value
        continue
      }
    }
    try {
      setOwn(data, field.charCodeAt(0) === 0 ? field.slice(1) : field, JSON.parse(value))
    } catch {
      return undefined // not ours, or damaged: treated as missing, never thrown
    }
  }
  if (createdAt === undefined || expiresAt === undefined || !Number.isFinite(createdAt) || !Number.isFinite(expiresAt)) return undefined
  if (expiresAt <= now) return undefined
  const record: SessionRecord = { data, createdAt, expiresAt }
  if (userId !== undefined) record.userId = userId
  return record
}

/**
 * One listed session from its meta fields ({@link metaCommand}'s reply); undefined when it is
 * gone, belongs to another user or has expired at `now` (its id is then stale in the index).
 */
export function summaryOf(id: string, userId: string, reply: unknown, now: number): SessionSummary | undefined {
  const [c, e, u] = ((reply as unknown[] | null | undefined) ?? []).map(replyText)
  const createdAt = Number(c)
  const expiresAt = Number(e)
  if (c === undefined || e === undefined || u !== userId || !Number.isFinite(createdAt) || !(expiresAt > now)) return undefined
  return { id, createdAt: new Date(createdAt), expiresAt: new Date(expiresAt) }
}

// Load: the request's cookie → an id (signed, encoded) or a seal → the store's record → the
// policy (idle and absolute expiry, revocation) → a Session. Never throws for bad input (a fresh
// session instead); a failing store is a SessionError STORE_ERROR.
//
// Each step takes what the previous one produced, now when it is ready, later when it is a
// promise (see maybe.ts): a memory read with plain ids runs from cookie to Session without an
// await. The steps are module functions with parameters, not closures, for the same reason.
import { newId, decodeValue, encodeValue, idOf, storeKey } from './codec.js'
import type { RequestContext } from './context.js'
import { MAX_CHUNKS, type RequestCookies } from './cookie.js'
import { storeError } from './errors.js'
import type { Verified } from './sign.js'
import { after, isThenable, type MaybePromise } from './maybe.js'
import { Session } from './session.js'
import { NONE, newState, type Engine } from './state.js'
import type { SessionRecord, SessionStore, StatelessStore } from './types.js'

/** What a cookie led to: an id and its record, before the policy has judged it. */
interface Found {
  id: string
  key: string
  record: SessionRecord
  /** Written again at the next commit: an older seal format or secret, an express-session cookie. */
  reseal: boolean
}

/** The request's session: loaded from its cookie, or new. */
export function load(engine: Engine, ctx: RequestContext): MaybePromise<Session> {
  const { config } = engine
  const cookies = ctx.cookies() // one parse of the header for every lookup below
  let raw = cookies.get(config.name)
  let names = raw === undefined ? NONE : engine.cookieNames
  if (raw === undefined && config.stateless) ({ value: raw, names } = readChunks(cookies, config.name))
  if (raw === undefined || raw === '') return fresh(engine, ctx, names)
  if (config.stateless) {
    const cookie = raw
    return (config.store as StatelessStore).unseal(cookie).then((opened) => {
      if (opened && isRecord(opened.record)) {
        return judge(engine, ctx, names, cookie, { id: opened.id, key: opened.id, record: opened.record, reseal: opened.reseal === true })
      }
      engine.events?.emit('invalid-signature', cookie, undefined, ctx.key)
      return fresh(engine, ctx, names)
    })
  }
  if (config.decode) {
    const cookie = raw
    return decodeValue(config, cookie).then((value) => verify(engine, ctx, names, cookie, value))
  }
  return verify(engine, ctx, names, raw, raw)
}

/** Cookie value (decoded) → id, through its signature or its shape. */
function verify(engine: Engine, ctx: RequestContext, names: readonly string[], raw: string, value: string | undefined): MaybePromise<Session> {
  const verified = value === undefined ? undefined : idOf(engine, value)
  if (isThenable(verified)) return verified.then((valid) => lookUp(engine, ctx, names, raw, valid))
  return lookUp(engine, ctx, names, raw, verified)
}

/** Id → the store's record. */
function lookUp(engine: Engine, ctx: RequestContext, names: readonly string[], raw: string, verified: Verified | undefined): MaybePromise<Session> {
  if (verified === undefined) {
    engine.events?.emit('invalid-signature', raw, undefined, ctx.key)
    return fresh(engine, ctx, names)
  }
  const key = storeKey(engine.config, verified.id)
  if (isThenable(key)) return key.then((hashed) => read(engine, ctx, names, raw, verified, hashed))
  return read(engine, ctx, names, raw, verified, key)
}

function read(engine: Engine, ctx: RequestContext, names: readonly string[], raw: string, verified: Verified, key: string): MaybePromise<Session> {
  let stored: MaybePromise<SessionRecord | null | undefined>
  try {
    stored = (engine.config.store as SessionStore).get(key)
  } catch (cause) {
    throw storeError('read the session', cause)
  }
  if (isThenable(stored)) {
    return stored.then(
      (record) => found(engine, ctx, names, raw, verified, key, record),
      (cause: unknown) => {
        throw storeError('read the session', cause)
      },
    )
  }
  return found(engine, ctx, names, raw, verified, key, stored)
}

function found(engine: Engine, ctx: RequestContext, names: readonly string[], raw: string, verified: Verified, key: string, stored: unknown): MaybePromise<Session> {
  if (!isRecord(stored)) {
    engine.events?.emit('unknown-id', key, undefined, ctx.key)
    return fresh(engine, ctx, names)
  }
  // Re-issued in the current format at once: an express-session cookie (s:<id>.<mac>), an id
  // signed before review 4 (not bound to the name) or under an older secret (review 8).
  return judge(engine, ctx, names, raw, { id: verified.id, key, record: stored, reseal: verified.reseal })
}

/** The policy: a record past its idle or absolute expiry, or revoked, gives a fresh session. */
function judge(engine: Engine, ctx: RequestContext, names: readonly string[], raw: string, session: Found): MaybePromise<Session> {
  const { config, events } = engine
  const { id, key, record } = session
  const now = Date.now()
  const absoluteEnd = config.absoluteTtl === undefined ? Infinity : record.createdAt + config.absoluteTtl
  if (!(record.expiresAt > now) || !(absoluteEnd > now)) {
    events?.emit('expired', key, record.userId, ctx.key)
    // The store would drop it at its own expiry; an absolute timeout can come earlier.
    if (config.stateless || absoluteEnd > now) return fresh(engine, ctx, names)
    return after(callStore('destroy an expired session', () => (config.store as SessionStore).destroy(key)), () => fresh(engine, ctx, names))
  }
  const { isSealRevoked } = config.store as StatelessStore
  // Review 2: a seal whose id was revoked (a logout, a regenerate) no longer opens.
  if (config.stateless && isSealRevoked) {
    return after(callStore('check revocation', () => isSealRevoked.call(config.store, id)), (revoked) => {
      if (!revoked) return judgeUser(engine, ctx, names, raw, session)
      events?.emit('revoked', key, record.userId, ctx.key)
      return fresh(engine, ctx, names)
    })
  }
  return judgeUser(engine, ctx, names, raw, session)
}

/** `revokedBefore` (the cookie store's per-user revocation), for a session bound to a user. */
function judgeUser(engine: Engine, ctx: RequestContext, names: readonly string[], raw: string, session: Found): MaybePromise<Session> {
  const { config, events } = engine
  const { key, record } = session
  const { isRevoked } = config.store as StatelessStore
  if (config.stateless && isRevoked && record.userId !== undefined) {
    const userId = record.userId
    return after(
      callStore('check revocation', () => isRevoked.call(config.store, userId, record.createdAt)),
      (revoked) => {
        if (!revoked) return loaded(engine, ctx, names, raw, session)
        events?.emit('revoked', key, userId, ctx.key)
        return fresh(engine, ctx, names)
      },
    )
  }
  return loaded(engine, ctx, names, raw, session)
}

function loaded(engine: Engine, ctx: RequestContext, names: readonly string[], raw: string, session: Found): MaybePromise<Session> {
  const { config, signer } = engine
  const { id, key, record, reseal } = session
  // A server-side cookie to re-issue (an express-session one) gets Tessera's format now.
  if (reseal && !config.stateless) {
    return after(after(signer!.sign(id), (signed) => encodeValue(config, signed)), (cookieValue) =>
      new Session(engine, ctx, newState(false, id, key, cookieValue, record.createdAt, record.expiresAt, record.userId, reseal, names), record.data),
    )
  }
  const state = newState(false, id, key, raw, record.createdAt, record.expiresAt, record.userId, reseal, names)
  if (config.stateless) state.sealId = id
  return new Session(engine, ctx, state, record.data)
}

/** A new, empty session (nothing is stored until it holds data). */
function fresh(engine: Engine, ctx: RequestContext, names: readonly string[]): MaybePromise<Session> {
  const made = newId(engine)
  if (isThenable(made)) return made.then((id) => freshWith(engine, ctx, names, id.id, id.key, id.cookieValue))
  return freshWith(engine, ctx, names, made.id, made.key, made.cookieValue)
}

function freshWith(engine: Engine, ctx: RequestContext, names: readonly string[], id: string, key: string, cookieValue: string): Session {
  const now = Date.now()
  return new Session(engine, ctx, newState(true, id, key, cookieValue, now, now + engine.config.ttl, undefined, false, names), {})
}

/** The cookie store's value when it came in `name.0`, `name.1`, ... chunks (joined), with the chunks' names. */
function readChunks(cookies: RequestCookies, name: string): { value: string | undefined; names: readonly string[] } {
  const names: string[] = []
  let value = ''
  for (let i = 0; i < MAX_CHUNKS; i++) {
    const chunk = cookies.get(`${name}.${i}`)
    if (chunk === undefined) break
    names.push(`${name}.${i}`)
    value += chunk
  }
  return { value: names.length ? value : undefined, names }
}

export function isRecord(value: unknown): value is SessionRecord {
  if (typeof value !== 'object' || value === null) return false
  const record = value as Partial<SessionRecord>
  return typeof record.data === 'object' && record.data !== null && typeof record.createdAt === 'number' && typeof record.expiresAt === 'number'
}

/** A store call whose failure, thrown or rejected, becomes a SessionError STORE_ERROR. */
export function callStore<T>(operation: string, run: () => MaybePromise<T>): MaybePromise<T> {
  let result: MaybePromise<T>
  try {
    result = run()
  } catch (cause) {
    throw storeError(operation, cause)
  }
  return isThenable(result)
    ? result.then(undefined, (cause: unknown) => {
        throw storeError(operation, cause)
      })
    : result
}

// Commit, first half: decide what a commit does (the store operations, in order, and the cookies
// to set) and advance the state as if it succeeded. The plan carries `restore`, which puts the
// state back when the executor (execute.ts) fails. Deciding is synchronous, so autoCommit can set
// the cookie inside node:http's writeHead.
import type { RequestContext } from './context.js'
import { MAX_CHUNKS, MAX_COOKIE_BYTES, serializeCookie, type OutgoingCookie } from './cookie.js'
import { SessionError } from './errors.js'
import type { Config } from './options.js'
import { setOwn } from './plain.js'
import { assertStorableData } from './storable.js'
import { NONE, type Engine, type State } from './state.js'
import type { SessionChanges, SessionRecord, SessionStore, StatelessStore } from './types.js'

/** One store call. `what` names it in a STORE_ERROR's message. */
export type StoreWrite =
  | { op: 'destroy'; key: string; what: string }
  | { op: 'set' | 'update'; key: string; record: SessionRecord; what: string }
  | { op: 'patch'; key: string; changes: SessionChanges; expiresAt: number; what: string }
  | { op: 'touch'; key: string; expiresAt: number; what: string }
  /** The store's `rotate`: answers false when `oldKey` was gone, and the plan's `gone` then runs. */
  | { op: 'rotate'; oldKey: string; key: string; record: SessionRecord; what: string }
  /** The cookie store's revocation list: seals of session `id` stop opening (review 2). */
  | { op: 'revoke-seal'; id: string; until: number; what: string }

export interface Plan {
  /** Store calls, run one after the other. */
  writes: readonly StoreWrite[]
  /** Cookies to set; a function when they must first be sealed (the cookie store). */
  cookies: readonly OutgoingCookie[] | (() => Promise<readonly OutgoingCookie[]>)
  /** A plain touch: where no cookie can be written (a server component) it waits for a request that can. */
  optional: boolean
  /** Puts the state back as it was before the plan, when the commit fails. */
  restore: () => void
  /** Runs once the writes succeeded. */
  done?: () => void
  /**
   * Runs instead of `done` when a `rotate` found the old session gone (logged out or revoked
   * while the request ran): the session is then destroyed, and these cookies (that clear it)
   * replace `cookies`.
   */
  gone?: () => readonly OutgoingCookie[]
}

const NO_WRITES: readonly StoreWrite[] = Object.freeze([])
const NO_COOKIES: readonly OutgoingCookie[] = Object.freeze([])

/** What a commit of this session does now; undefined when there is nothing to do. */
export function plan(engine: Engine, ctx: RequestContext, state: State): Plan | undefined {
  const { config } = engine
  // Checklist 8: with `secure: true`, a plain-HTTP request gets no cookie at all.
  const cookiesAllowed = !(config.cookie.secure === true && ctx.secure === false)
  // A new session whose cookie cannot be sent is never written either: nobody could come back
  // for it, and each such request would leave one more record in the store.
  if (!cookiesAllowed && !state.stored && !state.destroyed && state.oldKeys.length === 0) return undefined
  const decided = decide(engine, ctx, state)
  if (decided && !cookiesAllowed) decided.cookies = NO_COOKIES
  return decided
}

// The decision alone: a request with nothing to commit (a read) allocates nothing here.
function decide(engine: Engine, ctx: RequestContext, state: State): Plan | undefined {
  const { config } = engine
  const tracker = state.tracker
  const now = Date.now()
  if (state.destroyed) return state.destroyCommitted ? undefined : destroyPlan(engine, ctx, state, now)
  const changed = tracker.hasChanges || state.userChanged
  const fresh = !state.stored
  if (fresh && !state.regenerated && isEmpty(tracker.target) && state.userId === undefined) return undefined
  const due = state.touchRequested || state.reseal || touchDue(engine, state, now)
  if (!fresh && !changed && !due) return undefined
  if (config.stateless && !fresh && !changed && !config.rolling && !state.reseal) return undefined
  return savePlan(engine, ctx, state, now, fresh, changed, due)
}

function destroyPlan(engine: Engine, ctx: RequestContext, state: State, now: number): Plan {
  const { config } = engine
  const restore = snapshot(state, state.tracker.takeChanges())
  const keys = config.stateless ? NONE : state.stored ? [...state.oldKeys, state.key] : state.oldKeys
  const names = new Set([config.name, ...state.cookiesReceived])
  const sendClear = state.stored || state.cookiesReceived.length > 0 || state.regenerated
  const revoke = revokeSeal(engine, state, now)
  state.destroyCommitted = true
  state.stored = false
  state.oldKeys = NONE
  state.sealId = undefined
  const writes: StoreWrite[] = keys.map((key) => ({ op: 'destroy', key, what: 'destroy the session' }))
  if (revoke) writes.push(revoke)
  return {
    writes,
    cookies: sendClear ? clear(engine, ctx, [...names], now) : NO_COOKIES,
    optional: false,
    restore,
  }
}

function savePlan(engine: Engine, ctx: RequestContext, state: State, now: number, fresh: boolean, changed: boolean, due: boolean): Plan {
  const { config } = engine
  const store = config.store as SessionStore
  const tracker = state.tracker
  const expiresAt = fresh || due ? expiryFrom(engine, state, now) : state.expiresAt
  const changedKeys = tracker.takeChanges()
  try {
    // Only what this request changed: the rest was checked when it was written (review 15).
    assertStorableData(tracker.target, changedKeys)
  } catch (error) {
    for (const key of changedKeys) tracker.markChanged(key)
    throw error
  }
  const restore = snapshot(state, changedKeys)
  const oldKeys = state.oldKeys
  const userChanged = state.userChanged
  // A cookie in an older format or under an older secret is re-issued on this response, rolling
  // or not (review 8: a rotation completes as users come back).
  const reseal = state.reseal
  state.stored = true
  state.expiresAt = expiresAt
  state.regenerated = false
  state.touchRequested = false
  state.reseal = false
  state.userChanged = false
  state.oldKeys = NONE
  const sendCookie = fresh || reseal || (due && config.rolling)
  const optional = !changed && !fresh

  if (config.stateless) {
    const sealer = config.store as StatelessStore
    const received = state.cookiesReceived
    // After regenerate(), the seal the browser held (the old id) stops opening (review 2).
    const revoke = state.sealId !== state.id ? revokeSeal(engine, state, now) : undefined
    state.sealId = state.id
    const sealed = async (): Promise<readonly OutgoingCookie[]> => {
      const value = await sealer.seal(state.id, record(state, expiresAt))
      if (sealer.maxSize !== undefined && value.length > sealer.maxSize) {
        throw new SessionError('TOO_LARGE', `The session is ${value.length} bytes sealed; the cookie store allows ${sealer.maxSize} (maxSize).`)
      }
      state.cookieValue = value
      const out = chunks(engine, ctx, value, expiresAt, now, received)
      // What the browser holds after this response: a later commit of the same request clears
      // the chunks this one set but that one no longer uses (one live value per response, review 17).
      state.cookiesReceived = out.filter((c) => c.value !== '').map((c) => c.name)
      return out
    }
    return { writes: revoke ? [revoke] : NO_WRITES, cookies: sealed, optional, restore }
  }

  let writes: StoreWrite[]
  let done: (() => void) | undefined
  let gone: (() => readonly OutgoingCookie[]) | undefined
  if (fresh) {
    // Checklist 20: the old record goes before (never after) the new one is written. Review 12:
    // with `rotate`, in the same store operation, and only while the old record still exists.
    const from = store.rotate !== undefined && oldKeys.length > 0 ? oldKeys[oldKeys.length - 1]! : undefined
    writes = (from === undefined ? oldKeys : oldKeys.slice(0, -1)).map((key) => ({ op: 'destroy', key, what: 'destroy the old session' }))
    if (from === undefined) writes.push({ op: 'set', key: state.key, record: record(state, expiresAt), what: 'save the session' })
    else {
      writes.push({ op: 'rotate', oldKey: from, key: state.key, record: record(state, expiresAt), what: 'save the session' })
      gone = () => lost(engine, ctx, state, now)
    }
    const events = engine.events
    if (events) done = () => events.emit('created', state.key, state.userId, ctx.key)
  } else if (changed && store.patch !== undefined && !userChanged) {
    writes = [{ op: 'patch', key: state.key, changes: changesOf(tracker.target, changedKeys), expiresAt, what: 'save the session' }]
  } else if (changed || store.touch === undefined) {
    // A whole-record write of a session loaded from the store: `update` where the store has it,
    // so a request slower than a logout cannot recreate the session (checklist 25).
    writes = [{ op: store.update ? 'update' : 'set', key: state.key, record: record(state, expiresAt), what: changed ? 'save the session' : 'touch the session' }]
  } else {
    writes = [{ op: 'touch', key: state.key, expiresAt, what: 'touch the session' }]
  }
  return {
    writes,
    cookies: sendCookie ? [cookie(engine, ctx, state.cookieValue, expiresAt, now)] : NO_COOKIES,
    optional,
    restore,
    done,
    gone,
  }
}

/** Keeps revoked seal ids this long past the latest expiry a seal could get: a request slower than that escapes the list. */
export const REVOKE_MARGIN = 10 * 60 * 1000

/**
 * The cookie store's revocation of the seal the browser holds (`state.sealId`), where the store
 * keeps a list: kept until no seal of that id can still be valid. A request in flight may seal
 * it again up to `ttl` after its commit, so `now + ttl` plus a margin.
 */
function revokeSeal(engine: Engine, state: State, now: number): StoreWrite | undefined {
  const { config } = engine
  const id = state.sealId
  if (!config.stateless || id === undefined || (config.store as StatelessStore).revokeSeal === undefined) return undefined
  return { op: 'revoke-seal', id, until: Math.max(state.expiresAt, now + config.ttl) + REVOKE_MARGIN, what: 'revoke the seal' }
}

/** The session was gone when its rotation ran: it ends as a destroyed one (its cookies cleared). */
function lost(engine: Engine, ctx: RequestContext, state: State, now: number): OutgoingCookie[] {
  state.destroyed = true
  state.destroyCommitted = true
  state.stored = false
  state.tracker.replace({})
  state.tracker.clearChanges()
  return clear(engine, ctx, [...new Set([engine.config.name, ...state.cookiesReceived])], now)
}

/**
 * A refresh is due once `touchAfter` has passed since the last one (the expiry was set `ttl`
 * before it ends), as long as it still moves the expiry: capped at the absolute end, the gain may
 * be smaller than `touchAfter`, and the session must still live to that end (review 9).
 */
function touchDue(engine: Engine, state: State, now: number): boolean {
  const { ttl, touchAfter, absoluteTtl } = engine.config
  if (now + ttl - state.expiresAt < touchAfter) return false
  return absoluteTtl === undefined || expiryFrom(engine, state, now) > state.expiresAt
}

/** The idle expiry a write at `now` gives, capped by the absolute timeout. */
function expiryFrom(engine: Engine, state: State, now: number): number {
  const { ttl, absoluteTtl } = engine.config
  const idle = now + ttl
  return absoluteTtl === undefined ? idle : Math.min(idle, state.createdAt + absoluteTtl)
}

/**
 * What restores the state if a commit fails: taken only once there is work (a read must not pay
 * for the copy). `changes`: the tracker's changes, given back to it on failure.
 */
function snapshot(state: State, changes: Iterable<string>): () => void {
  const saved = { ...state } // oldKeys is replaced, never mutated: sharing it is safe
  return () => {
    Object.assign(state, saved)
    for (const key of changes) state.tracker.markChanged(key)
  }
}

/** The record a store keeps for this session. */
function record(state: State, expiresAt: number): SessionRecord {
  const out: SessionRecord = { data: state.tracker.target, createdAt: state.createdAt, expiresAt }
  if (state.userId !== undefined) out.userId = state.userId
  return out
}

/** The top-level keys a commit changed, as a store's `patch` takes them. */
function changesOf(data: Record<string, unknown>, keys: Iterable<string>): SessionChanges {
  const set: Record<string, unknown> = {}
  const unset: string[] = []
  for (const key of keys) {
    if (Object.prototype.hasOwnProperty.call(data, key)) setOwn(set, key, data[key]) // a `__proto__` key stays data
    else unset.push(key)
  }
  return { set, unset }
}

/**
 * Whether the session cookie carries `Secure`, given the options and whether the request came
 * over HTTPS (`RequestContext.secure`). The one rule; compat entries that show the cookie ask it.
 */
export function cookieSecure(config: Pick<Config, 'cookie' | 'production'>, requestSecure: boolean | undefined): boolean {
  const options = config.cookie
  return options.secure === true || options.sameSite === 'none' || options.partitioned || (options.secure === 'auto' && (requestSecure === true || config.production))
}

/** The session cookie with this value; `expiresAt` undefined: a cookie that clears it. */
function cookie(engine: Engine, ctx: RequestContext, value: string, expiresAt: number | undefined, now: number): OutgoingCookie {
  const { name, cookie: options } = engine.config
  const secure = cookieSecure(engine.config, ctx.secure)
  if (secure && ctx.secure === false) warnSecureOverHttp(ctx)
  return {
    name,
    value,
    attributes: {
      // Whole seconds (RFC 6265 ignores a fractional Max-Age), whichever adapter writes it.
      maxAge: expiresAt === undefined ? 0 : options.persistent ? Math.floor((expiresAt - now) / 1000) - options.maxAgeOffset : undefined,
      path: options.path,
      domain: options.domain,
      httpOnly: options.httpOnly,
      secure,
      sameSite: options.sameSite,
      partitioned: options.partitioned,
    },
  }
}

const WARNED_HTTP = Symbol.for('tessera.warnedSecureOverHttp')
const LOCAL_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])(:\d+)?$/i

/**
 * A Secure cookie sent over plain HTTP is dropped by the browser (except on localhost, which
 * browsers treat as secure): the session silently never comes back. Said once per process.
 */
function warnSecureOverHttp(ctx: RequestContext): void {
  const flags = globalThis as { [WARNED_HTTP]?: boolean }
  const host = ctx.host?.()
  if (flags[WARNED_HTTP] || host === undefined || LOCAL_HOST.test(host)) return
  flags[WARNED_HTTP] = true
  console.warn(
    `tessera: a Secure session cookie was set on a plain-HTTP request to ${host}; browsers drop it, so the session is lost on every request. ` +
      "Serve the app over HTTPS (behind a proxy, set trustProxy: true), or set cookie: { secure: false } for a plain-HTTP deployment (secure: 'auto' turns Secure on when NODE_ENV=production).",
  )
}

/** Cookies that expire `names` (a destroyed session, or chunks no longer used). */
function clear(engine: Engine, ctx: RequestContext, names: readonly string[], now: number): OutgoingCookie[] {
  return names.map((name) => ({ ...cookie(engine, ctx, '', undefined, now), name }))
}

/** The sealed value as one cookie, or as `name.0..n` chunks when it would pass 4096 bytes. */
function chunks(engine: Engine, ctx: RequestContext, value: string, expiresAt: number, now: number, received: readonly string[]): OutgoingCookie[] {
  const { name, store } = engine.config
  const most = (store as StatelessStore).maxChunks ?? MAX_CHUNKS
  const base = cookie(engine, ctx, '', expiresAt, now)
  const overhead = serializeCookie({ ...base, name: `${name}.00` }).length
  const room = MAX_COOKIE_BYTES - overhead
  if (value.length + overhead <= MAX_COOKIE_BYTES) {
    return [{ ...base, value }, ...clear(engine, ctx, received.filter((n) => n !== name), now)]
  }
  if (most <= 1) {
    throw new SessionError('TOO_LARGE', `The session cookie would be about ${value.length + overhead} bytes; browsers keep at most ${MAX_COOKIE_BYTES}, and this cookie store does not split it (chunk: false).`)
  }
  const out: OutgoingCookie[] = []
  for (let i = 0; i * room < value.length; i++) out.push({ ...base, name: `${name}.${i}`, value: value.slice(i * room, (i + 1) * room) })
  if (out.length > most) throw new SessionError('TOO_LARGE', `The sealed session needs ${out.length} cookies; the cookie store writes at most ${most}.`)
  const used = new Set(out.map((c) => c.name))
  return [...out, ...clear(engine, ctx, received.filter((n) => !used.has(n)), now)]
}

function isEmpty(data: object): boolean {
  for (const _ in data) return false
  return true
}

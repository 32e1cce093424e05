// The one flow: load (cookie -> id or seal -> record -> policy) and commit (store writes, then
// Set-Cookie). Every adapter, helper and compatibility entry goes through these two functions.
import { READ_ONLY_MESSAGE, type RequestContext } from '../adapters/context.js'
import type { OutgoingCookie } from './cookie.js'
import { isCookieValue, serializeCookie } from './cookie.js'
import { SessionError, storeError } from './errors.js'
import type { EventSink } from './events.js'
import { generateId, isValidId } from './id.js'
import type { Config } from './options.js'
import { sha256, type Signer } from './sign.js'
import { Tracker } from './track.js'
import { syncStore } from '../stores/memory-store.js'
import type { SessionChanges, SessionRecord, SessionStore, StatelessStore } from './types.js'

/** What the flow needs besides the options: built once per `createSessions`. */
export interface Engine {
  config: Config
  signer: Signer | undefined
  events: EventSink | undefined
  /** `[config.name]`, shared by every session whose request carried the cookie (never mutated). */
  cookieNames: readonly string[]
}

interface State {
  id: string
  /** The store key: the id, or its SHA-256 with `hashIds`. */
  key: string
  /** What the cookie carries: the id, the signed id, or (cookie store) the seal it came with. */
  cookieValue: string
  isNew: boolean
  /** A record for `key` exists in the store (or, for the cookie store, in the browser). */
  stored: boolean
  createdAt: number
  expiresAt: number
  userId: string | undefined
  userChanged: boolean
  tracker: Tracker
  destroyed: boolean
  destroyCommitted: boolean
  /** Keys of ids replaced by regenerate(), destroyed at the next commit. Replaced, never mutated (snapshots share it). */
  oldKeys: readonly string[]
  regenerated: boolean
  touchRequested: boolean
  /** The cookie store opened a value it wants written again (older format or secret): re-seal at commit. */
  reseal: boolean
  /** Names of session cookies the request carried (the name, or its chunks). */
  cookiesReceived: readonly string[]
  /** The app's own commit() failed (it saw the error): autoCommit does not retry behind its back. */
  commitFailed: boolean
}

/** The work one commit does, decided synchronously so autoCommit can set headers in `writeHead`. */
interface Work {
  write: (() => Promise<void>) | undefined
  /** Instead of `write`: the same store write done synchronously (a MemoryStore's own methods); a throw is a failure to `operation`. */
  writeNow: (() => void) | undefined
  operation: string
  /** Ready cookies, or a promise of them (sealing is async). */
  cookies: readonly OutgoingCookie[] | (() => Promise<readonly OutgoingCookie[]>)
  /** Whether a failed cookie write (read-only context) may be ignored: only for a plain touch. */
  optional: boolean
  restore: () => void
}

const MAX_COOKIE_BYTES = 4096
const MAX_CHUNKS = 32
const NONE: readonly string[] = Object.freeze([])
const NO_COOKIES: readonly OutgoingCookie[] = Object.freeze([])

async function callStore<T>(operation: string, run: () => Promise<T> | T): Promise<T> {
  try {
    return await run()
  } catch (cause) {
    throw storeError(operation, cause)
  }
}

function isRecord(value: unknown): value is SessionRecord {
  if (typeof value !== 'object' || value === null) return false
  const record = value as Partial<SessionRecord>
  return (
    typeof record.data === 'object' &&
    record.data !== null &&
    typeof record.createdAt === 'number' &&
    typeof record.expiresAt === 'number'
  )
}

function isEmpty(data: object): boolean {
  for (const _ in data) return false
  return true
}

async function newId(engine: Engine): Promise<{ id: string; key: string; cookieValue: string }> {
  const { config, signer } = engine
  const id = config.genid ? config.genid() : generateId()
  if (typeof id !== 'string' || !isValidId(id)) {
    throw new TypeError(`Tessera option genid returned ${JSON.stringify(id)}; ids must be 16–128 characters of [A-Za-z0-9_-]`)
  }
  return {
    id,
    key: config.hashIds ? await sha256(id) : id,
    // The cookie store seals at commit; server-side stores sign (and encode) now, so the cookie
    // is ready synchronously when autoCommit runs inside writeHead.
    cookieValue: config.stateless ? '' : await encodeValue(config, signer ? await signer.sign(id) : id),
  }
}

async function encodeValue(config: Config, value: string): Promise<string> {
  if (!config.encode) return value
  const encoded = await config.encode(value)
  if (typeof encoded !== 'string' || encoded === '' || !isCookieValue(encoded)) {
    throw new TypeError(`Tessera option encode returned ${JSON.stringify(encoded)}; it must return a non-empty cookie value`)
  }
  return encoded
}

/** The cookie value through the `decode` option: undefined when it rejects the value. */
async function decodeValue(config: Config, raw: string): Promise<string | undefined> {
  if (!config.decode) return raw
  try {
    const decoded = await config.decode(raw)
    return typeof decoded === 'string' && decoded !== '' ? decoded : undefined
  } catch {
    return undefined
  }
}

/** The cookie store's value when it came in `name.0`, `name.1`, ... chunks (joined), with the chunks' names. */
function readChunks(ctx: RequestContext, config: Config): { value: string | undefined; names: readonly string[] } {
  const names: string[] = []
  let value = ''
  for (let i = 0; i < MAX_CHUNKS; i++) {
    const chunk = ctx.cookie(`${config.name}.${i}`)
    if (chunk === undefined) break
    names.push(`${config.name}.${i}`)
    value += chunk
  }
  return { value: names.length ? value : undefined, names }
}

/** A new session's State; the Session adds the tracker. One object per request, built in place. */
function newState(
  isNew: boolean,
  id: string,
  key: string,
  cookieValue: string,
  createdAt: number,
  expiresAt: number,
  userId: string | undefined,
  reseal: boolean,
  cookiesReceived: readonly string[],
): State {
  return {
    id,
    key,
    cookieValue,
    isNew,
    stored: !isNew,
    createdAt,
    expiresAt,
    userId,
    userChanged: false,
    tracker: undefined as unknown as Tracker, // set by the Session's constructor
    destroyed: false,
    destroyCommitted: false,
    oldKeys: NONE,
    regenerated: false,
    touchRequested: false,
    reseal,
    cookiesReceived,
    commitFailed: false,
  }
}

function guardState(state: State): void {
  if (state.destroyed) throw new SessionError('DESTROYED', 'This session was destroyed; it can no longer be changed.')
}

/**
 * The request's session without a single await, for the most common case: a valid unsigned id
 * of a live session in a MemoryStore (plain ids, no decode, no hashIds). Undefined whenever
 * anything else could happen (no cookie, an unknown or expired id, another store, ...): then
 * `loadSession` does the whole work. Every await costs a promise, a suspended frame and a
 * microtask turn; on a memory read they were most of the allocations Tessera made.
 */
export function loadNow(engine: Engine, ctx: RequestContext): Session | undefined {
  const { config } = engine
  if (config.stateless || config.decode || config.hashIds || engine.signer) return undefined
  const id = ctx.cookie(config.name)
  if (id === undefined || !isValidId(id)) return undefined
  const sync = syncStore(config.store)
  if (!sync) return undefined
  const record = sync.get(id)
  if (!isRecord(record)) return undefined
  const now = Date.now()
  if (!(record.expiresAt > now) || (config.absoluteTtl !== undefined && !(record.createdAt + config.absoluteTtl > now))) return undefined
  return new Session(engine, ctx, newState(false, id, id, id, record.createdAt, record.expiresAt, record.userId, false, engine.cookieNames), record.data)
}

/**
 * Loads the request's session: never throws for bad input, throws STORE_ERROR when the store fails.
 * Written as one flat function with locals (no intermediate objects, no await where the value is
 * already there): it runs on every request, and each allocation or await showed in profiles.
 */
export async function loadSession(engine: Engine, ctx: RequestContext): Promise<Session> {
  const { config, signer, events } = engine
  const now = Date.now()
  let raw = ctx.cookie(config.name)
  let names = raw === undefined ? NONE : engine.cookieNames
  if (raw === undefined && config.stateless) ({ value: raw, names } = readChunks(ctx, config))
  let id: string | undefined
  let key = ''
  let record: SessionRecord | undefined
  let reseal = false

  if (raw !== undefined && raw !== '') {
    if (config.stateless) {
      const opened = await (config.store as StatelessStore).unseal(raw)
      if (opened && isRecord(opened.record)) {
        id = key = opened.id
        record = opened.record
        reseal = opened.reseal === true
      } else events?.emit('invalid-signature', raw, undefined, ctx.key)
    } else {
      const value = config.decode ? await decodeValue(config, raw) : raw
      const valid = value === undefined ? undefined : signer ? await signer.unsign(value) : isValidId(value) ? value : undefined
      if (valid === undefined) {
        events?.emit('invalid-signature', raw, undefined, ctx.key)
      } else {
        key = config.hashIds ? await sha256(valid) : valid
        let stored: unknown
        try {
          const sync = syncStore(config.store)
          stored = sync ? sync.get(key) : await (config.store as SessionStore).get(key)
        } catch (cause) {
          throw storeError('read the session', cause)
        }
        if (isRecord(stored)) {
          id = valid
          record = stored
          // An express-session cookie (s:<id>.<mac>) is re-issued in Tessera's format at once.
          reseal = value!.startsWith('s:')
        } else events?.emit('unknown-id', valid, undefined, ctx.key)
      }
    }
  }

  if (record !== undefined) {
    const absoluteEnd = config.absoluteTtl === undefined ? Infinity : record.createdAt + config.absoluteTtl
    let valid = record.expiresAt > now && absoluteEnd > now
    if (valid && config.stateless && record.userId !== undefined) {
      const { isRevoked } = config.store as StatelessStore
      if (isRevoked && (await callStore('check revocation', () => isRevoked.call(config.store, record!.userId!, record!.createdAt)))) {
        events?.emit('revoked', id!, record.userId, ctx.key)
        valid = false
      }
    }
    if (!valid) {
      if (record.expiresAt <= now || absoluteEnd <= now) events?.emit('expired', id!, record.userId, ctx.key)
      // The store would drop it at its own expiry; an absolute timeout can come earlier.
      if (!config.stateless && absoluteEnd <= now) {
        await callStore('destroy an expired session', () => (config.store as SessionStore).destroy(key))
      }
      record = undefined
    }
  }

  if (record !== undefined) {
    const reissue = reseal && !config.stateless
    const cookieValue = reissue ? await encodeValue(config, await signer!.sign(id!)) : raw!
    const state = newState(false, id!, key, cookieValue, record.createdAt, record.expiresAt, record.userId, reseal, names)
    return new Session(engine, ctx, state, record.data)
  }
  const fresh = await newId(engine)
  const state = newState(true, fresh.id, fresh.key, fresh.cookieValue, now, now + config.ttl, undefined, false, names)
  return new Session(engine, ctx, state, {})
}

/** Runs the work a commit decided: store writes first, then cookies; rolls state back on failure. */
async function runWork(ctx: RequestContext, work: Work): Promise<string[]> {
  try {
    if (ctx.readOnly) {
      if (work.optional) {
        work.restore() // a due touch waits for a context that can write
        return []
      }
      throw new SessionError('READ_ONLY', READ_ONLY_MESSAGE)
    }
    const cookies = typeof work.cookies === 'function' ? await work.cookies() : work.cookies
    const lines = cookies.map(serializeCookie) // serialised once: for the caller and the response
    if (ctx.cookiesFirst) {
      if (cookies.length) ctx.apply(cookies, lines)
      if (work.writeNow) writeNow(work)
      else if (work.write) await work.write()
    } else {
      if (work.writeNow) writeNow(work)
      else if (work.write) await work.write()
      if (cookies.length) ctx.apply(cookies, lines)
    }
    return lines
  } catch (error) {
    work.restore()
    if (work.optional && error instanceof SessionError && error.code === 'READ_ONLY') return []
    throw error
  }
}

function writeNow(work: Work): void {
  try {
    work.writeNow!()
  } catch (cause) {
    throw storeError(work.operation, cause)
  }
}

/**
 * A whole-record write of a session that was loaded from the store: `update` where the store has
 * it, so a request slower than a logout cannot recreate the session (checklist 25); `set` otherwise.
 */
function replaceStored(store: SessionStore, key: string, record: SessionRecord): Promise<void> {
  return store.update ? store.update(key, record) : store.set(key, record)
}

/** The top-level keys a commit changed, as a store's `patch` takes them. */
function changesOf(data: Record<string, unknown>, keys: Iterable<string>): SessionChanges {
  const set: Record<string, unknown> = {}
  const unset: string[] = []
  for (const key of keys) {
    if (Object.prototype.hasOwnProperty.call(data, key)) set[key] = data[key]
    else unset.push(key)
  }
  return { set, unset }
}

let prepare: (session: Session) => Work | undefined
let contextOf: (session: Session) => RequestContext
let dataOf: (session: Session) => Record<string, unknown>

/**
 * One request's session. `data` is yours to read and change (deep changes are detected);
 * `commit()` persists it, and runs by itself on node:http before the headers leave.
 */
export class Session<Data extends object = Record<string, unknown>> {
  readonly #engine: Engine
  readonly #ctx: RequestContext
  readonly #state: State

  static {
    // autoCommit's entry: after a failed commit() the app caught (and answered as it chose), the
    // end of the response must not retry it and turn that answer into a 500.
    prepare = (session) => (session.#state.commitFailed ? undefined : session.#prepare())
    contextOf = (session) => session.#ctx
    dataOf = (session) => session.#state.tracker.target
  }

  /** @internal Created by `sessions.get()`. */
  constructor(engine: Engine, ctx: RequestContext, state: State, data: Record<string, unknown>) {
    this.#engine = engine
    this.#ctx = ctx
    state.tracker = new Tracker(data, guardState, state)
    this.#state = state
  }

  /** The session id (never the cookie value, which may carry a signature). */
  get id(): string {
    return this.#state.id
  }
  /** True when no valid session came with the request. */
  get isNew(): boolean {
    return this.#state.isNew
  }
  /** The session's data: read it, change it; deep changes are detected at commit. Empty after destroy(). */
  get data(): Data {
    return this.#state.tracker.proxy as Data
  }
  /** Replaces all data at once. */
  set data(value: Data) {
    this.#guard()
    this.#state.tracker.replace(value as Record<string, unknown>)
  }
  get createdAt(): Date {
    return new Date(this.#state.createdAt)
  }
  /** When the session ends if idle (earlier if `absoluteTtl` says so). */
  get expiresAt(): Date {
    return new Date(this.#state.expiresAt)
  }
  /** The user bound with bindUser(), if any. */
  get userId(): string | undefined {
    return this.#state.userId
  }

  /**
   * Persists the session and applies its cookie to the response (or cookie store). Resolves to
   * the `Set-Cookie` values it produced: none when nothing needed sending.
   */
  async commit(): Promise<string[]> {
    const state = this.#state
    state.commitFailed = false
    const work = this.#prepare()
    if (!work) return []
    try {
      return await runWork(this.#ctx, work)
    } catch (error) {
      state.commitFailed = true
      throw error
    }
  }

  /** New id, same data; the old id stops working at the next commit. Call it at every login. */
  async regenerate(): Promise<void> {
    this.#guard()
    const state = this.#state
    const fresh = await newId(this.#engine)
    if (state.stored && !this.#engine.config.stateless) state.oldKeys = [...state.oldKeys, state.key]
    Object.assign(state, fresh)
    state.stored = false
    state.regenerated = true
    this.#engine.events?.emit('regenerated', fresh.id, state.userId, this.#ctx.key)
  }

  /** Removes the session from the store and expires its cookie, now. Afterwards data is empty and writes throw. */
  async destroy(): Promise<void> {
    const state = this.#state
    if (state.destroyed) return
    state.destroyed = true
    state.tracker.replace({})
    state.tracker.clearChanges()
    this.#engine.events?.emit('destroyed', state.id, state.userId, this.#ctx.key)
    await this.commit()
  }

  /**
   * Ends this session (as `destroy()` does, if it was not destroyed yet) and starts a new, empty
   * one in its place, with a new id: writes are allowed again, and once it holds data its cookie
   * replaces the one that cleared the old session. For "log out, then say goodbye" flows.
   */
  async restart(): Promise<void> {
    const state = this.#state
    if (!state.destroyed) await this.destroy()
    const fresh = await newId(this.#engine)
    const now = Date.now()
    Object.assign(state, fresh, {
      isNew: true,
      stored: false,
      createdAt: now,
      expiresAt: now + this.#engine.config.ttl,
      userId: undefined,
      userChanged: false,
      destroyed: false,
      destroyCommitted: false,
      oldKeys: NONE,
      regenerated: false,
      touchRequested: false,
    })
    state.tracker.clearChanges()
  }

  /** Extends the idle expiry (and re-sends the cookie when `rolling`) at the next commit. */
  touch(): void {
    this.#guard()
    this.#state.touchRequested = true
  }

  /** Binds the session to a user, for `sessions.listUser()` and `sessions.revokeUser()`. */
  bindUser(userId: string | number): void {
    this.#guard()
    const id = String(userId)
    if (id !== this.#state.userId) {
      this.#state.userId = id
      this.#state.userChanged = true
    }
  }

  #guard(): void {
    guardState(this.#state)
  }

  #expiryFrom(now: number): number {
    const { ttl, absoluteTtl } = this.#engine.config
    const idle = now + ttl
    return absoluteTtl === undefined ? idle : Math.min(idle, this.#state.createdAt + absoluteTtl)
  }

  #cookie(value: string, expiresAt: number | undefined, now: number): OutgoingCookie {
    const { name, cookie, production } = this.#engine.config
    const secure =
      cookie.secure === true || cookie.sameSite === 'none' || cookie.partitioned || (cookie.secure === 'auto' && (this.#ctx.secure === true || production))
    return {
      name,
      value,
      attributes: {
        maxAge: expiresAt === undefined ? 0 : cookie.persistent ? (expiresAt - now) / 1000 : undefined,
        path: cookie.path,
        domain: cookie.domain,
        httpOnly: cookie.httpOnly,
        secure,
        sameSite: cookie.sameSite,
        partitioned: cookie.partitioned,
      },
    }
  }

  /** Cookies that expire `names` (a destroyed session, or chunks no longer used). */
  #clear(names: readonly string[], now: number): OutgoingCookie[] {
    return names.map((name) => ({ ...this.#cookie('', undefined, now), name }))
  }

  /** Decides what a commit does, and updates the state as if it succeeded (restore() undoes it). */
  #prepare(): Work | undefined {
    const { config } = this.#engine
    // Checklist 8: with `secure: true`, a plain-HTTP request gets no cookie at all.
    const cookiesAllowed = !(config.cookie.secure === true && this.#ctx.secure === false)
    if (!cookiesAllowed) {
      // A new session whose cookie cannot be sent is never written either: nobody could come
      // back for it, and each such request would leave one more record in the store.
      const state = this.#state
      if (!state.stored && !state.destroyed && state.oldKeys.length === 0) return undefined
    }
    const work = this.#decide()
    if (work && !cookiesAllowed) work.cookies = NO_COOKIES
    return work
  }

  /**
   * What restores the state if a commit fails: taken only once there is work (a read must not
   * pay for the copy). `changes`: the tracker's changes, given back to it on failure.
   */
  #snapshot(changes: Iterable<string>): () => void {
    const state = this.#state
    const saved = { ...state } // oldKeys is replaced, never mutated: sharing it is safe
    return () => {
      Object.assign(state, saved)
      for (const key of changes) state.tracker.markChanged(key)
    }
  }

  // The decision alone, without closures: the work itself is built by #destroyWork and
  // #saveWork, so a request with nothing to commit (a read) allocates nothing here.
  #decide(): Work | undefined {
    const { config } = this.#engine
    const state = this.#state
    const tracker = state.tracker
    const now = Date.now()
    if (state.destroyed) return state.destroyCommitted ? undefined : this.#destroyWork(now)
    const changed = tracker.hasChanges || state.userChanged
    const fresh = !state.stored
    if (fresh && !state.regenerated && isEmpty(tracker.target) && state.userId === undefined) return undefined
    const due = state.touchRequested || state.reseal || this.#expiryFrom(now) - state.expiresAt >= config.touchAfter
    if (!fresh && !changed && !due) return undefined
    if (config.stateless && !fresh && !changed && !config.rolling && !state.reseal) return undefined
    return this.#saveWork(now, fresh, changed, due)
  }

  #destroyWork(now: number): Work {
    const { config } = this.#engine
    const state = this.#state
    const store = config.store as SessionStore
    const restore = this.#snapshot(state.tracker.takeChanges())
    const keys = config.stateless ? [] : [...state.oldKeys, ...(state.stored ? [state.key] : [])]
    const names = new Set([config.name, ...state.cookiesReceived])
    const sendClear = state.stored || state.cookiesReceived.length > 0 || state.regenerated
    state.destroyCommitted = true
    state.stored = false
    state.oldKeys = NONE
    return {
      write: keys.length ? () => callStore('destroy the session', async () => void (await Promise.all(keys.map((key) => store.destroy(key))))) : undefined,
      writeNow: undefined,
      operation: 'destroy the session',
      cookies: sendClear ? this.#clear([...names], now) : NO_COOKIES,
      optional: false,
      restore,
    }
  }

  #saveWork(now: number, fresh: boolean, changed: boolean, due: boolean): Work {
    const { config } = this.#engine
    const state = this.#state
    const store = config.store as SessionStore
    const tracker = state.tracker
    const expiresAt = fresh || due ? this.#expiryFrom(now) : state.expiresAt
    const changedKeys = tracker.takeChanges()
    const restore = this.#snapshot(changedKeys)
    const oldKeys = state.oldKeys
    const userChanged = state.userChanged
    state.stored = true
    state.expiresAt = expiresAt
    state.regenerated = false
    state.touchRequested = false
    state.reseal = false
    state.userChanged = false
    state.oldKeys = NONE
    const sendCookie = fresh || (due && config.rolling)
    const optional = !changed && !fresh

    if (config.stateless) {
      const statelessStore = config.store as StatelessStore
      const received = state.cookiesReceived
      return {
        write: undefined,
        writeNow: undefined,
        operation: 'save the session',
        cookies: async () => {
          const value = await statelessStore.seal(state.id, this.#record(expiresAt))
          if (statelessStore.maxSize !== undefined && value.length > statelessStore.maxSize) {
            throw new SessionError('TOO_LARGE', `The session is ${value.length} bytes sealed; the cookie store allows ${statelessStore.maxSize} (maxSize).`)
          }
          state.cookieValue = value
          return this.#chunks(value, expiresAt, now, received)
        },
        optional,
        restore,
      }
    }

    // A MemoryStore writes synchronously: then autoCommit can finish the commit inside end().
    const sync = syncStore(store)
    let write: (() => Promise<void>) | undefined
    let writeNow: (() => void) | undefined
    let operation = 'save the session'
    if (fresh) {
      write = async () => {
        // Checklist 20: the old record goes before (never after) the new one is written.
        if (oldKeys.length) await callStore('destroy the old session', () => Promise.all(oldKeys.map((key) => store.destroy(key))))
        await callStore('save the session', () => store.set(state.key, this.#record(expiresAt)))
        if (this.#engine.events) this.#engine.events.emit('created', state.id, state.userId, this.#ctx.key)
      }
    } else if (changed) {
      if (store.patch !== undefined && !userChanged) {
        if (sync) writeNow = () => sync.patch(state.key, changesOf(tracker.target, changedKeys), expiresAt)
        else write = () => callStore('save the session', () => store.patch!(state.key, changesOf(tracker.target, changedKeys), expiresAt))
      } else if (sync) writeNow = () => sync.update(state.key, this.#record(expiresAt))
      else write = () => callStore('save the session', () => replaceStored(store, state.key, this.#record(expiresAt)))
    } else {
      operation = 'touch the session'
      if (sync) writeNow = () => sync.touch(state.key, expiresAt)
      else
        write = store.touch
          ? () => callStore('touch the session', () => store.touch!(state.key, expiresAt))
          : () => callStore('touch the session', () => replaceStored(store, state.key, this.#record(expiresAt)))
    }
    return {
      write,
      writeNow,
      operation,
      cookies: sendCookie ? [this.#cookie(state.cookieValue, expiresAt, now)] : NO_COOKIES,
      optional,
      restore,
    }
  }

  /** The record a store keeps for this session. */
  #record(expiresAt: number): SessionRecord {
    const state = this.#state
    const record: SessionRecord = { data: state.tracker.target, createdAt: state.createdAt, expiresAt }
    if (state.userId !== undefined) record.userId = state.userId
    return record
  }

  /** The sealed value as one cookie, or as `name.0..n` chunks when it would pass 4096 bytes. */
  #chunks(value: string, expiresAt: number, now: number, received: readonly string[]): OutgoingCookie[] {
    const { name } = this.#engine.config
    const base = this.#cookie('', expiresAt, now)
    const overhead = serializeCookie({ ...base, name: `${name}.00` }).length
    const room = MAX_COOKIE_BYTES - overhead
    if (value.length + overhead <= MAX_COOKIE_BYTES) {
      const stale = received.filter((n) => n !== name)
      return [{ ...base, value }, ...this.#clear(stale, now)]
    }
    const out: OutgoingCookie[] = []
    for (let i = 0; i * room < value.length; i++) out.push({ ...base, name: `${name}.${i}`, value: value.slice(i * room, (i + 1) * room) })
    if (out.length > MAX_CHUNKS) throw new SessionError('TOO_LARGE', `The sealed session needs ${out.length} cookies; at most ${MAX_CHUNKS} are read back.`)
    const used = new Set(out.map((c) => c.name))
    return [...out, ...this.#clear(received.filter((n) => !used.has(n)), now)]
  }
}

/** @internal The synchronous half of a commit, for autoCommit inside `writeHead`. */
export function prepareCommit(session: Session<object>): Work | undefined {
  return prepare(session as Session)
}
/** @internal */
export function runCommit(session: Session<object>, work: Work): Promise<string[]> {
  return runWork(contextOf(session as Session), work)
}
/**
 * @internal The whole commit, synchronously, when nothing in it is async (a MemoryStore write,
 * ready cookies, a context that can write): true when done. False: nothing was done; use runCommit.
 */
export function commitNow(session: Session<object>, work: Work): boolean {
  const ctx = contextOf(session as Session)
  if (work.write || typeof work.cookies === 'function' || ctx.readOnly || ctx.cookiesFirst) return false
  try {
    if (work.writeNow) writeNow(work)
    if (work.cookies.length) ctx.apply(work.cookies)
  } catch (error) {
    work.restore()
    if (work.optional && error instanceof SessionError && error.code === 'READ_ONLY') return true
    throw error
  }
  return true
}
/**
 * @internal The commit as `writeHead` needs it: cookies applied now, synchronously; the store
 * write returned as a promise that `end` waits for.
 */
export function commitInHead(session: Session<object>, work: Work): Promise<void> {
  const ctx = contextOf(session as Session)
  if (typeof work.cookies === 'function') {
    work.restore()
    throw new SessionError(
      'HEADERS_SENT',
      'The cookie store seals asynchronously, so its cookie cannot be set inside writeHead(). Call `await session.commit()` before writing the response head.',
    )
  }
  try {
    if (work.cookies.length) ctx.apply(work.cookies)
  } catch (error) {
    work.restore()
    throw error
  }
  if (work.writeNow) {
    try {
      writeNow(work)
    } catch (error) {
      work.restore()
      return Promise.reject(error)
    }
  }
  const write = work.write
  return write
    ? write().catch((error: unknown) => {
        work.restore()
        throw error
      })
    : Promise.resolve()
}

/** @internal The plain data behind the tracking proxy. */
export function rawData(session: Session<object>): Record<string, unknown> {
  return dataOf(session as Session)
}

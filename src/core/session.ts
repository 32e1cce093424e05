// The Session class: one request's session state and the public API over it. Loading is in
// load.ts, committing in plan.ts (what to do) and execute.ts (doing it).
import { newId } from './codec.js'
import type { RequestContext } from './context.js'
import { execute } from './execute.js'
import type { MaybePromise } from './maybe.js'
import { plan } from './plan.js'
import { guardState, NONE, type Engine, type State } from './state.js'
import { assertStorableUserId } from './storable.js'
import { Tracker } from './track.js'
import type { SessionStore } from './types.js'

/** @internal How autoCommit commits a session: `inHead` inside writeHead (cookies now, store write may follow). */
export const commitInternally = Symbol('tessera.commit')
/** @internal The plain data behind the tracking proxy (reads that must not count as changes). */
export const rawData = Symbol('tessera.rawData')

/**
 * One request's session. `data` is yours to read and change (deep changes are detected);
 * `commit()` persists it, and runs by itself on node:http before the headers leave.
 */
export class Session<Data extends object = Record<string, unknown>> {
  readonly #engine: Engine
  readonly #ctx: RequestContext
  readonly #state: State

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
    guardState(this.#state)
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
    try {
      const work = plan(this.#engine, this.#ctx, state) // throws INVALID_DATA before any store call
      if (!work) return []
      return await execute(this.#engine.config.store as SessionStore, this.#ctx, work, false)
    } catch (error) {
      state.commitFailed = true
      throw error
    }
  }

  /**
   * @internal autoCommit's commit: undefined when there is nothing to do, or when the app's own
   * commit() failed (it answered as it chose; the end of the response must not retry behind it).
   */
  [commitInternally](inHead: boolean): MaybePromise<string[]> | undefined {
    if (this.#state.commitFailed) return undefined
    const work = plan(this.#engine, this.#ctx, this.#state)
    return work && execute(this.#engine.config.store as SessionStore, this.#ctx, work, inHead)
  }

  /** @internal */
  get [rawData](): Record<string, unknown> {
    return this.#state.tracker.target
  }

  /**
   * New id, same data; the old id stops working at the next commit. Call it at every login. The
   * session counts as created now: `revokedBefore` and `absoluteTtl` measure from here
   * (decisions/regenerate-resets-created-at.md).
   */
  async regenerate(): Promise<void> {
    const state = this.#state
    guardState(state)
    const fresh = await newId(this.#engine)
    if (state.stored && !this.#engine.config.stateless) state.oldKeys = [...state.oldKeys, state.key]
    Object.assign(state, fresh)
    state.createdAt = Date.now()
    state.stored = false
    state.regenerated = true
    this.#engine.events?.emit('regenerated', fresh.key, state.userId, this.#ctx.key)
  }

  /** Removes the session from the store and expires its cookie, now. Afterwards data is empty and writes throw. */
  async destroy(): Promise<void> {
    const state = this.#state
    if (state.destroyed) return
    state.destroyed = true
    state.tracker.replace({})
    state.tracker.clearChanges()
    this.#engine.events?.emit('destroyed', state.key, state.userId, this.#ctx.key)
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
    guardState(this.#state)
    this.#state.touchRequested = true
  }

  /**
   * Binds the session to a user, for `sessions.listUser()` and `sessions.revokeUser()`. Throws
   * SessionError `INVALID_DATA` for an id holding U+0000 or a lone surrogate.
   */
  bindUser(userId: string | number): void {
    const state = this.#state
    guardState(state)
    const id = String(userId)
    assertStorableUserId(id) // SessionError INVALID_DATA: no store can keep U+0000 or a lone surrogate
    if (id !== state.userId) {
      state.userId = id
      state.userChanged = true
    }
  }
}

import type { MaybePromise } from './maybe.js'

/**
 * The shape of session data when no type is given to `createSessions`. Augment it where the
 * session is ambient (Express's `req.session`):
 *
 * @example
 * declare module 'tessera' {
 *   interface SessionData { userId?: string }
 * }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface SessionData {}

/** What a store keeps for one session. Times are milliseconds since the epoch. */
export interface SessionRecord<Data = Record<string, unknown>> {
  data: Data
  createdAt: number
  /** Idle expiry. A store must not return a record past it. */
  expiresAt: number
  /** The user this session was bound to with `session.bindUser()`. */
  userId?: string
}

/** The top-level keys one commit changed: `set` holds their new values, `unset` the removed ones. */
export interface SessionChanges {
  set: Record<string, unknown>
  unset: string[]
}

/** One entry of `sessions.listUser()`: enough for a "your devices" page. */
export interface SessionSummary {
  /** The session id as the store keys it (the SHA-256 of the id when `hashIds` is on). */
  id: string
  createdAt: Date
  expiresAt: Date
}

/**
 * Where server-side sessions live. Stores do storage only: expiry math, touching, signing and
 * change tracking happen once, in the core. Every method may be called concurrently, and may
 * answer at once or with a promise (`T | Promise<T>`): the core waits only for a promise, so an
 * in-process store that answers at once costs a request no await.
 *
 * - `get` returns a copy the caller may mutate, or undefined when missing or expired.
 * - `set` replaces the whole record; `record.expiresAt` is when the store should drop it, and a
 *   record whose expiry has already passed is deleted instead.
 * - `patch` (optional) applies only the changed top-level keys, so two requests that change
 *   different keys both survive. Without it, the core writes the whole record with `set`.
 * - `touch` (optional) moves the expiry without writing data. Without it, the core uses `set`.
 * - `update` (optional) replaces the whole record like `set`, but only while the session still
 *   exists: it never recreates one. The core uses it for every full write of a session it loaded
 *   (a `bindUser` on it, or any change on a store without `patch`), so a request slower than a
 *   logout cannot bring the session back. Without it, the core uses `set`.
 * - `rotate` (optional) moves a session to a new id, atomically and only while the old one still
 *   exists: it deletes `oldId` and writes `record` under `newId` (as `set`), or, when `oldId` is
 *   gone (logged out, revoked, expired), writes nothing and answers false. The core uses it for the
 *   first commit after `regenerate()` of a session it loaded; on false it destroys the session (no
 *   record, the cookie cleared), so a request slower than a logout cannot bring the session back
 *   under a new id. Without it, the core destroys the old id, then `set`s the new one, and that
 *   race stays open.
 * - `listUser` / `revokeUser` (optional) keep a per-user index of sessions bound with `bindUser`.
 */
export interface SessionStore {
  get(id: string): MaybePromise<SessionRecord | undefined | null>
  set(id: string, record: SessionRecord): MaybePromise<void>
  destroy(id: string): MaybePromise<void>
  touch?(id: string, expiresAt: number): MaybePromise<void>
  patch?(id: string, changes: SessionChanges, expiresAt: number): MaybePromise<void>
  update?(id: string, record: SessionRecord): MaybePromise<void>
  /** Resolves to true when it moved the session, false (writing nothing) when `oldId` was gone. */
  rotate?(oldId: string, newId: string, record: SessionRecord): MaybePromise<boolean>
  listUser?(userId: string): MaybePromise<SessionSummary[]>
  /** Destroys every session of `userId` except `except` (a store id); resolves to how many. */
  revokeUser?(userId: string, except?: string): MaybePromise<number>
}

/**
 * A store that keeps the whole session inside the cookie (see `CookieStore`). The core seals the
 * record into the cookie value instead of storing it.
 */
export interface StatelessStore {
  readonly stateless: true
  /**
   * Called once by `createSessions`, before any seal or unseal, with the validated secrets (newest
   * first), the cookie name to bind seals to, and whether seals not bound to it still open (review 4).
   */
  init?(context: { secrets: readonly string[]; name?: string; acceptUnbound?: () => boolean }): void
  /** Seals id and record into a cookie value. */
  seal(id: string, record: SessionRecord): Promise<string>
  /**
   * Opens a cookie value; undefined for anything that does not verify. Never throws. `reseal`: the
   * value opened but is in an older format or under an older secret; the core seals it again at the
   * next commit (like a touch: expiry refreshed, cookie re-sent even when not `rolling`).
   */
  unseal(value: string): Promise<{ id: string; record: SessionRecord; reseal?: boolean } | undefined>
  /** Upper bound in bytes for the sealed value over all chunks. */
  readonly maxSize?: number
  /** Most cookies one sealed value is split over (`name.0`, `name.1`, …); 1: never split. @default 32 */
  readonly maxChunks?: number
  /** Called by `revokeUser` when the store supports revocation of stateless sessions. */
  isRevoked?(userId: string, createdAt: number): Promise<boolean>
  /**
   * Whether seals carrying this session id were revoked (a logout, a `regenerate()`): checked on
   * every request once the seal opened. Present only when the store keeps a revocation list.
   */
  isSealRevoked?(id: string): MaybePromise<boolean>
  /**
   * Records that seals carrying this session id no longer open, until `until` (ms since the
   * epoch: the latest expiry any seal of that id can have). Called by the commit of a `destroy()`
   * and of the first commit after `regenerate()` (the old id). Present with `isSealRevoked`.
   */
  revokeSeal?(id: string, until: number): MaybePromise<void>
}

/**
 * A store that follows this contract may carry `[TESSERA_STORE]: true`, for the entries that
 * also take other libraries' stores (`tessera/compat/next-session`): a Tessera store without
 * `patch` has the same methods as a next-session store and would otherwise be wrapped as one.
 * `Symbol.for`, so copies of the package (ESM and CommonJS, bundles) agree.
 */
export const TESSERA_STORE: unique symbol = Symbol.for('tessera.store') as never

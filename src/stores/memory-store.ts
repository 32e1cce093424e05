import type { SessionChanges, SessionRecord, SessionStore, SessionSummary } from '../core/types.js'
import { copy } from './structured-copy.js'

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Seconds between sweeps that free expired sessions (a timer that never keeps the process alive).
   * At most 2,147,483 (about 24.8 days: what setTimeout can wait). @default 60
   */
  sweepInterval?: number
  /**
   * Upper bound on live sessions. Beyond it one session is dropped: the least recently used (read,
   * touched or written) session with no user; when none is left but the one just written, the
   * least recently used of those bound with `bindUser`. @default unbounded
   */
  maxSessions?: number
}

/** The longest sweepInterval, in seconds: setTimeout waits at most 2^31 - 1 ms. */
const MAX_SWEEP_SECONDS = 2_147_483

// Classes, not object literals: every entry gets one fixed shape with exactly its fields in-object,
// and an anonymous session (most of them) carries no userId slot at all.
// The times are kept as milliseconds after the store's epoch (see Epoch): decisions/memory-store-layout.md.
class Entry {
  declare readonly userId: string | undefined // only a BoundEntry has the field
  constructor(
    public data: Record<string, unknown>,
    public created: number,
    public expires: number,
  ) {}
}

class BoundEntry extends Entry {
  constructor(
    data: Record<string, unknown>,
    created: number,
    expires: number,
    public override readonly userId: string,
  ) {
    super(data, created, expires)
  }
}

/** Re-base (in a sweep) once the epoch is this old, so offsets stay small integers. */
const REBASE_MS = 24 * 3600 * 1000

/**
 * A time as milliseconds after `epoch`. Date.now() values are beyond V8's small integers, so each
 * was a 16-byte heap number behind its field; an offset below 2^31 ms (24.8 days) is an int32, kept
 * in the field itself. `| 0` makes it one (exact: only when it fits); a time that does not fit stays
 * an exact double.
 */
function offset(at: number, epoch: number): number {
  const ms = at - epoch
  return (ms | 0) === ms ? ms | 0 : ms
}

/**
 * Sessions in this process's memory: for development, tests and single-process apps. Keeps
 * structured copies (never the caller's objects, never JSON strings), frees expired sessions on
 * a timer without any request, and indexes sessions by user for `listUser`/`revokeUser`.
 *
 * @example
 * const sessions = createSessions({ store: new MemoryStore({ maxSessions: 100_000 }) })
 */
export class MemoryStore implements SessionStore {
  readonly #entries = new Map<string, Entry>()
  // With maxSessions only (the order serves eviction alone): the ids in use order, least recent
  // first, apart by whether the session has a user. A use deletes and re-adds its id, so the
  // session to evict is the first of one set: O(1) per operation, as a linked list would be.
  readonly #anonymous: Set<string> | undefined
  readonly #bound: Set<string> | undefined
  readonly #users = new Map<string, Set<string>>()
  readonly #sweepMs: number
  readonly #max: number
  #epoch = Date.now()
  #timer: ReturnType<typeof setInterval> | undefined

  constructor(options: MemoryStoreOptions = {}) {
    const { sweepInterval = 60, maxSessions = Infinity } = options
    if (typeof sweepInterval !== 'number' || !(sweepInterval > 0) || sweepInterval > MAX_SWEEP_SECONDS) {
      throw new TypeError(
        `MemoryStore option sweepInterval must be a number of seconds > 0 and at most 2,147,483 (what setTimeout can wait), got ${shown(sweepInterval)}`,
      )
    }
    if (typeof maxSessions !== 'number' || !(maxSessions >= 1)) {
      throw new TypeError(`MemoryStore option maxSessions must be a number ≥ 1, got ${shown(maxSessions)}`)
    }
    this.#sweepMs = sweepInterval * 1000
    this.#max = maxSessions
    if (maxSessions !== Infinity) {
      this.#anonymous = new Set()
      this.#bound = new Set()
    }
  }

  /** Live (or not yet swept) sessions. */
  get size(): number {
    return this.#entries.size
  }

  // Every method answers at once (no promise): the core then loads and commits a memory session
  // without an await (the store contract allows T | Promise<T>).
  get(id: string): SessionRecord | undefined {
    return this.#get(id)
  }

  set(id: string, record: SessionRecord): void {
    if (!this.#set(id, record)) this.#remove(id)
  }

  /** As `set`, but only while the session exists: never recreates one. */
  update(id: string, record: SessionRecord): void {
    if (this.#live(id)) this.set(id, record)
  }

  /**
   * Moves a session to `newId` (as `set`) and deletes `oldId`, only while `oldId` exists; false,
   * writing nothing, when it is gone. Synchronous, so nothing can come between the check and the move.
   */
  rotate(oldId: string, newId: string, record: SessionRecord): boolean {
    if (!this.#live(oldId)) return false
    this.set(newId, record) // first: a value it cannot copy throws with the old session still there
    this.#remove(oldId)
    return true
  }

  patch(id: string, changes: SessionChanges, expiresAt: number): void {
    if (!this.#patch(id, changes, expiresAt)) this.#remove(id)
  }

  touch(id: string, expiresAt: number): void {
    if (!this.#touch(id, expiresAt)) this.#remove(id)
  }

  destroy(id: string): void {
    this.#remove(id)
  }

  #get(id: string): SessionRecord | undefined {
    const entry = this.#use(id)
    if (!entry) return undefined
    const record: SessionRecord = { data: copy(entry.data) as Record<string, unknown>, createdAt: entry.created + this.#epoch, expiresAt: entry.expires + this.#epoch }
    if (entry.userId !== undefined) record.userId = entry.userId
    return record
  }

  #set(id: string, record: SessionRecord): boolean {
    if (record.expiresAt <= Date.now()) return false
    const data = copy(record.data) as Record<string, unknown>
    const created = offset(record.createdAt, this.#epoch)
    const expires = offset(record.expiresAt, this.#epoch)
    const entry = record.userId === undefined ? new Entry(data, created, expires) : new BoundEntry(data, created, expires, record.userId)
    this.#remove(id) // then added last: the most recently used
    this.#entries.set(id, entry)
    if (entry.userId !== undefined) {
      let ids = this.#users.get(entry.userId)
      if (!ids) this.#users.set(entry.userId, (ids = new Set()))
      ids.add(id)
    }
    const anonymous = this.#anonymous
    if (anonymous) {
      const mine = entry.userId === undefined
      ;(mine ? anonymous : this.#bound!).add(id)
      if (this.#entries.size > this.#max) {
        // Anonymous sessions go first (anyone can make one, with no cookie), never the one just written.
        const from = anonymous.size > (mine ? 1 : 0) ? anonymous : this.#bound!
        this.#remove(from.values().next().value as string)
      }
    }
    this.#startSweeping()
    return true
  }

  #patch(id: string, changes: SessionChanges, expiresAt: number): boolean {
    const entry = this.#use(id)
    if (!entry) return true
    if (expiresAt <= Date.now()) return false
    for (const key of Object.keys(changes.set)) {
      const value = copy(changes.set[key])
      // A `__proto__` key stays an own key, never a prototype swap.
      if (key === '__proto__') Object.defineProperty(entry.data, key, { value, writable: true, enumerable: true, configurable: true })
      else entry.data[key] = value
    }
    for (const key of changes.unset) delete entry.data[key]
    entry.expires = offset(expiresAt, this.#epoch)
    return true
  }

  #touch(id: string, expiresAt: number): boolean {
    const entry = this.#use(id)
    if (!entry) return true
    if (expiresAt <= Date.now()) return false
    entry.expires = offset(expiresAt, this.#epoch)
    return true
  }

  listUser(userId: string): SessionSummary[] {
    const out: SessionSummary[] = []
    for (const id of this.#users.get(userId) ?? []) {
      const entry = this.#live(id)
      if (entry) out.push({ id, createdAt: new Date(entry.created + this.#epoch), expiresAt: new Date(entry.expires + this.#epoch) })
    }
    return out
  }

  revokeUser(userId: string, except?: string): number {
    let count = 0
    for (const id of [...(this.#users.get(userId) ?? [])]) {
      if (id === except) continue
      if (this.#live(id)) count++
      this.#remove(id)
    }
    return count
  }

  /** Frees every expired session now (the timer calls this every `sweepInterval`). */
  sweep(): void {
    const now = Date.now()
    const cutoff = now - this.#epoch
    // Once a day the epoch moves to now and the live entries' offsets with it (this loop visits them anyway).
    const shift = cutoff >= REBASE_MS ? cutoff : 0
    for (const [id, entry] of this.#entries) {
      if (entry.expires <= cutoff) this.#remove(id)
      else if (shift) {
        entry.created = offset(entry.created + this.#epoch, now)
        entry.expires = offset(entry.expires + this.#epoch, now)
      }
    }
    if (shift) this.#epoch = now
    if (this.#entries.size === 0 && this.#timer) {
      clearInterval(this.#timer)
      this.#timer = undefined
    }
  }

  /** Stops the sweep timer and forgets every session. */
  clear(): void {
    this.#entries.clear()
    this.#anonymous?.clear()
    this.#bound?.clear()
    this.#users.clear()
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** The live entry of `id`, leaving the use order as it is (listUser, revokeUser, update's check). */
  #live(id: string): Entry | undefined {
    const entry = this.#entries.get(id)
    if (entry && entry.expires <= Date.now() - this.#epoch) {
      this.#remove(id)
      return undefined
    }
    return entry
  }

  /** The live entry of `id`, now the most recently used (get, patch, touch). */
  #use(id: string): Entry | undefined {
    const entry = this.#live(id)
    if (entry && this.#anonymous) {
      const order = entry.userId === undefined ? this.#anonymous : this.#bound!
      order.delete(id)
      order.add(id)
    }
    return entry
  }

  #remove(id: string): void {
    const entry = this.#entries.get(id)
    if (!entry) return
    this.#entries.delete(id)
    if (entry.userId === undefined) this.#anonymous?.delete(id)
    else {
      this.#bound?.delete(id)
      this.#unindex(id, entry.userId)
    }
  }

  #unindex(id: string, userId: string | undefined): void {
    if (userId === undefined) return
    const ids = this.#users.get(userId)
    if (!ids) return
    ids.delete(id)
    if (ids.size === 0) this.#users.delete(userId)
  }

  #startSweeping(): void {
    if (this.#timer) return
    this.#timer = setInterval(() => this.sweep(), this.#sweepMs)
    // Never keep the process alive for a sweep (unref exists on Node, Bun and Deno timers).
    ;(this.#timer as { unref?: () => void }).unref?.()
  }
}

/** An option's value in an error message (JSON would show Infinity and NaN as null). */
function shown(value: unknown): string {
  return typeof value === 'number' ? String(value) : JSON.stringify(value)
}

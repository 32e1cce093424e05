// The cookie store's revocation list (review 2): the ids of sessions logged out (or regenerated)
// whose seals must no longer open, each kept only until no seal of that id can still be valid.
import type { MaybePromise } from '../core/maybe.js'

/**
 * Where `CookieStore({ revoked })` keeps revoked seal ids. `has` runs on every request that
 * carries a seal (keep it fast); `add` at each logout and `regenerate()`. A failure of either, thrown
 * or rejected, fails the request with `SessionError` `STORE_ERROR`. See `redisRevocations`
 * (`tessera/redis`) for a shared one, `memoryRevocations()` for one process.
 */
export interface Revocations {
  /** Whether seals of this session id were revoked (and the entry has not lapsed). */
  has(sealId: string): MaybePromise<boolean>
  /** Revokes seals of this session id until `until` (milliseconds since the epoch); then the entry may go. */
  add(sealId: string, until: number): MaybePromise<void>
}

/** Options of {@link memoryRevocations}. */
export interface MemoryRevocationsOptions {
  /**
   * Most entries kept; when full, the entry that lapses first goes (a logout that old may then
   * come back). Each entry is a few hundred bytes.
   * @default 100000
   */
  max?: number
}

/**
 * A revocation list in this process's memory: for tests and single-process apps. Several
 * processes (or serverless instances) each keep their own list, so a logout is final only on the
 * process that saw it: use `redisRevocations` there.
 */
export function memoryRevocations(options: MemoryRevocationsOptions = {}): Revocations {
  const max = options.max ?? 100_000
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1) {
    throw new TypeError(`memoryRevocations option max must be a whole number ≥ 1, got ${JSON.stringify(options.max)}`)
  }
  const until = new Map<string, number>()
  const sweep = (now: number): void => {
    for (const [id, end] of until) if (end <= now) until.delete(id)
  }
  return {
    has(sealId) {
      const end = until.get(sealId)
      if (end === undefined) return false
      if (end > Date.now()) return true
      until.delete(sealId)
      return false
    },
    add(sealId, end) {
      if (until.size >= max) sweep(Date.now())
      if (until.size >= max) {
        let first: string | undefined
        let firstEnd = Infinity
        for (const [id, e] of until) if (e < firstEnd) ((first = id), (firstEnd = e))
        until.delete(first!)
      }
      until.set(sealId, Math.max(end, until.get(sealId) ?? 0))
    },
  }
}

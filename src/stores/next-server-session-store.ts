// next-server-session's store contract in Tessera: a store an app implemented for
// next-server-session (`id/get/set/merge/destroy`, data only, the store deciding how long it keeps
// it), adapted to Tessera's store contract. `merge` is next-server-session's partial write.
import { isObject } from '../core/plain.js'
import type { SessionRecord, SessionStore } from '../core/types.js'

/** next-server-session's store contract: data only; the store decides how long it keeps it. */
export interface NextServerSessionStoreLike {
  id?: () => Promise<string>
  get: (sessionId: string) => Promise<any | null>
  set: (sessionId: string, data: any) => Promise<void>
  merge: (sessionId: string, data: any) => Promise<void>
  destroy: (sessionId: string) => Promise<any>
}

/**
 * A next-server-session store as a Tessera store. It keeps data only, so expiry stays the
 * store's own business: what it returns is alive for `maxAgeMs` from now. Changes of existing
 * keys go through `merge`, so two requests changing different keys both land (a removed key
 * needs a read and a whole write).
 */
export function fromNextServerSessionStore(peer: NextServerSessionStoreLike, maxAgeMs: number): SessionStore {
  const live = (data: Record<string, unknown>): SessionRecord => {
    const now = Date.now()
    return { data: structuredClone(data), createdAt: now, expiresAt: now + maxAgeMs }
  }
  return {
    async get(id) {
      const data: unknown = await peer.get(id)
      return isObject(data) ? live(data) : undefined
    },
    async set(id, record) {
      if (record.expiresAt <= Date.now()) return void (await peer.destroy(id))
      await peer.set(id, structuredClone(record.data))
    },
    async destroy(id) {
      await peer.destroy(id)
    },
    async patch(id, { set, unset }) {
      const current: unknown = await peer.get(id)
      if (!isObject(current)) return // never bring a destroyed session back
      if (unset.length === 0) return peer.merge(id, structuredClone(set))
      const next: Record<string, unknown> = { ...current, ...structuredClone(set) }
      for (const key of unset) delete next[key]
      await peer.set(id, next)
    },
  }
}

// The cookie store's revocation list in Redis (review 2): one key per revoked seal id, written with
// SET … PX so it expires with the last seal it refuses, and read with EXISTS.
import { driverFor, type RedisClientLike } from './clients.js'
import type { Revocations } from '../revocations.js'

/** Options of {@link redisRevocations}. */
export interface RedisRevocationsOptions {
  /** Key prefix. @default 'tessera:revoked:' */
  prefix?: string
}

/**
 * A revocation list for `CookieStore({ revoked })` in Redis, shared by every process: a logout
 * (or `regenerate()`) makes the seal it ended refuse everywhere, also when a slower request
 * answers with it afterwards. Takes the clients `RedisStore` takes (ioredis, node-redis; standalone,
 * Sentinel or Cluster). One `EXISTS` per request that carries a seal, one `SET … PX` per logout.
 *
 * @example
 * import { CookieStore } from 'tessera'
 * import { redisRevocations } from 'tessera/redis'
 * const store = new CookieStore({ revoked: redisRevocations(client) })
 */
export function redisRevocations(client: RedisClientLike, options: RedisRevocationsOptions = {}): Revocations {
  const driver = driverFor(client)
  const prefix = options.prefix ?? 'tessera:revoked:'
  if (typeof prefix !== 'string') throw new TypeError(`redisRevocations option prefix must be a string, got ${JSON.stringify(prefix)}`)
  return {
    async has(sealId) {
      const key = prefix + sealId
      return Number(await driver.send(key, ['EXISTS', key], undefined)) > 0
    },
    async add(sealId, until) {
      const key = prefix + sealId
      const ms = Math.ceil(until - Date.now())
      if (ms <= 0) return
      await driver.send(key, ['SET', key, '1', 'PX', String(ms)], undefined)
    },
  }
}

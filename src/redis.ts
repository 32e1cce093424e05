/**
 * The Redis store: standalone, Sentinel or Cluster, through ioredis or node-redis (v4+). Neither
 * client is imported here; pass the one you use.
 *
 * @example
 * import { Redis } from 'ioredis'
 * import { createSessions } from 'tessera'
 * import { RedisStore } from 'tessera/redis'
 *
 * const client = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: 1, enableOfflineQueue: false })
 * export const sessions = createSessions({ store: new RedisStore({ client }), secrets: process.env.SESSION_SECRET })
 *
 * @module
 */
export { RedisStore, type RedisStoreOptions } from './stores/redis/redis-store.js'
export {
  type RedisClientLike,
  type IoRedisLike,
  type NodeRedisClientLike,
  type NodeRedisClusterLike,
  type NodeRedisSentinelLike,
} from './stores/redis/clients.js'
export { redisRevocations, type RedisRevocationsOptions } from './stores/redis/revocations.js'

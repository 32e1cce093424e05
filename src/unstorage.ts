/**
 * A session store over any `unstorage` driver (memory, fs, redis, Cloudflare KV, Upstash, Vercel
 * KV, Netlify Blobs, MongoDB, Deno KV, …). unstorage is not imported here; pass your storage.
 * Without `patch`, concurrent writes to different keys of one session are last-writer-wins.
 *
 * @example
 * import { createStorage } from 'unstorage'
 * import redisDriver from 'unstorage/drivers/redis'
 * import { createSessions } from 'tessera'
 * import { fromUnstorage } from 'tessera/unstorage'
 *
 * const storage = createStorage({ driver: redisDriver({ url: process.env.REDIS_URL }) })
 * export const sessions = createSessions({ store: fromUnstorage(storage), secrets: process.env.SESSION_SECRET })
 *
 * @module
 */
export { fromUnstorage, type UnstorageLike, type UnstorageStoreOptions } from './stores/unstorage-store.js'

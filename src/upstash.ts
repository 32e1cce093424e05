/**
 * The Upstash store: sessions in Upstash Redis over its REST API, through `@upstash/redis`. No TCP
 * connection, so it runs on the Next.js Edge runtime, Cloudflare Workers, serverless functions,
 * Deno and Bun. The client is not imported here; pass yours.
 *
 * @example
 * import { Redis } from '@upstash/redis'
 * import { createSessions } from 'tessera'
 * import { UpstashStore } from 'tessera/upstash'
 *
 * const store = new UpstashStore({ client: Redis.fromEnv() }) // UPSTASH_REDIS_REST_URL and _TOKEN
 * export const sessions = createSessions({ store, secrets: process.env.SESSION_SECRET })
 *
 * @module
 */
export {
  UpstashStore,
  type UpstashStoreOptions,
  type UpstashRedisLike,
  type UpstashRequesterLike,
  type UpstashRequest,
} from './stores/upstash-store.js'

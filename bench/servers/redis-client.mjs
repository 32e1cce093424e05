// The Redis client the Tessera Redis scenario and the bare-redis floor share, so the floor uses
// exactly the client Tessera is measured with. BENCH_REDIS_CLIENT=node-redis (default) | ioredis.
// node-redis is the default because connect-redis 9 (the peers) needs it, so Tessera, its peers
// and the floor all talk to Redis through the same client; it also pipelines commands issued in
// the same tick, where ioredis (without enableAutoPipelining) writes each one on its own.
const URL_ = process.env.REDIS_URL

export const clientKind = process.env.BENCH_REDIS_CLIENT === 'ioredis' ? 'ioredis' : 'node-redis'

/** The raw client (what RedisStore({ client }) takes). */
export async function rawRedisClient() {
  if (!URL_) throw new Error('REDIS_URL is not set')
  if (clientKind === 'node-redis') {
    const { createClient } = await import('redis')
    const client = createClient({ url: URL_ })
    client.on('error', (e) => console.error('redis:', e.message))
    await client.connect()
    return client
  }
  const { default: Redis } = await import('ioredis')
  const client = new Redis(URL_, { lazyConnect: true, enableAutoPipelining: false })
  await client.connect()
  return client
}

/** get/set(key, value, ttlSeconds)/quit over either client, for the bare-redis floor. */
export async function createRedisClient() {
  const client = await rawRedisClient()
  if (clientKind === 'node-redis') {
    return {
      raw: client,
      get: (key) => client.get(key),
      set: (key, value, ttl) => client.set(key, value, { EX: ttl }),
      quit: () => client.quit(),
    }
  }
  return {
    raw: client,
    get: (key) => client.get(key),
    set: (key, value, ttl) => client.set(key, value, 'EX', ttl),
    quit: () => client.quit(),
  }
}

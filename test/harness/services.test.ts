import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { Cluster, Redis } from 'ioredis'
import pg from 'pg'
import { startRedis, startRedisCluster, type RedisCluster, type RedisServer } from './redis.js'
import { startPostgres, type PostgresServer } from './postgres.js'

describe('startRedis', () => {
  let server: RedisServer

  beforeAll(async () => {
    server = await startRedis()
  }, 30_000)

  afterAll(async () => {
    await server?.stop()
  })

  it('serves SET/GET to ioredis', async () => {
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`)
    const client = new Redis(server.url)
    try {
      expect(await client.set('greeting', 'hello')).toBe('OK')
      expect(await client.get('greeting')).toBe('hello')
    } finally {
      client.disconnect()
    }
  })

  it('keeps acknowledged writes across kill() and start() on the same port', async () => {
    const before = new Redis(server.url)
    await before.set('survivor', 'still here')
    before.disconnect()

    await server.kill()
    const down = new Redis(server.url, { lazyConnect: true, retryStrategy: () => null })
    down.on('error', () => {}) // the refused connection is the point here
    await expect(down.connect()).rejects.toThrow()
    down.disconnect()

    await server.start()
    const after = new Redis(server.url)
    try {
      expect(await after.get('survivor')).toBe('still here')
    } finally {
      after.disconnect()
    }
  }, 30_000)
})

describe('startRedisCluster', () => {
  let cluster: RedisCluster

  beforeAll(async () => {
    cluster = await startRedisCluster()
  }, 60_000)

  afterAll(async () => {
    await cluster?.stop()
  })

  it('serves 20 keys spread over the 3 masters to an ioredis Cluster', async () => {
    expect(cluster.nodes).toHaveLength(3)
    const client = new Cluster(cluster.nodes)
    try {
      const keys = Array.from({ length: 20 }, (_, i) => `key:${i}`)
      for (const key of keys) await client.set(key, `value of ${key}`)
      for (const key of keys) expect(await client.get(key)).toBe(`value of ${key}`)

      // Every master holds some of the keys: they really are spread over slots.
      const perNode = await Promise.all(
        cluster.nodes.map(async ({ port }) => {
          const node = new Redis({ host: '127.0.0.1', port })
          try {
            return await node.dbsize()
          } finally {
            node.disconnect()
          }
        }),
      )
      expect(perNode.reduce((a, b) => a + b, 0)).toBe(keys.length)
      for (const count of perNode) expect(count).toBeGreaterThan(0)
    } finally {
      client.disconnect()
    }
  }, 30_000)
})

describe('startPostgres', () => {
  let server: PostgresServer
  let pool: pg.Pool

  beforeAll(async () => {
    server = await startPostgres()
    pool = new pg.Pool({ connectionString: server.url, max: 2 })
  }, 60_000)

  afterAll(async () => {
    await pool?.end()
    await server?.stop()
  }, 30_000)

  it('answers queries from a pg Pool', async () => {
    expect(server.url).toBe(`postgres://tessera@127.0.0.1:${server.port}/postgres`)
    const { rows } = await pool.query<{ one: number }>('select 1 as one')
    expect(rows).toEqual([{ one: 1 }])
  })

  it('creates a table and round-trips a row', async () => {
    await pool.query('create table harness_check (id text primary key, data jsonb not null)')
    await pool.query('insert into harness_check (id, data) values ($1, $2)', ['a', { n: 1 }])
    const { rows } = await pool.query<{ id: string; data: { n: number } }>('select id, data from harness_check')
    expect(rows).toEqual([{ id: 'a', data: { n: 1 } }])
  })
})

// RedisStore against real redis-server processes: a standalone server (ioredis and node-redis)
// and a 3-master cluster (ioredis Cluster and node-redis createCluster).
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, Redis } from 'ioredis'
import { createClient, createCluster, createSentinel } from 'redis'
import { startRedis, startRedisCluster, startRedisSentinel, type RedisCluster, type RedisSentinel, type RedisServer } from '../harness/redis.js'
import { RedisStore } from '../../src/redis.js'
import { testSessionStore } from '../../src/testing.js'
import { Jar } from '../helpers.js'
import { expectNoLostUpdates, serveSessions, sleep, uniquePrefix } from './support.js'

let server: RedisServer
let cluster: RedisCluster
let io: Redis
let nodeRedis: ReturnType<typeof createClient>
let ioCluster: Cluster
let nodeRedisCluster: ReturnType<typeof createCluster>

beforeAll(async () => {
  ;[server, cluster] = await Promise.all([startRedis(), startRedisCluster()])
  io = new Redis(server.url)
  nodeRedis = createClient({ url: server.url })
  await nodeRedis.connect()
  ioCluster = new Cluster(cluster.nodes)
  nodeRedisCluster = createCluster({ rootNodes: cluster.nodes.map(({ host, port }) => ({ url: `redis://${host}:${port}` })) })
  await nodeRedisCluster.connect()
}, 90_000)

afterAll(async () => {
  io?.disconnect()
  ioCluster?.disconnect()
  await nodeRedis?.close().catch(() => {})
  await nodeRedisCluster?.close().catch(() => {})
  await Promise.all([server?.stop(), cluster?.stop()])
}, 60_000)

testSessionStore('RedisStore on ioredis', () => new RedisStore({ client: io, prefix: uniquePrefix() }), { describe, it, capabilities: ['touch', 'patch', 'update', 'rotate', 'userIndex'] })
testSessionStore('RedisStore on node-redis', () => new RedisStore({ client: nodeRedis, prefix: uniquePrefix() }), { describe, it, capabilities: ['touch', 'patch', 'update', 'rotate', 'userIndex'] })
testSessionStore('RedisStore on an ioredis Cluster', () => new RedisStore({ client: ioCluster, prefix: uniquePrefix() }), {
  describe,
  it,
  capabilities: ['touch', 'patch', 'update', 'rotate', 'userIndex'],
})
testSessionStore('RedisStore on a node-redis cluster', () => new RedisStore({ client: nodeRedisCluster, prefix: uniquePrefix() }), {
  describe,
  it,
  capabilities: ['touch', 'patch', 'update', 'rotate', 'userIndex'],
})

const hour = () => Date.now() + 3_600_000

describe('RedisStore layout', () => {
  it('keeps one hash per session, a field per top-level key, under a hash tag', async () => {
    const prefix = uniquePrefix()
    const store = new RedisStore({ client: io, prefix })
    const now = Date.now()
    await store.set('layoutsession00001', { data: { a: { deep: [1] }, b: 'x' }, createdAt: now, expiresAt: now + 60_000, userId: 'ada' })
    expect(await io.type(`${prefix}{layoutsession00001}`)).toBe('hash')
    const hash = await io.hgetall(`${prefix}{layoutsession00001}`)
    expect(hash).toEqual({ '\u0000c': String(now), '\u0000e': String(now + 60_000), '\u0000u': 'ada', a: '{"deep":[1]}', b: '"x"' })
    const ttl = await io.pttl(`${prefix}{layoutsession00001}`)
    expect(ttl).toBeGreaterThan(55_000)
    expect(ttl).toBeLessThanOrEqual(60_000)
    expect(await io.zrange(`${prefix}user:{ada}`, '0', '-1')).toEqual(['layoutsession00001'])
    expect(await io.zscore(`${prefix}user:{ada}`, 'layoutsession00001')).toBe(String(now + 60_000))
  })

  it('treats a damaged or foreign hash as missing, never throws', async () => {
    const prefix = uniquePrefix()
    const store = new RedisStore({ client: io, prefix })
    await io.hset(`${prefix}{damagedsession0001}`, { '\u0000c': '1', '\u0000e': String(hour()), a: 'not json {' })
    await io.hset(`${prefix}{foreignsession0001}`, { name: '"no meta fields"' })
    expect(await store.get('damagedsession0001')).toBeUndefined()
    expect(await store.get('foreignsession0001')).toBeUndefined()
  })

  it('keeps data keys that look like its meta fields, and __proto__, as plain data', async () => {
    const store = new RedisStore({ client: io, prefix: uniquePrefix() })
    const data = JSON.parse('{"\\u0000c":"not the created time","__proto__":{"polluted":true},"ok":1}') as Record<string, unknown>
    const now = Date.now()
    await store.set('trickykeysession01', { data, createdAt: now, expiresAt: now + 60_000 })
    const found = await store.get('trickykeysession01')
    expect(found?.createdAt).toBe(now)
    expect(Object.keys(found!.data).sort()).toEqual(['\u0000c', '__proto__', 'ok'])
    expect(Object.getPrototypeOf(found!.data)).toBe(Object.prototype)
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined()
  })

  it('a patch writes only the changed fields, in one command (MONITOR)', async () => {
    const prefix = uniquePrefix()
    const client = new Redis(server.url) // the store's own connection, so MONITOR shows only its commands
    const monitor = await io.monitor()
    try {
      const store = new RedisStore({ client, prefix })
      const id = 'patchonlychanged01'
      const key = `${prefix}{${id}}`
      const big = 'B'.repeat(20_000)
      const now = Date.now()
      await store.set(id, { data: { big, counter: 1, gone: true }, createdAt: now, expiresAt: now + 60_000 })
      await store.patch('warmupscriptcache1', { set: { x: 1 }, unset: [] }, now + 60_000) // loads the script once per server
      const before = await io.hgetall(key)

      const seen: { args: string[]; source: string }[] = []
      const clientId = String(await client.client('ID'))
      const onCommand = (_time: string, args: string[], source: string) => seen.push({ args, source })
      monitor.on('monitor', onCommand)
      await sleep(50)
      const marker = `marker-${Math.random()}`
      await io.echo(marker) // everything after this line in MONITOR is the patch
      await store.patch(id, { set: { counter: 2 }, unset: ['gone'] }, now + 120_000)
      await io.echo(`${marker}-end`)
      const deadline = Date.now() + 2000
      while (!seen.some((c) => c.args.includes(`${marker}-end`)) && Date.now() < deadline) await sleep(10)
      monitor.off('monitor', onCommand)

      const start = seen.findIndex((c) => c.args.includes(marker))
      const end = seen.findIndex((c) => c.args.includes(`${marker}-end`))
      const window = seen.slice(start + 1, end)
      const fromClient = window.filter((c) => c.source !== 'lua' && !c.args.includes(marker))
      // One round trip: a single EVALSHA from the store's connection.
      expect(fromClient.map((c) => c.args[0]!.toLowerCase()), `client ${clientId}`).toEqual(['evalsha'])
      expect(fromClient[0]!.args.join(' ')).not.toContain(big)
      // Inside the script: the changed field and the expiry written in one HSET, the removed one deleted.
      const writes = window.filter((c) => c.source === 'lua' && ['hset', 'hdel'].includes(c.args[0]!.toLowerCase()))
      // (MONITOR prints the NUL of the meta field as the four characters \x00.)
      expect(writes.map((c) => [c.args[0]!.toLowerCase(), ...c.args.slice(1)])).toEqual([
        ['hset', key, '\\x00e', String(now + 120_000), 'counter', '2'],
        ['hdel', key, 'gone'],
      ])

      const after = await io.hgetall(key)
      expect(after).toEqual({ ...Object.fromEntries(Object.entries(before).filter(([k]) => k !== 'gone')), counter: '2', '\u0000e': String(now + 120_000) })
      expect(after.big).toBe(before.big)
    } finally {
      monitor.disconnect()
      client.disconnect()
    }
  })

  it('a patch does not bring back an expired session', async () => {
    const store = new RedisStore({ client: io, prefix: uniquePrefix() })
    const now = Date.now()
    await store.set('expiringsession001', { data: { a: 1 }, createdAt: now, expiresAt: now + 300 })
    await sleep(500)
    await store.patch('expiringsession001', { set: { b: 2 }, unset: [] }, Date.now() + 60_000)
    await store.touch('expiringsession001', Date.now() + 60_000)
    expect(await store.get('expiringsession001')).toBeUndefined()
    expect(await io.exists(`${store.prefix}{expiringsession001}`)).toBe(0)
  })

  it('set and patch write and delete more fields than one slice of script arguments (200) holds', async () => {
    const store = new RedisStore({ client: io, prefix: uniquePrefix() })
    const now = Date.now()
    const data: Record<string, unknown> = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, i]))
    await store.set('manyfieldsession01', { data, createdAt: now, expiresAt: now + 60_000 })
    expect(await store.get('manyfieldsession01')).toEqual({ data, createdAt: now, expiresAt: now + 60_000 })

    const set = Object.fromEntries(Array.from({ length: 230 }, (_, i) => [`k${i + 300}`, `v${i}`])) // 200 changed, 30 new
    const unset = Array.from({ length: 210 }, (_, i) => `k${i}`)
    await store.patch('manyfieldsession01', { set, unset }, now + 120_000)
    const expected = { ...data, ...set }
    for (const key of unset) delete expected[key]
    expect(Object.keys(expected)).toHaveLength(320)
    expect(await store.get('manyfieldsession01')).toEqual({ data: expected, createdAt: now, expiresAt: now + 120_000 })
  })

  it('a patch that keeps the expiry (a change inside touchAfter) keeps the TTL and the index score', async () => {
    const store = new RedisStore({ client: io, prefix: uniquePrefix() })
    const key = store.sessionKey('sameexpiry0000001')
    const now = Date.now()
    const expiresAt = now + 60_000
    await store.set('sameexpiry0000001', { data: { n: 0 }, createdAt: now, expiresAt, userId: 'ada' })
    await store.patch('sameexpiry0000001', { set: { n: 1 }, unset: [] }, expiresAt)
    expect(await io.pexpiretime(key)).toBe(expiresAt)
    expect(await io.zscore(store.userKey('ada'), 'sameexpiry0000001')).toBe(String(expiresAt))
    expect(await store.get('sameexpiry0000001')).toEqual({ data: { n: 1 }, createdAt: now, expiresAt, userId: 'ada' })
    // ...and a later expiry still moves both.
    await store.patch('sameexpiry0000001', { set: { n: 2 }, unset: [] }, expiresAt + 1000)
    expect(await io.pexpiretime(key)).toBe(expiresAt + 1000)
    expect(await io.zscore(store.userKey('ada'), 'sameexpiry0000001')).toBe(String(expiresAt + 1000))
  })

  it('touch and patch keep the user index in step with the expiry; destroy removes the entry', async () => {
    const store = new RedisStore({ client: io, prefix: uniquePrefix() })
    const userKey = store.userKey('grace')
    const now = Date.now()
    await store.set('indexedsession0001', { data: {}, createdAt: now, expiresAt: now + 60_000, userId: 'grace' })
    await store.touch('indexedsession0001', now + 120_000)
    expect(await io.zscore(userKey, 'indexedsession0001')).toBe(String(now + 120_000))
    expect(await io.pexpiretime(userKey)).toBe(now + 120_000)
    // A store that never read the session (another process) still keeps the index right.
    const other = new RedisStore({ client: io, prefix: store.prefix })
    await other.patch('indexedsession0001', { set: { n: 1 }, unset: [] }, now + 180_000)
    expect(await io.zscore(userKey, 'indexedsession0001')).toBe(String(now + 180_000))
    await other.destroy('indexedsession0001')
    expect(await io.exists(userKey)).toBe(0)
  })

  it('listUser and revokeUser read only the user’s own index, never SCAN or KEYS', async () => {
    const prefix = uniquePrefix()
    const client = new Redis(server.url)
    const monitor = await io.monitor()
    const commands: string[] = []
    monitor.on('monitor', (_t: string, args: string[]) => commands.push(args[0]!.toLowerCase()))
    try {
      const store = new RedisStore({ client, prefix })
      const now = Date.now()
      for (let i = 0; i < 5; i++) await store.set(`manysessions${i}xxxxx`, { data: {}, createdAt: now, expiresAt: now + 60_000, userId: 'linus' })
      for (let i = 0; i < 50; i++) await store.set(`othersession${i}xxxxx`, { data: {}, createdAt: now, expiresAt: now + 60_000, userId: `u${i}` })
      expect((await store.listUser('linus')).length).toBe(5)
      expect(await store.revokeUser('linus', 'manysessions0xxxxx')).toBe(4)
      await sleep(100)
      expect(commands).not.toContain('scan')
      expect(commands).not.toContain('keys')
    } finally {
      monitor.disconnect()
      client.disconnect()
    }
  })

  it('rejects bad options with a TypeError', () => {
    expect(() => new RedisStore({ client: {} as never })).toThrow(TypeError)
    expect(() => new RedisStore({ client: io, operationTimeout: 0 })).toThrow(/operationTimeout/)
    expect(() => new RedisStore({ client: io, prefix: 1 as never })).toThrow(/prefix/)
    expect(() => new RedisStore({ client: io, prefix: 'app:{sessions}:' })).toThrow(/prefix/)
  })
})

describe('RedisStore behind createSessions over HTTP', () => {
  it('with hashIds, no key in Redis contains a live session id', async () => {
    const prefix = uniquePrefix()
    const { app } = await serveSessions({ store: new RedisStore({ client: io, prefix }), hashIds: true })
    try {
      const jar = new Jar()
      const response = await jar.fetch(`${app.url}/set?k=user&v=ada`)
      const { id } = (await response.json()) as { id: string }
      expect(jar.header).toContain(id)
      const keys = await io.keys(`${prefix}*`)
      expect(keys.length).toBeGreaterThan(0)
      for (const key of keys) expect(key).not.toContain(id)
      const hashed = createHash('sha256').update(id).digest('base64url')
      expect(keys).toContain(`${prefix}{${hashed}}`)
      for (const value of Object.values(await io.hgetall(`${prefix}{${hashed}}`))) expect(value).not.toContain(id)
      // And the session still loads through the cookie.
      expect(((await (await jar.fetch(`${app.url}/read`)).json()) as { data: unknown }).data).toEqual({ user: 'ada' })
    } finally {
      await app.close()
    }
  })

  it('20 concurrent requests with one cookie, each setting a key, keep all 20 (ioredis)', async () => {
    await expectNoLostUpdates({ store: new RedisStore({ client: io, prefix: uniquePrefix() }) })
  })
  it('... on node-redis', async () => {
    await expectNoLostUpdates({ store: new RedisStore({ client: nodeRedis, prefix: uniquePrefix() }) })
  })
  it('... on an ioredis Cluster', async () => {
    await expectNoLostUpdates({ store: new RedisStore({ client: ioCluster, prefix: uniquePrefix() }) })
  })
  it('... on a node-redis cluster', async () => {
    await expectNoLostUpdates({ store: new RedisStore({ client: nodeRedisCluster, prefix: uniquePrefix() }) })
  })

  it('in a Cluster, sessions spread over the masters and the user index works across slots', async () => {
    const store = new RedisStore({ client: ioCluster, prefix: uniquePrefix() })
    const now = Date.now()
    const ids = Array.from({ length: 12 }, (_, i) => `spreadsession${i}xxxx`)
    for (const id of ids) await store.set(id, { data: { id }, createdAt: now, expiresAt: now + 60_000, userId: 'spread' })
    const perNode = await Promise.all(
      cluster.nodes.map(async ({ port }) => {
        const node = new Redis({ host: '127.0.0.1', port })
        try {
          return (await node.keys(`${store.prefix}{spreadsession*`)).length
        } finally {
          node.disconnect()
        }
      }),
    )
    expect(perNode.reduce((a, b) => a + b, 0)).toBe(12)
    expect(perNode.filter((n) => n > 0).length).toBeGreaterThan(1)
    expect((await store.listUser('spread')).map((s) => s.id).sort()).toEqual([...ids].sort())
    expect(await store.revokeUser('spread')).toBe(12)
    for (const id of ids) expect(await store.get(id)).toBeUndefined()
  })
})

describe('RedisStore through Redis Sentinel', () => {
  let sentinel: RedisSentinel | undefined
  let nodeRedisSentinel: ReturnType<typeof createSentinel>
  let ioSentinel: Redis

  beforeAll(async () => {
    sentinel = await startRedisSentinel(server)
    nodeRedisSentinel = createSentinel({ name: sentinel.name, sentinelRootNodes: sentinel.sentinels })
    nodeRedisSentinel.on('error', () => {})
    await nodeRedisSentinel.connect()
    ioSentinel = new Redis({ sentinels: sentinel.sentinels, name: sentinel.name })
  }, 60_000)

  afterAll(async () => {
    ioSentinel?.disconnect()
    await nodeRedisSentinel?.close().catch(() => {})
    await sentinel?.stop()
  }, 30_000)

  testSessionStore('RedisStore on a node-redis sentinel', () => new RedisStore({ client: nodeRedisSentinel, prefix: uniquePrefix() }), {
    describe,
    it,
    capabilities: ['touch', 'patch', 'update', 'rotate', 'userIndex'],
  })
  testSessionStore('RedisStore on ioredis through Sentinel', () => new RedisStore({ client: ioSentinel, prefix: uniquePrefix() }), {
    describe,
    it,
    capabilities: ['touch', 'patch', 'update', 'rotate', 'userIndex'],
  })

  it('20 concurrent requests keep all 20 keys, on ioredis through Sentinel', async () => {
    await expectNoLostUpdates({ store: new RedisStore({ client: ioSentinel, prefix: uniquePrefix() }) })
  })
})

// fromUnstorage over three unstorage drivers: memory, fs (a temp dir) and redis (a real
// redis-server), through the conformance suite and over HTTP.
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { createStorage, type Storage } from 'unstorage'
import fsDriver from 'unstorage/drivers/fs'
import memoryDriver from 'unstorage/drivers/memory'
import redisDriver from 'unstorage/drivers/redis'
import { startRedis, type RedisServer } from '../harness/redis.js'
import { fromUnstorage } from '../../src/unstorage.js'
import { testSessionStore } from '../../src/testing.js'
import { createSessions } from '../../src/index.js'
import { Jar, serve } from '../helpers.js'
import { SECRET, serveSessions, sleep, uniquePrefix, type AnyData } from './support.js'

let server: RedisServer
let io: Redis
let dir: string
const storages: Storage[] = []

function storage(driver: Parameters<typeof createStorage>[0]): Storage {
  const made = createStorage(driver)
  storages.push(made)
  return made
}

beforeAll(async () => {
  server = await startRedis()
  io = new Redis(server.url)
  dir = await mkdtemp(join(tmpdir(), 'tessera-unstorage-'))
}, 60_000)

afterAll(async () => {
  await Promise.all(storages.map((s) => s.dispose()))
  io?.disconnect()
  await server?.stop()
  await rm(dir, { recursive: true, force: true })
}, 60_000)

const capabilities = ['touch', 'update'] as const

testSessionStore('fromUnstorage on the memory driver', () => fromUnstorage(storage({ driver: memoryDriver() })), { describe, it, capabilities })
testSessionStore('fromUnstorage on the fs driver', () => fromUnstorage(storage({ driver: fsDriver({ base: dir }) }), { prefix: uniquePrefix() }), {
  describe,
  it,
  capabilities,
})
testSessionStore('fromUnstorage on the redis driver', () => fromUnstorage(storage({ driver: redisDriver({ url: server.url }) }), { prefix: uniquePrefix() }), {
  describe,
  it,
  capabilities,
})

const minute = () => ({ createdAt: Date.now(), expiresAt: Date.now() + 60_000 })

describe('fromUnstorage', () => {
  it('hands the session lifetime to a driver that expires keys (redis: SET … EX)', async () => {
    const prefix = uniquePrefix()
    const store = fromUnstorage(storage({ driver: redisDriver({ url: server.url }) }), { prefix })
    await store.set('ttlsession0000001', { data: { a: 1 }, ...minute() })
    const ttl = await io.ttl(`${prefix}ttlsession0000001`)
    expect(ttl).toBeGreaterThan(55)
    expect(ttl).toBeLessThanOrEqual(60)
    // ...and touch moves it.
    await store.touch!('ttlsession0000001', Date.now() + 600_000)
    expect(await io.ttl(`${prefix}ttlsession0000001`)).toBeGreaterThan(595)
  })

  it('with ttl: false passes no expiry to the driver, and still never returns an expired session', async () => {
    const prefix = uniquePrefix()
    const store = fromUnstorage(storage({ driver: redisDriver({ url: server.url }) }), { prefix, ttl: false })
    const now = Date.now()
    await store.set('nottlsession00001', { data: { a: 1 }, createdAt: now, expiresAt: now + 300 })
    expect(await io.ttl(`${prefix}nottlsession00001`)).toBe(-1)
    await new Promise((resolve) => setTimeout(resolve, 400))
    expect(await store.get('nottlsession00001')).toBeUndefined()
  })

  it('keeps one JSON file per session with the fs driver, and removes it on destroy', async () => {
    const base = await mkdtemp(join(dir, 'files-'))
    const store = fromUnstorage(storage({ driver: fsDriver({ base }) }), { prefix: 'sessions:' })
    await store.set('fssession00000001', { data: { n: 1 }, ...minute(), userId: 'ada' })
    expect(await readdir(join(base, 'sessions'))).toEqual(['fssession00000001'])
    await store.destroy('fssession00000001')
    expect(await readdir(join(base, 'sessions'))).toEqual([])
  })

  it('keeps a __proto__ data key as plain data and treats a damaged value as missing', async () => {
    const raw = storage({ driver: memoryDriver() })
    const store = fromUnstorage(raw)
    const data = JSON.parse('{"__proto__":{"polluted":true},"ok":1}') as Record<string, unknown>
    await store.set('protosession00001', { data, ...minute() })
    const found = await store.get('protosession00001')
    expect(Object.keys(found!.data).sort()).toEqual(['__proto__', 'ok'])
    expect(Object.getPrototypeOf(found!.data)).toBe(Object.prototype)
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined()
    await raw.setItemRaw('tessera:damagedsession1', '{"data": not json')
    await raw.setItemRaw('tessera:foreignsession1', JSON.stringify({ hello: 'world' }))
    expect(await store.get('damagedsession1')).toBeUndefined()
    expect(await store.get('foreignsession1')).toBeUndefined()
  })

  it('touch does not recreate a destroyed session', async () => {
    const store = fromUnstorage(storage({ driver: memoryDriver() }))
    await store.set('touchgone00000001', { data: { a: 1 }, ...minute() })
    await store.destroy('touchgone00000001')
    await store.touch!('touchgone00000001', Date.now() + 60_000)
    expect(await store.get('touchgone00000001')).toBeUndefined()
  })

  it('has no patch and no user index; update reads before it writes', async () => {
    const store = fromUnstorage(storage({ driver: memoryDriver() }))
    expect(store.patch).toBeUndefined()
    expect(store.listUser).toBeUndefined()
    expect(store.revokeUser).toBeUndefined()
    await store.update!('neverexisted00001', { data: { a: 1 }, ...minute() })
    expect(await store.get('neverexisted00001')).toBeUndefined()
  })

  it('a request that loaded the session before a logout does not bring it back when it commits', async () => {
    const sessions = createSessions<AnyData>({ secrets: [SECRET], store: fromUnstorage(storage({ driver: redisDriver({ url: server.url }) }), { prefix: uniquePrefix() }) })
    let release!: () => void
    const released = new Promise<void>((resolve) => (release = resolve))
    let slowLoaded!: () => void
    const loaded = new Promise<void>((resolve) => (slowLoaded = resolve))
    const app = await serve(async (req, res) => {
      const session = await sessions.get(req, res)
      const path = new URL(req.url ?? '/', 'http://localhost').pathname
      if (path === '/logout') await session.destroy()
      else if (path === '/slow') {
        slowLoaded()
        await released // the logout completes while this request holds the session
        session.data.late = 1
      } else session.data.user = 'ada'
      res.end('ok')
    })
    try {
      const jar = new Jar()
      expect((await jar.fetch(`${app.url}/login`)).status).toBe(200)
      const cookie = jar.header
      const slow = fetch(`${app.url}/slow`, { headers: { cookie } })
      await loaded
      expect((await fetch(`${app.url}/logout`, { headers: { cookie } })).status).toBe(200)
      release()
      expect((await slow).status).toBe(200)
      const after = await sessions.get(new Request(app.url, { headers: { cookie } }))
      expect(after.data).toEqual({})
    } finally {
      await app.close()
    }
  })

  it('rejects a driver or bad options with a TypeError', () => {
    expect(() => fromUnstorage(memoryDriver() as never)).toThrow(/createStorage/)
    expect(() => fromUnstorage(storage({ driver: memoryDriver() }), { prefix: 1 as never })).toThrow(/prefix/)
    expect(() => fromUnstorage(storage({ driver: memoryDriver() }), { ttl: 60 as never })).toThrow(/ttl/)
  })

  it('serves sessions over HTTP through createSessions (redis driver)', async () => {
    const { app } = await serveSessions({ store: fromUnstorage(storage({ driver: redisDriver({ url: server.url }) }), { prefix: uniquePrefix() }) })
    try {
      const jar = new Jar()
      expect((await jar.fetch(`${app.url}/set?k=user&v=ada`)).status).toBe(200)
      expect((await jar.fetch(`${app.url}/set?k=theme&v=dark`)).status).toBe(200)
      expect(((await (await jar.fetch(`${app.url}/read`)).json()) as { data: unknown }).data).toEqual({ user: 'ada', theme: 'dark' })
    } finally {
      await app.close()
    }
  })

  it('without patch, 20 concurrent requests that each set a key keep one of them: last writer wins, as documented', async () => {
    const sessions = createSessions<AnyData>({ secrets: [SECRET], store: fromUnstorage(storage({ driver: redisDriver({ url: server.url }) }), { prefix: uniquePrefix() }) })
    let loaded = 0
    const app = await serve(async (req, res) => {
      const session = await sessions.get(req, res)
      const key = new URL(req.url ?? '/', 'http://localhost').searchParams.get('k')!
      if (key !== 'start') {
        loaded++
        const deadline = Date.now() + 5000
        while (loaded < 20 && Date.now() < deadline) await sleep(5) // every request has loaded before any commits
      }
      session.data[key] = 1
      res.end('ok')
    })
    try {
      const jar = new Jar()
      expect((await jar.fetch(`${app.url}/?k=start`)).status).toBe(200)
      const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => jar.fetch(`${app.url}/?k=k${i}`)))
      for (const response of responses) expect(response.status).toBe(200)
      const session = await sessions.get(new Request(app.url, { headers: { cookie: jar.header } }))
      const kept = Object.keys(session.data).filter((key) => key.startsWith('k'))
      expect(loaded).toBe(20)
      expect(kept.length).toBe(1)
      expect(session.data.start).toBe(1)
    } finally {
      await app.close()
    }
  })
})

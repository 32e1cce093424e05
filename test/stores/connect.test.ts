// fromConnectStore over real express-session stores on real servers: connect-redis 9 on a
// node-redis client, connect-pg-simple on PostgreSQL (built from Tessera's `expressSession`
// stand-in, not the express-session module), and a migration from the real express-session.
import { createRequire } from 'node:module'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import express from 'express'
import session from 'express-session'
import { RedisStore as ConnectRedis } from 'connect-redis'
import { createClient } from 'redis'
import pg from 'pg'
import { startRedis, type RedisServer } from '../harness/redis.js'
import { startPostgres, type PostgresServer } from '../harness/postgres.js'
import { Cookie, expressSession, fromConnectStore, MemoryStore, Store, type ConnectStoreLike } from '../../src/connect.js'
import { testSessionStore } from '../../src/testing.js'
import { createSessions } from '../../src/index.js'
import { Jar, serve } from '../helpers.js'
import { SECRET, serveSessions, sleep, uniquePrefix, type AnyData } from './support.js'

// connect-pg-simple ships no types: `(session) => class extends session.Store`.
const connectPgSimple = createRequire(import.meta.url)('connect-pg-simple') as (
  session: unknown,
) => new (options: { pool: pg.Pool; tableName?: string; createTableIfMissing?: boolean; pruneSessionInterval?: false | number }) => ConnectStoreLike & {
  close(): Promise<void>
}

let redisServer: RedisServer
let pgServer: PostgresServer
let redis: ReturnType<typeof createClient>
let pool: pg.Pool
const pgStores: { close(): Promise<void> }[] = []

beforeAll(async () => {
  ;[redisServer, pgServer] = await Promise.all([startRedis(), startPostgres()])
  redis = createClient({ url: redisServer.url })
  redis.on('error', () => {})
  await redis.connect()
  pool = new pg.Pool({ connectionString: pgServer.url, max: 10 })
}, 120_000)

afterAll(async () => {
  for (const store of pgStores) await store.close()
  await redis?.close().catch(() => {})
  await pool?.end()
  await Promise.all([redisServer?.stop(), pgServer?.stop()])
}, 60_000)

const PgStore = () => connectPgSimple(expressSession)
function pgStore(): ConnectStoreLike {
  const store = new (PgStore())({ pool, createTableIfMissing: true, pruneSessionInterval: false })
  pgStores.push(store)
  return store
}

testSessionStore('fromConnectStore(connect-redis on node-redis)', () => fromConnectStore(new ConnectRedis({ client: redis, prefix: uniquePrefix('sess') })), {
  describe,
  it,
  capabilities: ['rotate'],
})
testSessionStore('fromConnectStore(connect-pg-simple)', () => fromConnectStore(pgStore()), { describe, it, capabilities: ['rotate'] })
testSessionStore('fromConnectStore(expressSession.MemoryStore)', () => fromConnectStore(new MemoryStore()), { describe, it, capabilities: ['rotate'] })

describe('fromConnectStore', () => {
  it('hands the store an express-session session: data keys, cookie with our expiry, reserved __tessera', async () => {
    const prefix = uniquePrefix('sess')
    const store = fromConnectStore(new ConnectRedis({ client: redis, prefix }))
    const now = Date.now()
    const expiresAt = now + 90_000
    await store.set('shapeofsession0001', { data: { user: 'ada', cookie: 'a data key named cookie' }, createdAt: now - 5000, expiresAt, userId: 'u1' })
    const raw = JSON.parse((await redis.get(`${prefix}shapeofsession0001`))!) as AnyData
    expect(raw).toEqual({
      user: 'ada',
      cookie: { originalMaxAge: expect.any(Number), expires: new Date(expiresAt).toISOString(), path: '/', httpOnly: true },
      __tessera: { c: now - 5000, e: expiresAt, u: 'u1', k: { cookie: 'a data key named cookie' } },
    })
    // connect-redis took its TTL from cookie.expires: Redis drops it when Tessera would.
    const ttl = await redis.ttl(`${prefix}shapeofsession0001`)
    expect(ttl).toBeGreaterThanOrEqual(89)
    expect(ttl).toBeLessThanOrEqual(90)
    const back = await store.get('shapeofsession0001')
    expect(back).toEqual({ data: { user: 'ada', cookie: 'a data key named cookie' }, createdAt: now - 5000, expiresAt, userId: 'u1' })
    expect(store.patch).toBeUndefined()
    expect(store.touch).toBeUndefined()
    expect(store.listUser).toBeUndefined()
  })

  it('reads sessions written by express-session: no __tessera, cookie as express-session stores it', async () => {
    const backing = new MemoryStore()
    const store = fromConnectStore(backing, { ttl: 600 })
    const expires = new Date(Date.now() + 30_000)
    const cookie = new Cookie({ path: '/', httpOnly: true })
    cookie.expires = expires
    backing.set('fromexpresssession', { cookie, views: 3 })
    backing.set('browsersessioncook', { cookie: new Cookie(), views: 1 }) // no expiry: a browser-session cookie
    const before = Date.now()
    const found = await store.get('fromexpresssession')
    expect(found?.data).toEqual({ views: 3 })
    expect(found?.expiresAt).toBe(expires.getTime())
    expect(found?.createdAt).toBeGreaterThanOrEqual(before)
    const open = await store.get('browsersessioncook')
    expect(open?.expiresAt).toBeGreaterThanOrEqual(before + 600_000)
  })

  it('a stale cookie expiry in a live express-session session (touched by the store) is not a logout', async () => {
    const prefix = uniquePrefix('sess')
    const connect = new ConnectRedis({ client: redis, prefix })
    await redis.set(`${prefix}touchedbyconnect01`, JSON.stringify({ cookie: { originalMaxAge: 1000, expires: new Date(Date.now() - 60_000) }, n: 1 }), { EX: 60 })
    const found = await fromConnectStore(connect).get('touchedbyconnect01')
    expect(found?.data).toEqual({ n: 1 })
    expect(found!.expiresAt).toBeGreaterThan(Date.now())
  })

  it('turns store errors into rejections, whether the store calls back or throws', async () => {
    const failing: ConnectStoreLike = {
      get: (_sid, cb) => cb(new Error('backend down')),
      set: () => {
        throw new Error('thrown')
      },
      destroy: (_sid, cb) => setImmediate(cb, 'a string error'),
    }
    const store = fromConnectStore(failing)
    await expect(store.get('anysessionid000001')).rejects.toThrow('backend down')
    await expect(store.set('anysessionid000001', { data: {}, createdAt: 0, expiresAt: Date.now() + 1000 })).rejects.toThrow('thrown')
    await expect(store.destroy('anysessionid000001')).rejects.toThrow('a string error')
    expect(() => fromConnectStore({} as never)).toThrow(TypeError)
  })

  it('expressSession stands in for the express-session module: Store is an EventEmitter, Cookie computes maxAge', () => {
    const store = new Store({ ignored: true })
    expect(typeof store.on).toBe('function')
    expect(typeof store.emit).toBe('function')
    expect(new (PgStore())({ pool, pruneSessionInterval: false })).toBeInstanceOf(Store)
    const cookie = new Cookie({ maxAge: 60_000 } as never)
    expect(cookie.maxAge).toBeGreaterThan(59_000)
    expect(cookie.originalMaxAge).toBe(60_000)
    expect(JSON.parse(JSON.stringify(cookie))).toMatchObject({ originalMaxAge: 60_000, path: '/', httpOnly: true, expires: expect.any(String) })
    expect(expressSession.Store).toBe(Store)
  })
})

describe('moving from express-session to Tessera', () => {
  const sid = (header: string) => decodeURIComponent(/connect\.sid=([^;]+)/.exec(header)![1]!)

  async function expressApp(store: session.Store): Promise<{ url: string; close(): Promise<void> }> {
    const app = express()
    app.use(session({ secret: SECRET, store, name: 'connect.sid', resave: false, saveUninitialized: false, cookie: { maxAge: 3_600_000 } }))
    app.get('/login', (req, res) => {
      ;(req.session as unknown as AnyData).user = 'ada'
      ;(req.session as unknown as AnyData).cart = { items: [1, 2] }
      res.send('ok')
    })
    const server: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s))
    })
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }),
    }
  }

  for (const [label, makeStore] of [
    ['connect-redis', () => new ConnectRedis({ client: redis, prefix: uniquePrefix('sess') })],
    ['connect-pg-simple', () => new (connectPgSimple(session))({ pool, createTableIfMissing: true, pruneSessionInterval: false })],
  ] as const) {
    it(`a session made by the real express-session (${label}) loads in Tessera, whose next cookie is in its own format`, async () => {
      const connectStore = makeStore() as unknown as session.Store & ConnectStoreLike
      if (label === 'connect-pg-simple') pgStores.push(connectStore as unknown as { close(): Promise<void> })
      const legacy = await expressApp(connectStore)
      const { app } = await serveSessions({ name: 'connect.sid', store: fromConnectStore(connectStore) })
      try {
        const login = await fetch(`${legacy.url}/login`)
        expect(login.status).toBe(200)
        const setCookie = login.headers.getSetCookie().join('\n')
        expect(setCookie).toMatch(/^connect\.sid=s%3A/)
        const expressValue = sid(setCookie) // s:<id>.<signature>
        const expressId = expressValue.slice(2, expressValue.lastIndexOf('.'))

        const jar = new Jar()
        jar.cookies.set('connect.sid', encodeURIComponent(expressValue))
        const read = await jar.fetch(`${app.url}/read`)
        expect(read.status).toBe(200)
        const body = (await read.json()) as { id: string; data: AnyData }
        expect(body.id).toBe(expressId)
        expect(body.data).toEqual({ user: 'ada', cart: { items: [1, 2] } })

        // Express-session's cookie lived 1 hour, Tessera's ttl is 14 days: this first request was
        // due for a touch, so it re-issued the cookie, in Tessera's format.
        const reissued = read.headers.getSetCookie().find((line) => line.startsWith('connect.sid='))
        expect(reissued, 'a re-issued cookie').toBeDefined()
        const value = reissued!.slice('connect.sid='.length).split(';')[0]!
        expect(value).not.toMatch(/^s(:|%3A)/)
        expect(value).toMatch(new RegExp(`^${expressId}\\.[A-Za-z0-9_-]{43}$`))

        // The new cookie keeps working, with the same data, and writes land in the old store.
        const write = await jar.fetch(`${app.url}/set?k=views&v=1`)
        expect(((await write.json()) as { data: AnyData }).data).toEqual({ user: 'ada', cart: { items: [1, 2] }, views: '1' })
        const stored = await new Promise<AnyData>((resolve, reject) => connectStore.get(expressId, (err, sess) => (err ? reject(err) : resolve(sess as unknown as AnyData))))
        expect(stored).toMatchObject({ user: 'ada', views: '1', __tessera: { c: expect.any(Number), e: expect.any(Number) } })
      } finally {
        await app.close()
        await legacy.close()
      }
    })
  }

  it('a concurrent write through a connect store is last-writer-wins (documented: no patch)', async () => {
    // All 20 requests load the session before any of them commits (a barrier), as happens under
    // load: each writes back the whole record it loaded plus its own key, so one key survives.
    const sessions = createSessions<AnyData>({ secrets: [SECRET], store: fromConnectStore(new ConnectRedis({ client: redis, prefix: uniquePrefix('sess') })) })
    let loaded = 0
    const app = await serve(async (req, res) => {
      const s = await sessions.get(req, res)
      const key = new URL(req.url!, 'http://x').searchParams.get('k')
      if (key?.startsWith('k')) {
        loaded++
        const deadline = Date.now() + 5000
        while (loaded < 20 && Date.now() < deadline) await sleep(5)
      }
      if (key) s.data[key] = 1
      res.end(JSON.stringify({ ...s.data }))
    })
    try {
      const jar = new Jar()
      await jar.fetch(`${app.url}/?k=start`)
      const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => jar.fetch(`${app.url}/?k=k${i}`)))
      for (const response of responses) expect(response.status).toBe(200)
      const data = (await (await jar.fetch(`${app.url}/`)).json()) as AnyData
      expect(loaded).toBe(20)
      expect(Object.keys(data).filter((k) => k !== 'start')).toHaveLength(1)
    } finally {
      await app.close()
    }
  })
})

describe('fromConnectStore: the outside review', () => {
  /** A working callback store that stops calling back once `hang` is set (until `late` is run). */
  function stallingStore(): ConnectStoreLike & { hang: boolean; late: Array<() => void> } {
    const backing = new MemoryStore()
    const store = {
      hang: false,
      late: [] as Array<() => void>,
      get: (sid: string, cb: (error?: unknown, value?: unknown) => void) => {
        if (store.hang) store.late.push(() => backing.get(sid, cb))
        else backing.get(sid, cb)
      },
      set: (sid: string, session: AnyData, cb: (error?: unknown) => void) => {
        if (store.hang) store.late.push(() => backing.set(sid, session, cb))
        else backing.set(sid, session, cb)
      },
      destroy: (sid: string, cb: (error?: unknown) => void) => {
        if (store.hang) store.late.push(() => backing.destroy(sid, cb))
        else backing.destroy(sid, cb)
      },
    }
    return store
  }

  it('review 18: a connect store whose get never calls back answers STORE_ERROR within operationTimeout', async () => {
    const connect = stallingStore()
    const { app } = await serveSessions({ store: fromConnectStore(connect, { operationTimeout: 0.3 }) })
    try {
      const jar = new Jar()
      expect((await jar.fetch(`${app.url}/set?k=a&v=1`)).status).toBe(200)
      connect.hang = true
      const started = performance.now()
      const response = await jar.fetch(`${app.url}/read`, { signal: AbortSignal.timeout(10_000) })
      expect(response.status).toBe(500)
      const body = (await response.json()) as { error: string; message: string }
      expect(body.error).toBe('STORE_ERROR')
      expect(body.message).toMatch(/timed out.*get.*0\.3 s.*operationTimeout/)
      expect(performance.now() - started).toBeGreaterThanOrEqual(290)
      // The answer that comes after the deadline is ignored, never unhandled.
      for (const late of connect.late) late()
      connect.hang = false
      expect(((await (await jar.fetch(`${app.url}/read`)).json()) as { data: AnyData }).data).toEqual({ a: '1' })
    } finally {
      await app.close()
    }
  }, 20_000)

  it('operationTimeout: a TypeError when it is not a number of seconds > 0, and longer than a timer can wait works', async () => {
    for (const operationTimeout of [0, -1, Number.NaN, Infinity, '2']) {
      expect(() => fromConnectStore(new MemoryStore(), { operationTimeout: operationTimeout as number }), String(operationTimeout)).toThrow(/operationTimeout/)
    }
    // 3,000,000 s is past what setTimeout can wait (2^31 - 1 ms, Node would fire it after 1 ms).
    const connect = stallingStore()
    const store = fromConnectStore(connect, { operationTimeout: 3_000_000 })
    connect.hang = true
    let settled = false
    const pending = Promise.resolve(store.get('longwaitsession001')).finally(() => (settled = true))
    await sleep(50)
    expect(settled).toBe(false)
    connect.late[0]!()
    await expect(pending).resolves.toBeUndefined()
  })

  it('operationTimeout is 2 s when not given', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
    try {
      const connect = stallingStore()
      connect.hang = true
      const failed = Promise.resolve(fromConnectStore(connect).destroy('defaulttimeout0001')).then(() => 'resolved', (error: Error) => error.message)
      let settled = false
      void failed.finally(() => (settled = true))
      await vi.advanceTimersByTimeAsync(1990)
      expect(settled).toBe(false)
      await vi.advanceTimersByTimeAsync(20)
      expect(await failed).toMatch(/timed out.*2 s/)
    } finally {
      vi.useRealTimers()
    }
  })
})

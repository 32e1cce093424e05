// Review 12: a slow regenerate() must not bring back a session that was logged out or revoked
// while the request ran. Request A loads a logged-in session; request B logs out (or the user is
// revoked); then A regenerates and commits. On every built-in store (real Redis and PostgreSQL
// servers) the session stays gone: no record under either id, and A's response leaves the browser
// with no valid session.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, Redis } from 'ioredis'
import { createClient } from 'redis'
import pg from 'pg'
import { createSessions, MemoryStore, type SessionStore } from '../../src/index.js'
import { RedisStore } from '../../src/redis.js'
import { PostgresStore } from '../../src/postgres.js'
import { fromConnectStore, MemoryStore as ConnectMemoryStore } from '../../src/connect.js'
import { startRedis, startRedisCluster, type RedisCluster, type RedisServer } from '../harness/redis.js'
import { startPostgres, type PostgresServer } from '../harness/postgres.js'
import { Jar, serve } from '../helpers.js'
import { nodeReq, webRequest, webRound, type AnyData } from '../core/support.js'
import { uniquePrefix } from '../stores/support.js'

let redis: RedisServer
let cluster: RedisCluster
let postgres: PostgresServer
let io: Redis
let nodeRedis: ReturnType<typeof createClient>
let ioCluster: Cluster
let pool: pg.Pool
const pgStores: PostgresStore[] = []

beforeAll(async () => {
  ;[redis, cluster, postgres] = await Promise.all([startRedis(), startRedisCluster(), startPostgres()])
  io = new Redis(redis.url)
  nodeRedis = createClient({ url: redis.url })
  await nodeRedis.connect()
  ioCluster = new Cluster(cluster.nodes)
  pool = new pg.Pool({ connectionString: postgres.url, max: 5 })
  pool.on('error', () => {})
}, 120_000)

afterAll(async () => {
  for (const store of pgStores) store.close()
  io?.disconnect()
  ioCluster?.disconnect()
  await nodeRedis?.close().catch(() => {})
  await pool?.end()
  await Promise.all([redis?.stop(), cluster?.stop(), postgres?.stop()])
}, 60_000)

function pgStore(): PostgresStore {
  const store = new PostgresStore({ pool, table: `rotation_${uniquePrefix('t').replace(/\W/g, '_')}` })
  pgStores.push(store)
  return store
}

interface Built {
  name: string
  make: () => SessionStore
  userIndex: boolean
}

const STORES: Built[] = [
  { name: 'MemoryStore', make: () => new MemoryStore(), userIndex: true },
  { name: 'RedisStore on ioredis', make: () => new RedisStore({ client: io, prefix: uniquePrefix() }), userIndex: true },
  { name: 'RedisStore on node-redis', make: () => new RedisStore({ client: nodeRedis, prefix: uniquePrefix() }), userIndex: true },
  { name: 'RedisStore on an ioredis Cluster', make: () => new RedisStore({ client: ioCluster, prefix: uniquePrefix() }), userIndex: true },
  { name: 'PostgresStore', make: pgStore, userIndex: true },
  { name: 'fromConnectStore(expressSession.MemoryStore)', make: () => fromConnectStore(new ConnectMemoryStore()), userIndex: false },
]

/** Alice logs in (a regenerate and a bindUser, as a login does); resolves to her jar and session id. */
async function logIn(sessions: ReturnType<typeof createSessions<AnyData>>) {
  const jar = new Jar()
  await webRound(sessions, jar, (s) => void (s.data.visits = 1)) // the pre-login session
  const { session } = await webRound(sessions, jar, async (s) => {
    await s.regenerate()
    s.bindUser('alice')
    s.data.role = 'user'
  })
  return { jar, id: session.id }
}

/** Request A: loaded before `meanwhile` ran, then regenerates ("elevated mode") and commits. */
async function slowRegenerate(sessions: ReturnType<typeof createSessions<AnyData>>, jar: Jar, meanwhile: () => Promise<unknown>) {
  const response = new Response('ok')
  const a = await sessions.get(webRequest(jar), response)
  expect(a.userId).toBe('alice') // A holds a logged-in session
  await meanwhile()
  await a.regenerate()
  a.data.elevated = true
  await a.commit()
  const setCookies = response.headers.getSetCookie()
  jar.take(setCookies)
  return { newId: a.id, setCookies }
}

async function expectGone(store: SessionStore, sessions: ReturnType<typeof createSessions<AnyData>>, jar: Jar, ids: string[], userIndex: boolean) {
  for (const id of ids) expect(await store.get(id)).toBeFalsy()
  if (userIndex) expect(await store.listUser!('alice')).toEqual([])
  const next = await sessions.get(webRequest(jar)) // the browser's next request
  expect(next.isNew).toBe(true)
  expect(next.userId).toBeUndefined()
  expect(next.data).toEqual({})
}

describe.each(STORES)('review 12 on $name', ({ make, userIndex }) => {
  it('review 12: a regenerate() slower than a logout does not bring the session back', async () => {
    const store = make()
    const sessions = createSessions<AnyData>({ store })
    const { jar, id } = await logIn(sessions)
    const other = new Jar()
    other.cookies.set('sid', jar.cookies.get('sid')!) // B: the same browser, another tab
    const { newId, setCookies } = await slowRegenerate(sessions, jar, () => webRound(sessions, other, (s) => s.destroy()))
    expect(newId).not.toBe(id)
    await expectGone(store, sessions, jar, [id, newId], userIndex)
    // A's response clears the cookie (it does not hand out the new id).
    expect(setCookies.filter((line) => line.startsWith('sid=')).every((line) => /max-age=0/i.test(line))).toBe(true)
  }, 30_000)

  if (userIndex) it('review 12: a regenerate() slower than revokeUser() does not bring the session back', async () => {
    const store = make()
    const sessions = createSessions<AnyData>({ store })
    const { jar, id } = await logIn(sessions)
    const { newId } = await slowRegenerate(sessions, jar, () => sessions.revokeUser('alice'))
    await expectGone(store, sessions, jar, [id, newId], userIndex)
  }, 30_000)

  it('review 12: without a race, the regenerated session moves to its new id, user and data kept', async () => {
    const store = make()
    const sessions = createSessions<AnyData>({ store })
    const { jar, id } = await logIn(sessions)
    const { newId, setCookies } = await slowRegenerate(sessions, jar, async () => {})
    expect(await store.get(id)).toBeFalsy()
    expect((await store.get(newId))?.data).toEqual({ visits: 1, role: 'user', elevated: true })
    expect(setCookies.some((line) => line.startsWith('sid=') && !/max-age=0/i.test(line))).toBe(true)
    const next = await sessions.get(webRequest(jar))
    expect(next.id).toBe(newId)
    expect(next.userId).toBe('alice')
    if (userIndex) expect((await store.listUser!('alice')).map((s) => s.id)).toEqual([newId])
  }, 30_000)
})

// node:http commits by itself: at res.end() (store first, then the cookie), or inside writeHead()
// when the app writes the head itself (the cookie first, the store write may finish later).
describe.each([
  { name: 'MemoryStore', make: (): SessionStore => new MemoryStore() },
  { name: 'RedisStore', make: (): SessionStore => new RedisStore({ client: io, prefix: uniquePrefix() }) },
])('review 12 through node:http on $name', ({ make }) => {
  it.each(['end', 'writeHead'])('review 12: a slow regenerate() does not bring a logged-out session back (autoCommit at %s)', async (mode) => {
    const store = make()
    const sessions = createSessions<AnyData>({ store })
    const { jar, id } = await logIn(sessions)
    let loaded!: () => void
    const isLoaded = new Promise<void>((resolve) => (loaded = resolve))
    let release!: () => void
    const released = new Promise<void>((resolve) => (release = resolve))
    let newId = ''
    const server = await serve(async (req, res) => {
      const session = await sessions.get(nodeReq(req), res)
      loaded()
      await released // B logs out meanwhile
      await session.regenerate()
      session.data.elevated = true
      newId = session.id
      if (mode === 'writeHead') res.writeHead(200, { 'content-type': 'text/plain' })
      res.end('ok')
    })
    try {
      const a = jar.fetch(server.url)
      await isLoaded
      const other = new Jar()
      other.cookies.set('sid', jar.cookies.get('sid')!)
      await webRound(sessions, other, (s) => s.destroy())
      release()
      const response = await a
      expect(response.status).toBe(200)
      const sid = response.headers.getSetCookie().filter((line) => line.startsWith('sid='))
      await expectGone(store, sessions, jar, [id, newId], true)
      if (mode === 'end' || store instanceof MemoryStore) {
        // The store answered before the head left: the cookie is cleared.
        expect(sid.length).toBeGreaterThan(0)
        expect(sid.every((line) => /max-age=0/i.test(line))).toBe(true)
      } else {
        // The head left with the new cookie before Redis answered: it names an id with no record (checked above).
        expect(sid).toEqual([expect.stringMatching(new RegExp(`^sid=${newId};`))])
      }
    } finally {
      await server.close()
    }
  }, 30_000)
})

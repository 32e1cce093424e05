// Redis dies under load and comes back. A real node:http server keeps answering: every request
// that needs the store during the outage gets a 500 carrying STORE_ERROR within about
// operationTimeout, the process stays up, and after the restart requests succeed again and every
// write that was acknowledged with a 200 is still there (the harness runs Redis with
// appendonly + appendfsync always).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { startRedis, type RedisServer } from '../harness/redis.js'
import { RedisStore, type RedisClientLike } from '../../src/redis.js'
import { Jar } from '../helpers.js'
import { serveSessions, sleep, uniquePrefix, type AnyData } from './support.js'

const OPERATION_TIMEOUT = 1 // seconds
const SLACK_MS = 1000
const USERS = 8

interface Result {
  user: number
  key: string
  status: number | 'no answer'
  body: string
  start: number
  end: number
}

let server: RedisServer
const problems: unknown[] = []
const onProblem = (error: unknown) => problems.push(error)

beforeAll(async () => {
  server = await startRedis()
  process.on('unhandledRejection', onProblem)
  process.on('uncaughtException', onProblem)
}, 60_000)

afterAll(async () => {
  process.off('unhandledRejection', onProblem)
  process.off('uncaughtException', onProblem)
  await server?.stop()
}, 60_000)

async function outage(client: RedisClientLike): Promise<void> {
  const { app } = await serveSessions({ store: new RedisStore({ client, prefix: uniquePrefix('outage'), operationTimeout: OPERATION_TIMEOUT }) })
  const results: Result[] = []
  let counter = 0
  let running = true
  const jars = Array.from({ length: USERS }, () => new Jar())
  try {
    // Every user gets a session before the load starts.
    for (const jar of jars) expect((await jar.fetch(`${app.url}/set?k=hello`)).status).toBe(200)

    const request = async (user: number): Promise<Result> => {
      const key = `w${++counter}`
      const start = Date.now()
      try {
        // A request that never answers fails the test through this bound, instead of hanging it.
        const response = await jars[user]!.fetch(`${app.url}/set?k=${key}&v=${key}`, { signal: AbortSignal.timeout(15_000) })
        return { user, key, status: response.status, body: await response.text(), start, end: Date.now() }
      } catch (error) {
        return { user, key, status: 'no answer', body: String(error), start, end: Date.now() }
      }
    }
    const loops = jars.map(async (_, user) => {
      while (running) {
        results.push(await request(user))
        await sleep(5)
      }
    })

    await sleep(1500)
    const killStart = Date.now()
    await server.kill()
    const killed = Date.now()
    await sleep(3000)
    const restartStart = Date.now()
    await server.start()
    const restarted = Date.now()

    // Requests succeed again once the client has reconnected (its retry back-off decides when).
    const deadline = Date.now() + 20_000
    while (Date.now() < deadline) {
      const recent = results.filter((r) => r.start > restarted)
      if (new Set(recent.filter((r) => r.status === 200).map((r) => r.user)).size === USERS) break
      await sleep(100)
    }
    await sleep(300)
    running = false
    await Promise.all(loops)

    expect(results.filter((r) => r.status === 'no answer'), 'requests without an answer').toEqual([])

    const before = results.filter((r) => r.end < killStart)
    expect(before.length).toBeGreaterThan(USERS * 3)
    expect(before.every((r) => r.status === 200)).toBe(true)

    // While Redis is down: a 500 carrying STORE_ERROR, fast.
    const during = results.filter((r) => r.start > killed + 50 && r.end < restartStart)
    expect(during.length).toBeGreaterThanOrEqual(USERS)
    for (const r of during) {
      expect(r.status, r.body).toBe(500)
      expect(r.body).toContain('STORE_ERROR')
      expect(r.end - r.start).toBeLessThan(OPERATION_TIMEOUT * 1000 + SLACK_MS)
    }
    // Requests in flight at the kill settle too, within two store calls (load, commit) and slack.
    for (const r of results) expect(r.end - r.start).toBeLessThan(2 * OPERATION_TIMEOUT * 1000 + SLACK_MS)

    const after = results.filter((r) => r.start > restarted)
    expect(after.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(USERS)

    // Every acknowledged write is still there, for every user.
    for (let user = 0; user < USERS; user++) {
      const response = await jars[user]!.fetch(`${app.url}/read`)
      expect(response.status).toBe(200)
      const { data } = (await response.json()) as { data: AnyData }
      expect(data.hello).toBe(1)
      for (const r of results.filter((x) => x.user === user && x.status === 200)) expect(data[r.key], `acknowledged ${r.key}`).toBe(r.key)
    }
    expect(problems, 'unhandled rejections or exceptions').toEqual([])
  } finally {
    running = false
    await app.close()
  }
}

describe('RedisStore when Redis goes away under load', () => {
  it('ioredis with its default options (offline queue on, 20 retries): operationTimeout bounds every request', async () => {
    const client = new Redis(server.url)
    const errors: unknown[] = []
    client.on('error', (error) => errors.push(error))
    try {
      await outage(client)
      expect(errors.length).toBeGreaterThan(0) // it did notice the outage
    } finally {
      client.disconnect()
    }
  }, 60_000)

  it('ioredis as docs/stores.md recommends (no offline queue, 1 retry): fails fast', async () => {
    const client = new Redis(server.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true })
    client.on('error', () => {})
    await client.connect()
    try {
      await outage(client)
    } finally {
      client.disconnect()
    }
  }, 60_000)

  it('node-redis with its default options', async () => {
    const client = createClient({ url: server.url })
    client.on('error', () => {}) // node-redis throws an unhandled 'error' event otherwise
    await client.connect()
    try {
      await outage(client)
    } finally {
      client.destroy()
    }
  }, 60_000)
})

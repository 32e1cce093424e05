// operationTimeout: every call rejects at its deadline whatever the client does, a late answer is
// ignored, and a write that timed out while queued in the client (Redis down, node-redis offline
// queue) is dropped: it never lands after the caller was told it failed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClient } from 'redis'
import { startRedis, type RedisServer } from '../harness/redis.js'
import { RedisStore } from '../../src/redis.js'
import { sleep, uniquePrefix } from './support.js'

interface Sent {
  args: string[]
  signal: AbortSignal | undefined
  at: number
  answer(value: unknown): void
  fail(error: unknown): void
}

/** A node-redis-shaped client that never answers by itself; the test answers (or not) each command. */
function silentNodeRedis() {
  const sent: Sent[] = []
  const client = {
    sent,
    multi() {
      throw new Error('not used')
    },
    sendCommand(args: string[], options?: { abortSignal?: AbortSignal }): Promise<unknown> {
      return new Promise((resolve, reject) => {
        const signal = options?.abortSignal
        // Like node-redis: a command still queued when its signal aborts is rejected and dropped.
        signal?.addEventListener('abort', () => reject(new Error('The command was aborted')), { once: true })
        sent.push({ args, signal, at: performance.now(), answer: resolve, fail: reject })
      })
    },
  }
  return client
}

const hour = () => Date.now() + 3_600_000

describe('RedisStore operationTimeout', () => {
  it('rejects each call at its own deadline, aborts its signal then, and ignores a late answer', async () => {
    const client = silentNodeRedis()
    const store = new RedisStore({ client, operationTimeout: 0.2 })
    const warnings: Error[] = []
    const onWarning = (w: Error) => warnings.push(w)
    process.on('warning', onWarning)
    try {
      const started = performance.now()
      const first = store.get('firstsession000001').then(
        () => ({ ok: true as const, at: performance.now() }),
        (error: Error) => ({ ok: false as const, error, at: performance.now() }),
      )
      // Many calls at once: they share signals, without a MaxListenersExceededWarning.
      const many = Array.from({ length: 50 }, (_, i) => store.touch(`manysession${String(i).padStart(7, '0')}`, hour()).catch((e: Error) => e))
      await sleep(80)
      const laterStart = performance.now()
      const later = store.patch('latersession000001', { set: { a: 1 }, unset: [] }, hour()).then(
        () => ({ ok: true as const, at: performance.now() }),
        (error: Error) => ({ ok: false as const, error, at: performance.now() }),
      )
      const answered = store.get('answeredsession001')
      client.sent.at(-1)!.answer(['\u0000c', '1', '\u0000e', String(hour()), 'a', '1'])
      expect((await answered)?.data).toEqual({ a: 1 })

      const r1 = await first
      expect(r1.ok).toBe(false)
      if (!r1.ok) expect(r1.error.message).toMatch(/timed out.*HGETALL.*0\.2 s/)
      expect(r1.at - started).toBeGreaterThanOrEqual(195)
      expect(r1.at - started).toBeLessThan(600)
      expect(client.sent[0]!.signal?.aborted).toBe(true)
      // The later call (another signal) is still waiting, its command still queued.
      const laterSent = client.sent.find((s) => s.args.includes('latersession000001'))!
      expect(laterSent.signal?.aborted).toBe(false)

      const r2 = await later
      expect(r2.ok).toBe(false)
      if (!r2.ok) expect(r2.error.message).toMatch(/timed out.*EVALSHA/)
      expect(r2.at - laterStart).toBeGreaterThanOrEqual(195)
      expect(r2.at - laterStart).toBeLessThan(600)
      expect(laterSent.signal?.aborted).toBe(true)

      for (const result of await Promise.all(many)) expect(String(result)).toMatch(/timed out/)
      // A late answer or failure after the timeout changes nothing and is never unhandled.
      client.sent[0]!.answer([])
      laterSent.fail(new Error('late'))
      await sleep(10)
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([])
    } finally {
      process.off('warning', onWarning)
    }
  })

  it('bounds calls on an ioredis-shaped client too (no signal there)', async () => {
    const client = { isCluster: false, multi() {}, call: () => new Promise(() => {}) }
    const store = new RedisStore({ client, operationTimeout: 0.1 })
    const started = performance.now()
    await expect(store.get('iosession000000001')).rejects.toThrow(/timed out/)
    expect(performance.now() - started).toBeGreaterThanOrEqual(95)
  })

  it('takes an operationTimeout longer than setTimeout can wait (2^31 - 1 ms) without timing out early', async () => {
    const client = silentNodeRedis()
    const store = new RedisStore({ client, operationTimeout: 3_000_000 })
    const warnings: Error[] = []
    const onWarning = (w: Error) => warnings.push(w)
    process.on('warning', onWarning)
    try {
      let settled = false
      const pending = store.get('longsession0000001').finally(() => (settled = true))
      await sleep(50)
      expect(settled).toBe(false)
      client.sent[0]!.answer(null)
      await expect(pending).resolves.toBeUndefined()
      expect(warnings.filter((w) => w.name === 'TimeoutOverflowWarning')).toEqual([])
    } finally {
      process.off('warning', onWarning)
    }
  })

  it('falls back to EVAL on NOSCRIPT within the same deadline', async () => {
    const client = silentNodeRedis()
    const store = new RedisStore({ client, operationTimeout: 1 })
    const touched = store.touch('noscriptsession001', hour())
    client.sent[0]!.fail(new Error('NOSCRIPT No matching script. Please use EVAL.'))
    await sleep(0)
    expect(client.sent[1]!.args[0]).toBe('EVAL')
    expect(client.sent[1]!.args.slice(2)).toEqual(client.sent[0]!.args.slice(2))
    client.sent[1]!.answer('')
    await expect(touched).resolves.toBeUndefined()
  })
})

describe('RedisStore: a write that timed out never lands later (node-redis, Redis down)', () => {
  let server: RedisServer
  beforeAll(async () => {
    server = await startRedis()
  }, 60_000)
  afterAll(async () => {
    await server?.stop()
  }, 60_000)

  it('drops the queued set, patch, touch and destroy at their deadline; none happens after the restart', async () => {
    const client = createClient({ url: server.url })
    client.on('error', () => {}) // node-redis throws on an unhandled 'error' event
    await client.connect()
    const prefix = uniquePrefix('late')
    const store = new RedisStore({ client, prefix, operationTimeout: 0.5 })
    try {
      const now = Date.now()
      const expiresAt = now + 3_600_000
      await store.set('patchedsession0001', { data: { a: 1 }, createdAt: now, expiresAt, userId: 'ada' })
      await store.set('touchedsession0001', { data: { b: 1 }, createdAt: now, expiresAt })
      await store.set('destroyedsession01', { data: { c: 1 }, createdAt: now, expiresAt })

      await server.kill()
      // Until the client sees the socket close, a command is written to the dead socket and fails at once.
      while (client.isReady) await sleep(5)
      const results: Promise<unknown>[] = []
      const timed = (work: Promise<unknown>) => {
        const start = performance.now()
        results.push(
          work.then(
            () => 'resolved',
            (error: Error) => ({ message: error.message, ms: performance.now() - start }),
          ),
        )
      }
      // Staggered, so the calls fall into different signal groups.
      timed(store.patch('patchedsession0001', { set: { late: 'x' }, unset: ['a'] }, expiresAt + 1000))
      await sleep(5)
      timed(store.set('createdsession0001', { data: { d: 1 }, createdAt: now, expiresAt, userId: 'ada' }))
      await sleep(40)
      timed(store.touch('touchedsession0001', expiresAt + 60_000))
      await sleep(100)
      timed(store.destroy('destroyedsession01'))
      for (const result of await Promise.all(results)) {
        expect(result).toMatchObject({ message: expect.stringMatching(/timed out/) })
        expect((result as { ms: number }).ms).toBeGreaterThanOrEqual(500 - 25)
        expect((result as { ms: number }).ms).toBeLessThan(1500)
      }

      await server.start()
      const deadline = Date.now() + 20_000
      for (;;) {
        try {
          if (await store.get('patchedsession0001')) break
        } catch {
          // not reconnected yet
        }
        if (Date.now() > deadline) throw new Error('node-redis did not reconnect')
        await sleep(100)
      }
      await sleep(300) // anything left in the client's queue would have been sent by now

      expect((await store.get('patchedsession0001'))?.data).toEqual({ a: 1 })
      expect(await store.get('createdsession0001')).toBeUndefined()
      expect((await store.get('touchedsession0001'))?.expiresAt).toBe(expiresAt)
      expect((await store.get('destroyedsession01'))?.data).toEqual({ c: 1 })
      expect((await store.listUser('ada')).map((s) => s.id)).toEqual(['patchedsession0001'])
    } finally {
      client.destroy()
    }
  }, 60_000)
})

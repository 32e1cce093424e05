// MemoryStore: the conformance suite, the sweep, the size bound, the unref'd timer, and how the
// core's change tracking and patching behave on top of it.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createSessions } from '../../src/index.js'
import { csrfToken } from '../../src/csrf.js'
import type { SessionRecord } from '../../src/core/types.js'
import { MemoryStore } from '../../src/stores/memory-store.js'
import { testSessionStore } from '../../src/testing/conformance.js'
import { barrier } from '../barrier.js'
import { Jar, serve, type Running } from '../helpers.js'
import { sleep, spiedStore, webRequest, webRound, type AnyData, nodeReq } from './support.js'

testSessionStore('MemoryStore', () => new MemoryStore(), { describe, it, capabilities: ['touch', 'patch', 'update', 'rotate', 'userIndex'] })

const running: Running[] = []
const stores: MemoryStore[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()))
  for (const store of stores.splice(0)) store.clear()
})

function record(data: AnyData, lifetimeMs: number): SessionRecord {
  const now = Date.now()
  return { data, createdAt: now, expiresAt: now + lifetimeMs }
}

const refTimeouts = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length

describe('MemoryStore on its own', () => {
  it('stores copies exactly as structuredClone would, on its fast path and off it', async () => {
    const store = new MemoryStore()
    stores.push(store)
    const shared = { n: 1 }
    const cyclic: AnyData = { name: 'loop' }
    cyclic.self = cyclic
    const decorated = Object.assign([1, 2], { extra: 'kept' })
    const values: Record<string, any> = {
      plain: { a: [1, 'two', null, true, { deep: [{}] }] },
      date: new Date('2030-01-01T00:00:00Z'),
      map: new Map([['k', { v: 1 }]]),
      shared: [shared, shared],
      cyclic,
      decorated,
      holes: [1, , 3], // eslint-disable-line no-sparse-arrays
      wide: Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`k${i}`, i])),
    }
    Object.defineProperty(values, '__proto__', { value: { polluted: true }, enumerable: true, configurable: true, writable: true })
    await store.set('copy-semantics-aaaaaaaaaa', record(values, 60_000))
    const stored = (await store.get('copy-semantics-aaaaaaaaaa'))!.data as Record<string, any>
    expect(stored).toEqual(structuredClone(values))
    expect(stored.date).toBeInstanceOf(Date)
    expect(stored.map).toBeInstanceOf(Map)
    expect(stored.shared[0]).toBe(stored.shared[1]) // still one object
    expect(stored.cyclic.self).toBe(stored.cyclic)
    expect(stored.decorated.extra).toBe('kept')
    expect(1 in stored.holes).toBe(false)
    expect(Object.getPrototypeOf(stored)).toBe(Object.prototype) // an own __proto__ key never swaps the prototype
    expect(({} as AnyData).polluted).toBeUndefined()

    // A copy in, a copy out: neither the caller's object nor the returned one reaches the store's.
    values.plain.a[4].deep.push('later')
    stored.plain.a.push('mutated')
    expect((await store.get('copy-semantics-aaaaaaaaaa'))!.data.plain).toEqual({ a: [1, 'two', null, true, { deep: [{}] }] })

    // MemoryStore answers synchronously; the message differs between runtimes, the name does not.
    expect(() => store.set('copy-function-aaaaaaaaaaa', record({ f: () => 1 }, 60_000))).toThrow(expect.objectContaining({ name: 'DataCloneError' }))
  })

  it('frees expired sessions on its sweep timer, without any request', async () => {
    const store = new MemoryStore({ sweepInterval: 0.2 })
    stores.push(store)
    await store.set('short-lived-aaaaaaaaaaaa-1', record({ a: 1 }, 100))
    await store.set('short-lived-aaaaaaaaaaaa-2', record({ a: 2 }, 100))
    await store.set('short-lived-aaaaaaaaaaaa-3', record({ a: 3 }, 100))
    await store.set('long-lived-aaaaaaaaaaaaa-1', record({ b: 1 }, 60_000))
    expect(store.size).toBe(4)
    await sleep(700) // expiry at 100 ms, sweeps every 200 ms
    expect(store.size).toBe(1) // nobody called get(): only the sweep could free them
    expect(await store.get('long-lived-aaaaaaaaaaaaa-1')).toBeDefined()
  })

  it('bounds the number of sessions with maxSessions, dropping the least recently used', async () => {
    const store = new MemoryStore({ maxSessions: 3 })
    stores.push(store)
    for (const id of ['a', 'b', 'c']) await store.set(`bounded-${id}-aaaaaaaaaaaaaaaa`, record({ id }, 60_000))
    await store.set('bounded-a-aaaaaaaaaaaaaaaa', record({ id: 'a2' }, 60_000)) // rewritten: now the newest
    await store.set('bounded-d-aaaaaaaaaaaaaaaa', record({ id: 'd' }, 60_000))
    await store.set('bounded-e-aaaaaaaaaaaaaaaa', record({ id: 'e' }, 60_000))
    expect(store.size).toBe(3)
    expect(await store.get('bounded-b-aaaaaaaaaaaaaaaa')).toBeUndefined()
    expect(await store.get('bounded-c-aaaaaaaaaaaaaaaa')).toBeUndefined()
    expect((await store.get('bounded-a-aaaaaaaaaaaaaaaa'))?.data).toEqual({ id: 'a2' })
    expect((await store.get('bounded-d-aaaaaaaaaaaaaaaa'))?.data).toEqual({ id: 'd' })
    expect((await store.get('bounded-e-aaaaaaaaaaaaaaaa'))?.data).toEqual({ id: 'e' })
  })

  it('keeps maxSessions through the core: many new sessions never grow the store past it', async () => {
    const store = new MemoryStore({ maxSessions: 5 })
    stores.push(store)
    const sessions = createSessions<AnyData>({ store })
    for (let i = 0; i < 20; i++) await webRound(sessions, new Jar(), (s) => void (s.data.i = i))
    expect(store.size).toBe(5)
  })

  it('review 6: 1,000 cookie-less requests that mint a CSRF token do not evict a logged-in user who keeps reading', async () => {
    const store = new MemoryStore({ maxSessions: 1000 })
    stores.push(store)
    const sessions = createSessions<AnyData>({ store })
    const user = new Jar()
    await webRound(sessions, user, async (s) => {
      await s.regenerate()
      s.bindUser('alice')
      s.data.name = 'Alice'
    })
    // A second user, logged in, who then goes quiet: the least recently used bound session.
    await webRound(sessions, new Jar(), (s) => s.bindUser('bob'))
    for (let i = 0; i < 1000; i++) {
      await webRound(sessions, new Jar(), (s) => void csrfToken(s)) // each one a new anonymous session
      if (i % 100 === 0) await webRound(sessions, user, (s) => s.data.name) // Alice keeps reading (no write)
    }
    expect(store.size).toBe(1000)
    const alice = await webRound(sessions, user, (s) => s.data.name)
    expect(alice.session.isNew).toBe(false)
    expect(alice.result).toBe('Alice')
    expect(store.listUser('bob')).toHaveLength(1) // anonymous ones went first, even though Bob is older
  })

  it('review 6: evicts by last use, reads included: a session read since its write outlives those written after it', () => {
    const store = new MemoryStore({ maxSessions: 3 })
    stores.push(store)
    store.set('lru-a-aaaaaaaaaaaaaaaaaaaa', record({ id: 'a' }, 60_000))
    store.set('lru-b-aaaaaaaaaaaaaaaaaaaa', record({ id: 'b' }, 60_000))
    store.set('lru-c-aaaaaaaaaaaaaaaaaaaa', record({ id: 'c' }, 60_000))
    expect(store.get('lru-a-aaaaaaaaaaaaaaaaaaaa')).toBeDefined() // a used: b is now the least recently used
    store.touch('lru-b-aaaaaaaaaaaaaaaaaaaa', Date.now() + 60_000) // a touch is a use too: c is now the least recent
    store.set('lru-d-aaaaaaaaaaaaaaaaaaaa', record({ id: 'd' }, 60_000))
    expect(store.size).toBe(3)
    expect(store.get('lru-c-aaaaaaaaaaaaaaaaaaaa')).toBeUndefined()
    for (const id of ['a', 'b', 'd']) expect(store.get(`lru-${id}-aaaaaaaaaaaaaaaaaaaa`)?.data).toEqual({ id })
  })

  it('review 6: evicts sessions with no user before bound ones, but never the session just written', () => {
    const store = new MemoryStore({ maxSessions: 3 })
    stores.push(store)
    store.set('bound-1-aaaaaaaaaaaaaaaaaa', { ...record({}, 60_000), userId: 'u1' })
    store.set('anon-1-aaaaaaaaaaaaaaaaaaa', record({}, 60_000))
    store.set('bound-2-aaaaaaaaaaaaaaaaaa', { ...record({}, 60_000), userId: 'u2' })
    store.set('anon-2-aaaaaaaaaaaaaaaaaaa', record({}, 60_000)) // full: the anonymous one goes, not bound-1 (older)
    expect(store.get('anon-1-aaaaaaaaaaaaaaaaaaa')).toBeUndefined()
    expect(store.get('bound-1-aaaaaaaaaaaaaaaaaa')?.userId).toBe('u1')
    store.set('bound-3-aaaaaaaaaaaaaaaaaa', { ...record({}, 60_000), userId: 'u3' }) // again the anonymous one
    expect(store.get('anon-2-aaaaaaaaaaaaaaaaaaa')).toBeUndefined()
    // Only bound sessions left: a new anonymous one stays, the least recently used bound one goes.
    store.set('anon-3-aaaaaaaaaaaaaaaaaaa', record({}, 60_000))
    expect(store.size).toBe(3)
    expect(store.get('anon-3-aaaaaaaaaaaaaaaaaaa')).toBeDefined()
    expect(store.get('bound-2-aaaaaaaaaaaaaaaaaa')).toBeUndefined() // bound-1 was read since, bound-2 was not
    expect(store.listUser('u1')).toHaveLength(1)
    expect(store.listUser('u3')).toHaveLength(1)
    // A session that becomes bound moves to the bound ones (and is used: the newest).
    store.set('anon-3-aaaaaaaaaaaaaaaaaaa', { ...record({}, 60_000), userId: 'u4' })
    store.set('anon-4-aaaaaaaaaaaaaaaaaaa', record({}, 60_000))
    expect(store.get('anon-3-aaaaaaaaaaaaaaaaaaa')?.userId).toBe('u4')
    expect(store.get('anon-4-aaaaaaaaaaaaaaaaaaa')).toBeDefined()
    expect(store.size).toBe(3)
  })

  it('review 13: refuses a sweepInterval setTimeout cannot wait (above 2,147,483 s), naming the option and the maximum', async () => {
    for (const sweepInterval of [3_000_000, 2_147_484, Infinity]) {
      expect(() => new MemoryStore({ sweepInterval })).toThrow(TypeError)
      expect(() => new MemoryStore({ sweepInterval })).toThrow(/sweepInterval.*2,?147,?483/)
    }
    const longest = new MemoryStore({ sweepInterval: 2_147_483 })
    stores.push(longest)
    const warnings: string[] = []
    const onWarning = (warning: Error) => warnings.push(warning.name)
    process.on('warning', onWarning)
    try {
      longest.set('long-sweep-aaaaaaaaaaaaaa', record({ a: 1 }, 60_000)) // arms the timer
      await new Promise((resolve) => setImmediate(resolve)) // a warning is emitted on the next tick
    } finally {
      process.off('warning', onWarning)
    }
    expect(warnings).toEqual([])
    expect(longest.size).toBe(1)
  })

  it('keeps every time exact across the daily re-basing of its sweep, far-off times included, and still frees the expired', () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      const day = 24 * 3600 * 1000
      const t0 = Date.UTC(2030, 0, 1, 12, 0, 0, 123)
      vi.setSystemTime(t0)
      const store = new MemoryStore()
      stores.push(store)
      const old: SessionRecord = { data: { a: 1 }, createdAt: t0 - 40 * day - 7, expiresAt: t0 + 30 * day + 1, userId: 'u1' } // beyond 2^31 ms both ways
      const usual: SessionRecord = { data: { b: 2 }, createdAt: t0 - 5, expiresAt: t0 + 3 * day + 9 }
      store.set('rebase-old-aaaaaaaaaaaaaaa', old)
      store.set('rebase-usual-aaaaaaaaaaaaa', usual)
      vi.setSystemTime(t0 + 2 * day + 17)
      store.sweep() // the epoch is 2 days old: moves to now, offsets with it
      expect(store.get('rebase-old-aaaaaaaaaaaaaaa')).toEqual(old)
      expect(store.get('rebase-usual-aaaaaaaaaaaaa')).toEqual(usual)
      store.touch('rebase-usual-aaaaaaaaaaaaa', t0 + 3 * day + 10)
      expect(store.listUser('u1')).toEqual([{ id: 'rebase-old-aaaaaaaaaaaaaaa', createdAt: new Date(old.createdAt), expiresAt: new Date(old.expiresAt) }])
      vi.setSystemTime(t0 + 3 * day + 10) // the usual one's expiry
      store.sweep()
      expect(store.size).toBe(1)
      expect(store.get('rebase-usual-aaaaaaaaaaaaa')).toBeUndefined()
      expect(store.get('rebase-old-aaaaaaaaaaaaaaa')).toEqual(old)
    } finally {
      vi.useRealTimers()
    }
  })

  it('sweeps on a timer that does not keep the process alive (unref’d)', async () => {
    // The measure works: a ref'd interval shows up as an active Timeout...
    const base = refTimeouts()
    const control = setInterval(() => {}, 60_000)
    expect(refTimeouts()).toBe(base + 1)
    clearInterval(control)
    expect(refTimeouts()).toBe(base)

    // ...and the store's sweep timer, started synchronously by its first set(), does not.
    const store = new MemoryStore({ sweepInterval: 0.05 })
    stores.push(store)
    const before = refTimeouts()
    const written = store.set('unref-check-aaaaaaaaaaaaa', record({ a: 1 }, 30))
    expect(refTimeouts()).toBe(before)
    await written
    await sleep(150) // the timer ran: it swept the record (and stopped, the store being empty)
    expect(store.size).toBe(0)

    // Re-armed by the next set(), it is unref'd again.
    const again = refTimeouts()
    const rewritten = store.set('unref-check-bbbbbbbbbbbbb', record({ a: 2 }, 60_000))
    expect(refTimeouts()).toBe(again)
    await rewritten
  })
})

describe('change tracking on top of MemoryStore', () => {
  function setup() {
    const spied = spiedStore()
    stores.push(spied.store)
    const sessions = createSessions<AnyData>({ store: spied.store })
    const jar = new Jar()
    const stored = async () => (await spied.store.get(jar.cookies.get('sid')!))?.data
    return { spied, sessions, jar, stored }
  }

  it('detects and persists deep mutations of nested objects and arrays', async () => {
    const { spied, sessions, jar, stored } = setup()
    type Cart = { items: { sku: string; qty: number }[]; meta: { count: number; tags?: string[] } }
    const cart = (s: { data: AnyData }) => s.data.cart as Cart
    await webRound(sessions, jar, (s) => void (s.data.cart = { items: [], meta: { count: 0 } }))

    spied.reset()
    await webRound(sessions, jar, (s) => void cart(s).items.push({ sku: 'apple', qty: 1 }))
    expect(spied.patch).toHaveBeenCalledTimes(1)
    expect(Object.keys(spied.patch.mock.calls[0]![1].set)).toEqual(['cart'])
    expect(await stored()).toEqual({ cart: { items: [{ sku: 'apple', qty: 1 }], meta: { count: 0 } } })

    await webRound(sessions, jar, (s) => {
      cart(s).items[0]!.qty = 3
      cart(s).meta.count++
      cart(s).meta.tags = ['fruit']
    })
    expect(await stored()).toEqual({ cart: { items: [{ sku: 'apple', qty: 3 }], meta: { count: 1, tags: ['fruit'] } } })

    await webRound(sessions, jar, (s) => {
      cart(s).meta.tags!.push('red')
      delete (cart(s).meta as Partial<Cart['meta']>).count
      cart(s).items.unshift({ sku: 'pear', qty: 1 })
    })
    expect(await stored()).toEqual({ cart: { items: [{ sku: 'pear', qty: 1 }, { sku: 'apple', qty: 3 }], meta: { tags: ['fruit', 'red'] } } })

    await webRound(sessions, jar, (s) => {
      cart(s).items.splice(0, 1)
      cart(s).items.sort((a, b) => a.sku.localeCompare(b.sku))
    })
    expect(await stored()).toEqual({ cart: { items: [{ sku: 'apple', qty: 3 }], meta: { tags: ['fruit', 'red'] } } })

    await webRound(sessions, jar, (s) => void (cart(s).items.length = 0))
    expect(await stored()).toEqual({ cart: { items: [], meta: { tags: ['fruit', 'red'] } } })

    // Reading deep values is not a change.
    spied.reset()
    await webRound(sessions, jar, (s) => {
      void cart(s).meta.tags![0]
      void cart(s).items.map((item) => item.sku)
      void JSON.stringify(s.data)
    })
    expect(spied.writes()).toBe(0)
  })

  it('persists new arrays and objects built from values read out of session.data', async () => {
    const { sessions, jar, stored } = setup()
    type Item = { sku: string }
    await webRound(sessions, jar, (s) => void (s.data.items = [{ sku: 'apple' }]))
    // The everyday immutable-update style: the new array holds objects read from session.data.
    const round = await webRound(sessions, jar, (s) => {
      s.data.items = [...(s.data.items as Item[]), { sku: 'pear' }]
      s.data.copy = { first: (s.data.items as Item[])[0] }
      s.data.filtered = (s.data.items as Item[]).filter((item) => item.sku === 'apple')
    })
    expect(round.committed).toEqual([])
    expect(await stored()).toEqual({
      items: [{ sku: 'apple' }, { sku: 'pear' }],
      copy: { first: { sku: 'apple' } },
      filtered: [{ sku: 'apple' }],
    })
  })

  it('leaves all 20 keys when 20 concurrent requests of one session each set a different key (patch)', async () => {
    const { spied, sessions, jar, stored } = setup()
    const loaded = barrier(20)
    const server = await serve(async (req, res) => {
      const session = await sessions.get(nodeReq(req), res)
      const key = new URL(req.url!, 'http://x').searchParams.get('k')
      // Every request has loaded the session before any of them writes.
      if (key?.startsWith('k')) await loaded.arrive()
      if (key) session.data[key] = true
      res.end('ok')
    })
    running.push(server)
    await (await jar.fetch(`${server.url}/?k=seed`)).text()
    spied.reset()

    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => fetch(`${server.url}/?k=k${i}`, { headers: { cookie: jar.header } }).then((r) => r.text())),
    )
    expect(responses).toEqual(Array(20).fill('ok'))
    expect(spied.get).toHaveBeenCalledTimes(20)
    expect(spied.patch).toHaveBeenCalledTimes(20)
    expect(spied.set).not.toHaveBeenCalled()
    const data = (await stored())!
    expect(Object.keys(data).sort()).toEqual(['seed', ...Array.from({ length: 20 }, (_, i) => `k${i}`)].sort())

    const session = await sessions.get(webRequest(jar))
    expect(Object.keys(session.data)).toHaveLength(21)
  })
})

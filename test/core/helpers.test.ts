// sessions.read / merge / replace / pluck / destroy on every kind of context, the per-user index,
// hashed store keys, and the read-only cookie store of a Next.js server component.
import { createHash } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { SessionContext } from '../../src/core/frameworks.js'
import { SessionError } from '../../src/core/errors.js'
import { createSessions } from '../../src/index.js'
import { MemoryStore } from '../../src/stores/memory-store.js'
import { Jar, serve, type Running } from '../helpers.js'
import { FakeCookieStore, named, nodeReq, spiedStore, webRequest, webRound, type AnyData } from './support.js'

/** One request of a given kind, carrying the jar's cookies and handing what it set back to the jar. */
interface Driver {
  request<T>(jar: Jar, body: (ctx: SessionContext) => Promise<T>): Promise<{ result: T; setCookies: string[] }>
  close(): Promise<void>
}

function nodeDriver(): Driver {
  let server: Running | undefined
  let body: ((ctx: SessionContext) => Promise<unknown>) | undefined
  let result: unknown
  return {
    async request(jar, fn) {
      server ??= await serve(async (req, res) => {
        result = await body!({ req: nodeReq(req), res })
        if (!res.writableEnded) res.end('ok')
      })
      body = fn
      const response = await jar.fetch(server.url)
      const text = await response.text()
      if (response.status !== 200) throw new Error(`server answered ${response.status}: ${text}`)
      return { result: result as never, setCookies: response.headers.getSetCookie() }
    },
    close: async () => server?.close(),
  }
}

function webDriver(): Driver {
  return {
    async request(jar, fn) {
      const response = new Response('ok')
      const result = await fn({ request: webRequest(jar), response })
      const setCookies = response.headers.getSetCookie()
      jar.take(setCookies)
      return { result, setCookies }
    },
    close: async () => {},
  }
}

function cookieStoreDriver(): Driver {
  return {
    async request(jar, fn) {
      const cookies = new FakeCookieStore(jar.cookies)
      const result = await fn(cookies)
      const setCookies = cookies.writes.map(({ name, value, options }) => `${name}=${value}${options?.maxAge === 0 ? '; Max-Age=0' : ''}`)
      jar.take(setCookies)
      return { result, setCookies }
    },
    close: async () => {},
  }
}

const drivers: [string, () => Driver][] = [
  ['node:http { req, res }', nodeDriver],
  ['a Web { request, response } pair', webDriver],
  ['a Next.js-style cookie store', cookieStoreDriver],
]

describe.each(drivers)('the helpers with %s', (_, makeDriver) => {
  let driver: Driver
  let spied: ReturnType<typeof spiedStore>
  let sessions: ReturnType<typeof createSessions<AnyData>>
  beforeEach(() => {
    driver = makeDriver()
    spied = spiedStore()
    sessions = createSessions<AnyData>({ store: spied.store })
  })
  afterEach(async () => {
    await driver.close()
  })

  /** A jar holding a stored session with `data`. */
  async function seeded(data: AnyData): Promise<{ jar: Jar; id: string }> {
    const jar = new Jar()
    const { session } = await webRound(sessions, jar, (s) => void Object.assign(s.data, data))
    spied.reset()
    return { jar, id: session.id }
  }

  it('read() returns undefined when there is no session, creates nothing and sets no cookie', async () => {
    const jar = new Jar()
    const { result, setCookies } = await driver.request(jar, (ctx) => sessions.read(ctx))
    expect(result).toBeUndefined()
    expect(setCookies).toEqual([])
    expect(spied.store.size).toBe(0)
    expect(spied.writes()).toBe(0)
  })

  it('read() returns the data of the request’s session and writes nothing', async () => {
    const { jar } = await seeded({ user: 'ada', prefs: { theme: 'dark' } })
    const { result, setCookies } = await driver.request(jar, (ctx) => sessions.read(ctx))
    expect(result).toEqual({ user: 'ada', prefs: { theme: 'dark' } })
    expect(setCookies).toEqual([])
    expect(spied.writes()).toBe(0)
  })

  it('merge() shallow-merges into the session and commits it', async () => {
    const { jar, id } = await seeded({ a: 1, nested: { x: 1 } })
    const { result } = await driver.request(jar, async (ctx) => ({ ...(await sessions.merge(ctx, { nested: { y: 2 }, b: 2 })) }))
    const expected = { a: 1, nested: { y: 2 }, b: 2 }
    expect(result).toEqual(expected)
    expect((await spied.store.get(id))?.data).toEqual(expected)
    const { result: again } = await driver.request(jar, (ctx) => sessions.read(ctx))
    expect(again).toEqual(expected)
  })

  it('merge() on a request without a session creates one and sets its cookie', async () => {
    const jar = new Jar()
    const { setCookies } = await driver.request(jar, (ctx) => sessions.merge(ctx, { cart: ['apple'] }))
    expect(named(setCookies)).toHaveLength(1)
    expect(spied.store.size).toBe(1)
    const { result } = await driver.request(jar, (ctx) => sessions.read(ctx))
    expect(result).toEqual({ cart: ['apple'] })
  })

  it('replace() swaps all the data and commits it', async () => {
    const { jar, id } = await seeded({ a: 1, b: 2 })
    const { result } = await driver.request(jar, async (ctx) => ({ ...(await sessions.replace(ctx, { c: 3 })) }))
    expect(result).toEqual({ c: 3 })
    expect((await spied.store.get(id))?.data).toEqual({ c: 3 })
  })

  it('pluck() returns the value, removes it and commits the removal', async () => {
    const { jar, id } = await seeded({ flash: 'Saved!', keep: 1 })
    const first = await driver.request(jar, (ctx) => sessions.pluck(ctx, 'flash'))
    expect(first.result).toBe('Saved!')
    expect((await spied.store.get(id))?.data).toEqual({ keep: 1 })
    const second = await driver.request(jar, (ctx) => sessions.pluck(ctx, 'flash'))
    expect(second.result).toBeUndefined()
    expect((await spied.store.get(id))?.data).toEqual({ keep: 1 })
  })

  it('pluck() of a missing key on a request without a session creates nothing', async () => {
    const jar = new Jar()
    const { result, setCookies } = await driver.request(jar, (ctx) => sessions.pluck(ctx, 'flash'))
    expect(result).toBeUndefined()
    expect(setCookies).toEqual([])
    expect(spied.store.size).toBe(0)
  })

  it('destroy() removes the session from the store and expires its cookie', async () => {
    const { jar, id } = await seeded({ user: 'ada' })
    const { setCookies } = await driver.request(jar, (ctx) => sessions.destroy(ctx))
    expect(named(setCookies)).toHaveLength(1)
    expect(named(setCookies)[0]).toMatch(/Max-Age=0/)
    expect(await spied.store.get(id)).toBeUndefined()
    expect(jar.cookies.has('sid')).toBe(false)
    const { result } = await driver.request(jar, (ctx) => sessions.read(ctx))
    expect(result).toBeUndefined()
  })
})

describe('one session per request', () => {
  it('read(), get() and the helpers on the same request share one Session and one store read', async () => {
    const spied = spiedStore()
    const sessions = createSessions<AnyData>({ store: spied.store })
    const jar = new Jar()
    await webRound(sessions, jar, (s) => void (s.data.a = 1))
    spied.reset()
    const request = webRequest(jar)
    const response = new Response()
    expect(await sessions.read(request)).toEqual({ a: 1 })
    const first = await sessions.get(request, response)
    const second = await sessions.get({ request, response })
    expect(second).toBe(first)
    await sessions.merge({ request, response }, { b: 2 })
    expect(first.data).toEqual({ a: 1, b: 2 })
    expect(spied.get).toHaveBeenCalledTimes(1)
  })
})

describe('the cookie store context', () => {
  it('sets the cookie with the session attributes through cookies().set()', async () => {
    const sessions = createSessions<AnyData>({ store: new MemoryStore(), ttl: 600 })
    const cookies = new FakeCookieStore()
    const session = await sessions.get(cookies)
    session.data.a = 1
    const committed = await session.commit()
    expect(committed).toHaveLength(1)
    expect(cookies.writes).toHaveLength(1)
    expect(cookies.writes[0]).toMatchObject({ name: 'sid', value: session.id, options: { maxAge: 600, path: '/', httpOnly: true, sameSite: 'lax' } })
  })

  describe('when read-only, as in a server component', () => {
    async function seededStore() {
      const spied = spiedStore()
      const sessions = createSessions<AnyData>({ store: spied.store })
      const writable = new FakeCookieStore()
      await sessions.merge(writable, { user: 'ada' })
      spied.reset()
      const readOnly = () => new FakeCookieStore(writable.pairs(), 'server-component')
      return { spied, sessions, readOnly, writable }
    }

    it('reads the session', async () => {
      const { spied, sessions, readOnly } = await seededStore()
      const session = await sessions.get(readOnly())
      expect(session.isNew).toBe(false)
      expect(session.data.user).toBe('ada')
      expect(await session.commit()).toEqual([])
      expect(await sessions.read(readOnly())).toEqual({ user: 'ada' })
      expect(spied.writes()).toBe(0)
    })

    it('rejects a write at commit with SessionError READ_ONLY pointing to Server Actions and Route Handlers, and writes nothing', async () => {
      const { spied, sessions, readOnly } = await seededStore()
      const session = await sessions.get(readOnly())
      session.data.user = 'eve'
      let caught: unknown
      try {
        await session.commit()
      } catch (error) {
        caught = error
      }
      expect(caught).toBeInstanceOf(SessionError)
      expect((caught as SessionError).code).toBe('READ_ONLY')
      expect((caught as Error).message).toMatch(/Server Action|Route Handler/)
      expect(spied.writes()).toBe(0)
      expect((await spied.store.get(session.id))?.data).toEqual({ user: 'ada' })

      await expect(sessions.merge(readOnly(), { user: 'mallory' })).rejects.toMatchObject({ code: 'READ_ONLY' })
      await expect(sessions.replace(readOnly(), { user: 'mallory' })).rejects.toMatchObject({ code: 'READ_ONLY' })
      await expect(sessions.pluck(readOnly(), 'user')).rejects.toMatchObject({ code: 'READ_ONLY' })
      await expect(sessions.destroy(readOnly())).rejects.toMatchObject({ code: 'READ_ONLY' })
      expect(spied.writes()).toBe(0)
      expect((await spied.store.get(session.id))?.data).toEqual({ user: 'ada' })
    })

    it('rejects creating a session with READ_ONLY and stores nothing', async () => {
      for (const mode of ['server-component', 'read-only-unrecognised'] as const) {
        const spied = spiedStore()
        const sessions = createSessions<AnyData>({ store: spied.store })
        const session = await sessions.get(new FakeCookieStore([], mode))
        session.data.cart = ['apple']
        await expect(session.commit(), mode).rejects.toMatchObject({ code: 'READ_ONLY' })
        expect(spied.store.size, mode).toBe(0)
        expect(spied.writes(), mode).toBe(0)
      }
    })

    it('lets a due touch pass silently (nothing written, no error), and the touch still happens in the next writable context', async () => {
      vi.useFakeTimers({ toFake: ['Date'] })
      try {
        const start = Date.now()
        const spied = spiedStore()
        const sessions = createSessions<AnyData>({ store: spied.store, ttl: 60, touchAfter: 10 })
        const writable = new FakeCookieStore()
        await sessions.merge(writable, { user: 'ada' })
        spied.reset()
        vi.setSystemTime(start + 11_000)
        const session = await sessions.get(new FakeCookieStore(writable.pairs(), 'server-component'))
        expect(session.data.user).toBe('ada')
        expect(await session.commit()).toEqual([])
        expect(spied.writes()).toBe(0)

        const action = new FakeCookieStore(writable.pairs())
        const later = await sessions.get(action)
        expect(await later.commit()).toHaveLength(1)
        expect(spied.touch).toHaveBeenCalledTimes(1)
        expect(action.writes).toHaveLength(1)
      } finally {
        vi.useRealTimers()
      }
    })
  })
})

describe('listUser and revokeUser with MemoryStore', () => {
  it('lists the sessions bound to a user and revokes all but the excepted one', async () => {
    const store = new MemoryStore()
    const sessions = createSessions<AnyData>({ store })
    const login = async (user: string | number) => {
      const jar = new Jar()
      const { session } = await webRound(sessions, jar, (s) => {
        s.data.device = Math.random()
        s.bindUser(user)
      })
      expect(session.userId).toBe(String(user))
      return { jar, id: session.id }
    }
    const [a, b, c] = [await login('u1'), await login('u1'), await login('u1')]
    const other = await login('u2')
    const numeric = await login(7)

    const listed = await sessions.listUser('u1')
    expect(listed.map((s) => s.id).sort()).toEqual([a.id, b.id, c.id].sort())
    for (const summary of listed) {
      expect(summary.createdAt).toBeInstanceOf(Date)
      expect(summary.expiresAt).toBeInstanceOf(Date)
      expect(summary.expiresAt.getTime()).toBeGreaterThan(Date.now())
    }
    expect((await sessions.listUser(7)).map((s) => s.id)).toEqual([numeric.id])
    expect((await sessions.listUser('7')).map((s) => s.id)).toEqual([numeric.id])

    expect(await sessions.revokeUser('u1', { except: b.id })).toBe(2)
    expect((await sessions.get(webRequest(a.jar))).isNew).toBe(true)
    expect((await sessions.get(webRequest(c.jar))).isNew).toBe(true)
    expect((await sessions.get(webRequest(b.jar))).isNew).toBe(false)
    expect((await sessions.get(webRequest(other.jar))).isNew).toBe(false)
    expect((await sessions.listUser('u1')).map((s) => s.id)).toEqual([b.id])

    expect(await sessions.revokeUser('u2')).toBe(1)
    expect(await sessions.listUser('u2')).toEqual([])
  })
})

describe('hashIds', () => {
  const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url')

  it('keys the store by the SHA-256 of the id, so no live id is in the store', async () => {
    const spied = spiedStore()
    const sessions = createSessions<AnyData>({ store: spied.store, hashIds: true })
    const users: { jar: Jar; id: string }[] = []
    for (let i = 0; i < 3; i++) {
      const jar = new Jar()
      const { session } = await webRound(sessions, jar, (s) => {
        s.data.n = i
        s.bindUser('u1')
      })
      users.push({ jar, id: session.id })
      expect(jar.cookies.get('sid')).toBe(session.id) // the cookie carries the live id
    }
    const keys = spied.set.mock.calls.map(([key]) => key)
    expect(keys).toEqual(users.map(({ id }) => sha256(id)))
    for (const { id } of users) {
      expect(keys).not.toContain(id)
      expect(await spied.store.get(id)).toBeUndefined()
    }
    const listed = (await sessions.listUser('u1')).map((s) => s.id).sort()
    expect(listed).toEqual(users.map(({ id }) => sha256(id)).sort())
    for (const { id } of users) expect(listed).not.toContain(id)

    // The sessions still load through their cookies, and revokeUser takes the live id as `except`.
    const loaded = await sessions.get(webRequest(users[1]!.jar))
    expect(loaded.isNew).toBe(false)
    expect(loaded.id).toBe(users[1]!.id)
    expect(loaded.data.n).toBe(1)
    expect(await sessions.revokeUser('u1', { except: users[1]!.id })).toBe(2)
    expect((await sessions.get(webRequest(users[0]!.jar))).isNew).toBe(true)
    expect((await sessions.get(webRequest(users[1]!.jar))).isNew).toBe(false)
  })
})

// When Tessera sends a Set-Cookie, what it looks like, and when it stays silent.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createSessions, type Sessions } from '../../src/index.js'
import type { SessionsOptions } from '../../src/core/options.js'
import type { Session } from '../../src/core/session.js'
import { SessionError } from '../../src/core/errors.js'
import { MemoryStore } from '../../src/stores/memory-store.js'
import { Jar, serve, type Running } from '../helpers.js'
import { attributes, named, spiedStore, valueOf, webRequest, webRound, type AnyData, nodeReq } from './support.js'

const running: Running[] = []
afterEach(async () => {
  vi.useRealTimers()
  await Promise.all(running.splice(0).map((server) => server.close()))
})

type Body = (session: Session<AnyData>, req: IncomingMessage, res: ServerResponse) => unknown

/** A real node:http server: loads the session, runs `body`, ends the response unless `body` did. */
async function app(sessions: Sessions<AnyData>, body: Body): Promise<string> {
  const server = await serve(async (req, res) => {
    const session = await sessions.get(nodeReq(req), res)
    await body(session, req, res)
    if (!res.writableEnded) res.end('ok')
  })
  running.push(server)
  return server.url
}

const ID = /^[A-Za-z0-9_-]{43}$/

describe('a new session', () => {
  it('sends no Set-Cookie for an empty new session and stores nothing', async () => {
    const store = new MemoryStore()
    const sessions = createSessions<AnyData>({ store })
    let seen: Session<AnyData> | undefined
    const url = await app(sessions, (session) => {
      seen = session
      void session.data.views // reading is not writing
    })
    const jar = new Jar()
    const response = await jar.fetch(url)
    expect(response.status).toBe(200)
    expect(seen?.isNew).toBe(true)
    expect(response.headers.getSetCookie()).toEqual([])
    expect(response.headers.get('cache-control')).toBeNull()
    expect(store.size).toBe(0)
  })

  it('commit() of an empty new session on the Web path resolves to no cookies and stores nothing', async () => {
    const store = new MemoryStore()
    const sessions = createSessions<AnyData>({ store })
    const { committed, setCookies } = await webRound(sessions, new Jar(), () => undefined)
    expect(committed).toEqual([])
    expect(setCookies).toEqual([])
    expect(store.size).toBe(0)
  })

  it('sends exactly one HttpOnly; SameSite=Lax; Path=/ cookie with Max-Age = ttl and Cache-Control: no-store for a new session with data', async () => {
    const store = new MemoryStore()
    const sessions = createSessions<AnyData>({ store, ttl: 3600 })
    let id = ''
    const url = await app(sessions, (session) => {
      session.data.views = 1
      id = session.id
    })
    const response = await new Jar().fetch(url)
    const lines = response.headers.getSetCookie()
    expect(lines).toHaveLength(1)
    expect(named(lines)).toHaveLength(1)
    const line = lines[0]!
    expect(valueOf(line)).toBe(id)
    expect(valueOf(line)).toMatch(ID)
    const attrs = attributes(line)
    expect(attrs.get('httponly')).toBe('')
    expect(attrs.get('samesite')).toBe('Lax')
    expect(attrs.get('path')).toBe('/')
    expect(attrs.get('max-age')).toBe('3600')
    expect(attrs.has('expires')).toBe(true)
    expect(attrs.has('secure')).toBe(false) // plain HTTP, secure: 'auto', not production
    expect(line).toMatch(/; Path=\/; HttpOnly; SameSite=Lax$/)
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(store.size).toBe(1)
    expect((await store.get(id))?.data).toEqual({ views: 1 })
  })

  it('keeps a Cache-Control header the app set', async () => {
    const sessions = createSessions<AnyData>({ store: new MemoryStore() })
    const url = await app(sessions, (session, _req, res) => {
      res.setHeader('Cache-Control', 'private, max-age=5')
      session.data.a = 1
    })
    const response = await new Jar().fetch(url)
    expect(named(response.headers.getSetCookie())).toHaveLength(1)
    expect(response.headers.get('cache-control')).toBe('private, max-age=5')
  })

  it('keeps the other Set-Cookie headers the app set (node:http)', async () => {
    const sessions = createSessions<AnyData>({ store: new MemoryStore() })
    const url = await app(sessions, (session, _req, res) => {
      res.setHeader('Set-Cookie', ['theme=dark; Path=/', 'sidebar=open'])
      session.data.a = 1
    })
    const lines = (await new Jar().fetch(url)).headers.getSetCookie()
    expect(lines).toHaveLength(3)
    expect(lines).toContain('theme=dark; Path=/')
    expect(lines).toContain('sidebar=open')
    expect(named(lines)).toHaveLength(1)
  })

  it('keeps the other Set-Cookie headers the app set (Web Response)', async () => {
    const sessions = createSessions<AnyData>({ store: new MemoryStore() })
    const response = new Response('ok')
    response.headers.append('set-cookie', 'theme=dark; Path=/')
    response.headers.append('set-cookie', 'sidebar=open')
    const session = await sessions.get(webRequest(), response)
    session.data.a = 1
    await session.commit()
    const lines = response.headers.getSetCookie()
    expect(lines).toHaveLength(3)
    expect(lines.slice(0, 2)).toEqual(['theme=dark; Path=/', 'sidebar=open'])
    expect(named(lines)).toHaveLength(1)
  })
})

describe('a loaded session', () => {
  it('stores a change to a loaded session (the next request sees it) but sends no Set-Cookie inside touchAfter', async () => {
    const spied = spiedStore()
    const sessions = createSessions<AnyData>({ store: spied.store })
    const seen: AnyData[] = []
    const url = await app(sessions, (session, req) => {
      seen.push({ ...session.data })
      if (req.url === '/inc') session.data.views = ((session.data.views as number | undefined) ?? 0) + 1
    })
    const jar = new Jar()
    expect(named((await jar.fetch(`${url}/inc`)).headers.getSetCookie())).toHaveLength(1)
    spied.reset()

    const second = await jar.fetch(`${url}/inc`)
    expect(second.headers.getSetCookie()).toEqual([])
    expect(second.headers.get('cache-control')).toBeNull()
    expect(spied.patch).toHaveBeenCalledTimes(1)
    expect(spied.patch.mock.calls[0]![1]).toEqual({ set: { views: 2 }, unset: [] })
    expect(spied.set).not.toHaveBeenCalled()

    await jar.fetch(`${url}/`)
    expect(seen.at(-1)).toEqual({ views: 2 })
  })

  it('writes nothing to the store and sends nothing for an unmodified loaded session', async () => {
    const spied = spiedStore()
    const sessions = createSessions<AnyData>({ store: spied.store })
    const url = await app(sessions, (session, req) => {
      if (req.url === '/init') session.data.profile = { name: 'Ada', tags: ['x'] }
      else {
        // Reads, including nested plain objects and arrays, are not changes.
        void (session.data.profile as { name: string }).name
        void (session.data.profile as { tags: string[] }).tags.length
        void JSON.stringify(session.data)
      }
    })
    const jar = new Jar()
    await jar.fetch(`${url}/init`)
    spied.reset()
    const response = await jar.fetch(`${url}/read`)
    expect(response.headers.getSetCookie()).toEqual([])
    expect(response.headers.get('cache-control')).toBeNull()
    expect(spied.get).toHaveBeenCalledTimes(1)
    expect(spied.writes()).toBe(0)
  })

  it('on a due touch calls store.touch once, re-sends the cookie once, and the next request sends nothing', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const start = new Date('2030-01-01T00:00:00Z').getTime()
    vi.setSystemTime(start)
    const spied = spiedStore()
    const sessions = createSessions<AnyData>({ store: spied.store, ttl: 60, touchAfter: 10 })
    const url = await app(sessions, (session, req) => {
      if (req.url === '/init') session.data.a = 1
    })
    const jar = new Jar()
    const first = await jar.fetch(`${url}/init`)
    const cookie = valueOf(named(first.headers.getSetCookie())[0]!)
    spied.reset()

    vi.setSystemTime(start + 5_000) // not yet due
    expect((await jar.fetch(url)).headers.getSetCookie()).toEqual([])
    expect(spied.writes()).toBe(0)

    vi.setSystemTime(start + 11_000) // the expiry would move by 11 s ≥ touchAfter
    const due = await jar.fetch(url)
    const lines = due.headers.getSetCookie()
    expect(lines).toHaveLength(1)
    expect(valueOf(lines[0]!)).toBe(cookie) // same id, fresh expiry
    expect(attributes(lines[0]!).get('max-age')).toBe('60')
    expect(spied.touch).toHaveBeenCalledTimes(1)
    expect(spied.touch.mock.calls[0]).toEqual([cookie, start + 11_000 + 60_000])
    expect(spied.set).not.toHaveBeenCalled()
    expect(spied.patch).not.toHaveBeenCalled()

    const after = await jar.fetch(url)
    expect(after.headers.getSetCookie()).toEqual([])
    expect(spied.touch).toHaveBeenCalledTimes(1)
  })

  it('never re-sends the cookie on a touch when rolling is false (the store expiry still moves)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const start = new Date('2030-01-01T00:00:00Z').getTime()
    vi.setSystemTime(start)
    const spied = spiedStore()
    const sessions = createSessions<AnyData>({ store: spied.store, ttl: 60, touchAfter: 10, rolling: false })
    const url = await app(sessions, (session, req) => {
      if (req.url === '/init') session.data.a = 1
    })
    const jar = new Jar()
    await jar.fetch(`${url}/init`)
    spied.reset()
    for (const offset of [11_000, 22_000, 33_000]) {
      vi.setSystemTime(start + offset)
      const response = await jar.fetch(url)
      expect(response.headers.getSetCookie()).toEqual([])
    }
    expect(spied.touch).toHaveBeenCalledTimes(3)
    expect(spied.touch.mock.calls.at(-1)![1]).toBe(start + 33_000 + 60_000)
  })
})

describe('regenerate', () => {
  it('gives a new id and one Set-Cookie, carries the data over, and the old cookie then loads a fresh empty session', async () => {
    const store = new MemoryStore()
    const sessions = createSessions<AnyData>({ store })
    const seen: { id: string; isNew: boolean; data: AnyData }[] = []
    const url = await app(sessions, async (session, req) => {
      if (req.url === '/init') session.data.cart = ['apple']
      if (req.url === '/login') {
        await session.regenerate()
        session.data.user = 'ada'
      }
      seen.push({ id: session.id, isNew: session.isNew, data: JSON.parse(JSON.stringify(session.data)) as AnyData })
    })
    const jar = new Jar()
    await jar.fetch(`${url}/init`)
    const oldCookie = jar.cookies.get('sid')!
    const oldId = seen[0]!.id

    const login = await jar.fetch(`${url}/login`)
    const lines = login.headers.getSetCookie()
    expect(lines).toHaveLength(1)
    const newId = valueOf(named(lines)[0]!)
    expect(newId).not.toBe(oldId)
    expect(newId).toBe(seen[1]!.id)
    expect(await store.get(oldId)).toBeUndefined()
    expect((await store.get(newId))?.data).toEqual({ cart: ['apple'], user: 'ada' })
    expect(store.size).toBe(1)

    await jar.fetch(url)
    expect(seen[2]).toEqual({ id: newId, isNew: false, data: { cart: ['apple'], user: 'ada' } })

    const stale = new Jar()
    stale.cookies.set('sid', oldCookie)
    await stale.fetch(url)
    expect(seen[3]!.isNew).toBe(true)
    expect(seen[3]!.id).not.toBe(oldId)
    expect(seen[3]!.data).toEqual({})
  })
})

describe('destroy', () => {
  it('removes the store entry and sends one Set-Cookie with an empty value and Max-Age=0', async () => {
    const store = new MemoryStore()
    const sessions = createSessions<AnyData>({ store })
    const url = await app(sessions, async (session, req) => {
      if (req.url === '/init') session.data.user = 'ada'
      if (req.url === '/logout') await session.destroy()
    })
    const jar = new Jar()
    await jar.fetch(`${url}/init`)
    const id = jar.cookies.get('sid')!
    expect(store.size).toBe(1)

    const logout = await jar.fetch(`${url}/logout`)
    const lines = logout.headers.getSetCookie()
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^sid=; /)
    expect(attributes(lines[0]!).get('max-age')).toBe('0')
    expect(attributes(lines[0]!).get('expires')).toBe('Thu, 01 Jan 1970 00:00:00 GMT')
    expect(attributes(lines[0]!).get('path')).toBe('/')
    expect(logout.headers.get('cache-control')).toBe('no-store')
    expect(await store.get(id)).toBeUndefined()
    expect(store.size).toBe(0)
    expect(jar.cookies.has('sid')).toBe(false)
  })

  it('after destroy, data reads empty and writing throws SessionError DESTROYED', async () => {
    const store = new MemoryStore()
    const sessions = createSessions<AnyData>({ store })
    const jar = new Jar()
    await webRound(sessions, jar, (session) => {
      session.data.user = 'ada'
    })
    const response = new Response('bye')
    const session = await sessions.get(webRequest(jar), response)
    expect(session.data.user).toBe('ada')
    await session.destroy()
    expect(session.data).toEqual({})
    expect(session.data.user).toBeUndefined()
    expect(Object.keys(session.data)).toEqual([])
    const attempts: (() => unknown)[] = [
      () => {
        session.data.user = 'eve'
      },
      () => {
        session.data = { user: 'eve' }
      },
      () => session.bindUser('u1'),
      () => session.touch(),
      () => session.regenerate(),
    ]
    for (const attempt of attempts) {
      let caught: unknown
      try {
        await attempt()
      } catch (error) {
        caught = error
      }
      expect(caught).toBeInstanceOf(SessionError)
      expect((caught as SessionError).code).toBe('DESTROYED')
    }
    expect(await session.commit()).toEqual([]) // already committed by destroy()
    expect(named(response.headers.getSetCookie())).toHaveLength(1)
    expect(store.size).toBe(0)
  })
})

describe('commit()', () => {
  it('resolves to exactly the Set-Cookie strings it applied (Web)', async () => {
    const sessions = createSessions<AnyData>({ store: new MemoryStore() })
    const response = new Response('ok')
    const session = await sessions.get(webRequest(), response)
    session.data.a = 1
    const committed = await session.commit()
    expect(committed).toHaveLength(1)
    expect(response.headers.getSetCookie()).toEqual(committed)
    expect(await session.commit()).toEqual([]) // nothing left to send
    expect(response.headers.getSetCookie()).toEqual(committed)
  })

  it('resolves to exactly the Set-Cookie strings it applied (node:http)', async () => {
    const sessions = createSessions<AnyData>({ store: new MemoryStore() })
    let committed: string[] = []
    const url = await app(sessions, async (session) => {
      session.data.a = 1
      committed = await session.commit()
    })
    const response = await new Jar().fetch(url)
    expect(committed).toHaveLength(1)
    expect(response.headers.getSetCookie()).toEqual(committed)
  })

  it('calling commit() and then letting autoCommit run sends one cookie, not two, and writes once', async () => {
    const spied = spiedStore()
    const sessions = createSessions<AnyData>({ store: spied.store })
    const url = await app(sessions, async (session) => {
      session.data.a = 1
      await session.commit()
    })
    const response = await new Jar().fetch(url)
    expect(response.headers.getSetCookie()).toHaveLength(1)
    expect(spied.set).toHaveBeenCalledTimes(1)
    expect(spied.patch).not.toHaveBeenCalled()
  })
})

describe('the Secure attribute', () => {
  it('sends no cookie at all over plain HTTP when secure is true', async () => {
    const sessions = createSessions<AnyData>({ store: new MemoryStore(), cookie: { secure: true } })
    const url = await app(sessions, (session) => {
      session.data.a = 1
    })
    const response = await new Jar().fetch(url)
    expect(response.headers.getSetCookie()).toEqual([])
  })

  it("sets Secure with secure: 'auto' and trustProxy when X-Forwarded-Proto is https", async () => {
    const sessions = createSessions<AnyData>({ store: new MemoryStore(), trustProxy: true })
    const url = await app(sessions, (session) => {
      session.data.a = 1
    })
    const response = await new Jar().fetch(url, { headers: { 'x-forwarded-proto': 'https' } })
    const lines = named(response.headers.getSetCookie())
    expect(lines).toHaveLength(1)
    expect(attributes(lines[0]!).has('secure')).toBe(true)
  })

  it('ignores a spoofed X-Forwarded-Proto without trustProxy', async () => {
    const sessions = createSessions<AnyData>({ store: new MemoryStore() })
    const url = await app(sessions, (session) => {
      session.data.a = 1
    })
    const response = await new Jar().fetch(url, { headers: { 'x-forwarded-proto': 'https' } })
    const lines = named(response.headers.getSetCookie())
    expect(lines).toHaveLength(1)
    expect(attributes(lines[0]!).has('secure')).toBe(false)
  })

  it("sets Secure for an https: Web request with secure: 'auto'", async () => {
    const sessions = createSessions<AnyData>({ store: new MemoryStore() })
    const { setCookies } = await webRound(sessions, new Jar(), (session) => void (session.data.a = 1), { url: 'https://app.test/' })
    expect(attributes(setCookies[0]!).has('secure')).toBe(true)
  })
})

describe('options are validated at construction', () => {
  const store = () => new MemoryStore()

  it('throws a TypeError for a __Host- name without secure: true, with a domain, or with a path other than /', () => {
    expect(() => createSessions({ store: store(), name: '__Host-sid' })).toThrow(TypeError)
    expect(() => createSessions({ store: store(), name: '__Host-sid', cookie: { secure: 'auto' } })).toThrow(/cookie\.secure/)
    expect(() => createSessions({ store: store(), name: '__Host-sid', cookie: { secure: true, domain: 'example.com' } })).toThrow(/cookie\.domain/)
    expect(() => createSessions({ store: store(), name: '__Host-sid', cookie: { secure: true, path: '/app' } })).toThrow(/cookie\.path/)
    expect(() => createSessions({ store: store(), name: '__Host-sid', cookie: { secure: true } })).not.toThrow()
  })

  it("throws a TypeError for sameSite: 'none' without secure", () => {
    let caught: unknown
    try {
      createSessions({ store: store(), cookie: { sameSite: 'none', secure: false } })
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(TypeError)
    expect((caught as Error).message).toMatch(/cookie\.sameSite/)
  })

  const bad: [option: string, options: () => SessionsOptions][] = [
    ['ttl', () => ({ store: store(), ttl: -1 })],
    ['secrets', () => ({ store: store(), secrets: 'too short' })],
    ['secrets', () => ({ store: store(), secrets: ['x'.repeat(32), 'short'] })],
    ['name', () => ({ store: store(), name: 'my sid' })],
    ['cookie.path', () => ({ store: store(), cookie: { path: 'x' } })],
    ['touchAfter', () => ({ store: store(), ttl: 60, touchAfter: 61 })],
    ['store', () => ({ store: {} as never })],
    ['store', () => ({ store: { get() {}, set() {} } as never })],
    ['genid', () => ({ store: store(), genid: 'abc' as never })],
  ]
  it.each(bad)('throws a TypeError naming %s for a bad value', (option, options) => {
    let caught: unknown
    try {
      createSessions(options())
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(TypeError)
    const escaped = option.replace(/\./g, '\\.')
    expect((caught as Error).message).toMatch(new RegExp(`\\b${escaped}\\b`))
  })
})

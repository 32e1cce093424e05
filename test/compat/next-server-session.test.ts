// tessera/compat/next-server-session: next-server-session's README as tests, on real node:http
// servers, in both calling forms (an API route's `(req, res)`, a getServerSideProps context),
// plus the defects it must not copy.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  configure,
  createCookieHandler,
  createMemorySessionStore,
  createRedisSessionStore,
  destroySession,
  getCSRFToken,
  getSessionData,
  pluckSessionProperty,
  replaceSessionData,
  SessionError,
  setSessionData,
  validateCSRFToken,
  type SessionStore,
} from '../../src/compat/next-server-session.js'
import { MemoryStore } from '../../src/stores/memory-store.js'
import { startRedis, type RedisServer } from '../harness/redis.js'
import { barrier } from '../barrier.js'
import { Jar, serve, type Running } from '../helpers.js'

const running: Running[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()))
})

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>
async function start(handler: Handler): Promise<string> {
  const server = await serve(handler)
  running.push(server)
  return server.url
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const named = (response: Response, name = 'nextSession') => response.headers.getSetCookie().filter((line) => line.startsWith(`${name}=`))
const json = (res: ServerResponse, value: unknown) => {
  res.setHeader('content-type', 'application/json')
  res.end(JSON.stringify(value))
}
/** A getServerSideProps context around a real request. */
const contextOf = (req: IncomingMessage, res: ServerResponse) => ({ req, res, query: {}, resolvedUrl: req.url ?? '/' })

/** The app of the README examples, answering both in API-route form and in getServerSideProps form. */
function app(): Handler {
  return async (req, res) => {
    const url = new URL(req.url!, 'http://x')
    const gssp = url.searchParams.has('gssp')
    const ctx = contextOf(req, res)
    const body = url.searchParams.get('data')
    const data = body ? JSON.parse(body) : undefined
    switch (url.pathname) {
      case '/get':
        return json(res, gssp ? await getSessionData(ctx) : await getSessionData(req, res))
      case '/set':
        await (gssp ? setSessionData(ctx, data) : setSessionData(req, res, data))
        return json(res, 'ok')
      case '/replace':
        await (gssp ? replaceSessionData(ctx, data) : replaceSessionData(req, res, data))
        return json(res, 'ok')
      case '/pluck':
        return json(res, gssp ? await pluckSessionProperty(ctx, url.searchParams.get('key')!) : await pluckSessionProperty(req, res, url.searchParams.get('key')!))
      case '/destroy':
        await (gssp ? destroySession(ctx) : destroySession(req, res))
        return json(res, 'ok')
      case '/csrf':
        return json(res, gssp ? await getCSRFToken(ctx) : await getCSRFToken(req, res))
      case '/validate': {
        const token = url.searchParams.get('token') ?? undefined
        const options = url.searchParams.has('once') ? { singleUse: true } : undefined
        return json(res, gssp ? await validateCSRFToken(ctx, token, options) : await validateCSRFToken(req, res, token, options))
      }
      default:
        res.statusCode = 404
        res.end()
    }
  }
}

const q = (data: unknown) => `data=${encodeURIComponent(JSON.stringify(data))}`

for (const form of ['(req, res)', 'getServerSideProps context'] as const) {
  const gssp = form === 'getServerSideProps context' ? '&gssp' : ''
  describe(`next-server-session API, ${form}`, () => {
    it('getSessionData is {} without a session, and establishes none', async () => {
      configure()
      const url = await start(app())
      const response = await fetch(`${url}/get?x${gssp}`)
      expect(await response.json()).toEqual({})
      expect(response.headers.getSetCookie()).toEqual([])
    })

    it('setSessionData merges shallowly and establishes the session with one cookie', async () => {
      configure()
      const url = await start(app())
      const jar = new Jar()
      const first = await jar.fetch(`${url}/set?${q({ a: 1, cart: { x: 1 } })}${gssp}`)
      expect(named(first)).toHaveLength(1)
      const second = await jar.fetch(`${url}/set?${q({ b: 2, cart: { y: 2 } })}${gssp}`)
      expect(named(second)).toHaveLength(0)
      expect(await (await jar.fetch(`${url}/get?x${gssp}`)).json()).toEqual({ a: 1, b: 2, cart: { y: 2 } })
    })

    it('replaceSessionData replaces everything', async () => {
      configure()
      const url = await start(app())
      const jar = new Jar()
      await jar.fetch(`${url}/set?${q({ user: 'ada', step: 3 })}${gssp}`)
      await jar.fetch(`${url}/replace?${q({ step: 1 })}${gssp}`)
      expect(await (await jar.fetch(`${url}/get?x${gssp}`)).json()).toEqual({ step: 1 })
    })

    it('pluckSessionProperty returns the value once, then null', async () => {
      configure()
      const url = await start(app())
      const jar = new Jar()
      await jar.fetch(`${url}/set?${q({ formErrors: ['name is required'], keep: true })}${gssp}`)
      expect(await (await jar.fetch(`${url}/pluck?key=formErrors${gssp}`)).json()).toEqual(['name is required'])
      expect(await (await jar.fetch(`${url}/pluck?key=formErrors${gssp}`)).json()).toBeNull()
      expect(await (await jar.fetch(`${url}/get?x${gssp}`)).json()).toEqual({ keep: true })
    })

    it('destroySession drops the data from the store and expires the cookie', async () => {
      const store = new MemoryStore()
      configure({ sessionStore: store })
      const url = await start(app())
      const jar = new Jar()
      await jar.fetch(`${url}/set?${q({ user: 'ada' })}${gssp}`)
      const id = jar.cookies.get('nextSession')!
      expect(await store.get(id)).toBeDefined()
      const response = await jar.fetch(`${url}/destroy?x${gssp}`)
      expect(named(response)[0]).toMatch(/^nextSession=; Max-Age=0/)
      expect(await store.get(id)).toBeUndefined()
      expect(await (await jar.fetch(`${url}/get?x${gssp}`)).json()).toEqual({})
    })

    it('getCSRFToken / validateCSRFToken: a stored token validates, and stays out of getSessionData', async () => {
      configure()
      const url = await start(app())
      const jar = new Jar()
      const token: string = await (await jar.fetch(`${url}/csrf?x${gssp}`)).json()
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect(await (await jar.fetch(`${url}/csrf?x${gssp}`)).json()).toBe(token) // one token per session: every tab's forms keep working
      expect(await (await jar.fetch(`${url}/validate?token=${token}${gssp}`)).json()).toBe(true)
      expect(await (await jar.fetch(`${url}/validate?token=${token}${gssp}`)).json()).toBe(true)
      expect(await (await jar.fetch(`${url}/get?x${gssp}`)).json()).toEqual({})
    })
  })
}

describe('defects not copied', () => {
  it('validateCSRFToken is false when no token was issued, whatever is passed', async () => {
    configure()
    const url = await start(app())
    const jar = new Jar()
    await jar.fetch(`${url}/set?${q({ user: 'ada' })}`) // a session, but no token in it
    for (const query of ['', 'token=undefined', 'token=', 'token=null']) {
      expect(await (await jar.fetch(`${url}/validate?${query}`)).json()).toBe(false)
    }
    // No session at all: false, and still no session.
    const fresh = await fetch(`${url}/validate`)
    expect(await fresh.json()).toBe(false)
    expect(fresh.headers.getSetCookie()).toEqual([])
  })

  it('a wrong guess does not burn the real token; single use is asked for', async () => {
    configure()
    const url = await start(app())
    const jar = new Jar()
    const token: string = await (await jar.fetch(`${url}/csrf`)).json()
    expect(await (await jar.fetch(`${url}/validate?token=${'A'.repeat(43)}`)).json()).toBe(false)
    expect(await (await jar.fetch(`${url}/validate?token=wrong&once`)).json()).toBe(false)
    expect(await (await jar.fetch(`${url}/validate?token=${token}&once`)).json()).toBe(true)
    expect(await (await jar.fetch(`${url}/validate?token=${token}`)).json()).toBe(false) // used up
    const next: string = await (await jar.fetch(`${url}/csrf`)).json()
    expect(next).not.toBe(token)
    expect(await (await jar.fetch(`${url}/validate?token=${next}`)).json()).toBe(true)
  })

  it('other Set-Cookie headers survive', async () => {
    configure()
    const url = await start(async (req, res) => {
      res.setHeader('Set-Cookie', ['theme=dark; Path=/', 'lang=en; Path=/'])
      if (req.url === '/logout') await destroySession(req, res)
      else await setSessionData(req, res, { user: 'ada' })
      res.setHeader('X-After', 'yes')
      res.end('ok')
    })
    const jar = new Jar()
    const login = await jar.fetch(url)
    expect(login.headers.getSetCookie().map((line) => line.split('=')[0])).toEqual(['theme', 'lang', 'nextSession'])
    const logout = await jar.fetch(`${url}/logout`)
    expect(logout.headers.getSetCookie().map((line) => line.split('=')[0])).toEqual(['theme', 'lang', 'nextSession'])
  })

  for (const [label, makeStore] of [
    ['createMemorySessionStore()', () => createMemorySessionStore()],
    ['a store implementing next-server-session’s interface', () => peerStore()],
  ] as const) {
    it(`concurrent setSessionData calls on different keys all survive (${label})`, async () => {
      configure({ sessionStore: makeStore() })
      const keys = ['a', 'b', 'c', 'd', 'e']
      const loaded = barrier(keys.length)
      const url = await start(async (req, res) => {
        const key = new URL(req.url!, 'http://x').searchParams.get('key')
        if (key) {
          await getSessionData(req, res) // every request loads the same state first...
          await loaded.arrive() // ...then all of them write
          await setSessionData(req, res, { [key]: true })
        } else {
          await setSessionData(req, res, { started: true })
        }
        json(res, await getSessionData(req, res))
      })
      const jar = new Jar()
      await jar.fetch(url)
      await Promise.all(keys.map((key) => jar.fetch(`${url}/?key=${key}`)))
      const data = await (await jar.fetch(`${url}/?other`)).json()
      expect(data).toEqual({ started: true, a: true, b: true, c: true, d: true, e: true })
    })
  }

  it('a store that fails rejects with SessionError STORE_ERROR', async () => {
    const store = peerStore()
    store.get = () => Promise.reject(new Error('connection lost'))
    configure({ sessionStore: store })
    const url = await start(async (req, res) => {
      try {
        await getSessionData(req, res)
      } catch (error) {
        res.statusCode = 503
        res.end(`${error instanceof SessionError} ${(error as SessionError).code}`)
        return
      }
      res.end('no error')
    })
    const response = await fetch(url, { headers: { cookie: 'nextSession=abcdefghijklmnopqrstu' } })
    expect(await response.text()).toBe('true STORE_ERROR')
  })

  it('missing arguments throw as in next-server-session', async () => {
    configure()
    const url = await start(async (req, res) => {
      const errors: string[] = []
      for (const call of [
        () => setSessionData(req, res, undefined),
        () => pluckSessionProperty(req, res, ''),
        () => getSessionData({} as never),
      ]) {
        await call().then(
          () => errors.push('none'),
          (error: Error) => errors.push(error.message),
        )
      }
      json(res, errors)
    })
    expect(await (await fetch(url)).json()).toEqual([
      'No session data given',
      'No propertyName given',
      'Either pass a GetServerSidePropsContext as first argument, OR NextApiRequest and NextApiResponse as first and second argument.',
    ])
  })
})

/** A store written for next-server-session: its documented interface over a Map. */
function peerStore(): SessionStore & { map: Map<string, string> } {
  const map = new Map<string, string>()
  let counter = 0
  return {
    map,
    id: async () => `peer-session-${++counter}-${Math.random().toString(36).slice(2)}`,
    get: async (id) => (map.has(id) ? JSON.parse(map.get(id)!) : null),
    set: async (id, data) => void map.set(id, JSON.stringify(data)),
    merge: async (id, data) => void map.set(id, JSON.stringify({ ...(map.has(id) ? JSON.parse(map.get(id)!) : {}), ...data })),
    destroy: async (id) => map.delete(id),
  }
}

describe('configure, stores and the cookie handler', () => {
  it("defaults: cookie nextSession with next-server-session's attributes, a browser-session cookie", async () => {
    configure()
    const url = await start(async (req, res) => {
      await setSessionData(req, res, { a: 1 })
      res.end()
    })
    const [line] = named(await fetch(url))
    expect(line).toMatch(/^nextSession=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/)
  })

  it('createMemorySessionStore(maxSessionAgeMS): sessions end that long after their last use', async () => {
    configure({ sessionStore: createMemorySessionStore(1000) })
    const url = await start(async (req, res) => {
      if (req.url === '/set') await setSessionData(req, res, { user: 'ada' })
      json(res, await getSessionData(req, res))
    })
    const jar = new Jar()
    await jar.fetch(`${url}/set`)
    expect(await (await jar.fetch(url)).json()).toEqual({ user: 'ada' })
    await sleep(1200)
    expect(await (await jar.fetch(url)).json()).toEqual({})
  })

  it('createMemorySessionStore() also answers next-server-session’s store interface', async () => {
    const store = createMemorySessionStore()
    const id = await store.id()
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(await store.get(id)).toBeNull()
    await store.set(id, { a: 1 })
    await store.merge(id, { b: 2 })
    expect(await store.get(id)).toEqual({ a: 1, b: 2 })
    await store.destroy(id)
    expect(await store.get(id)).toBeNull()
  })

  it('a custom store implementing next-server-session’s interface works', async () => {
    const store = peerStore()
    configure({ sessionStore: store })
    const url = await start(app())
    const jar = new Jar()
    await jar.fetch(`${url}/set?${q({ a: 1 })}`)
    await jar.fetch(`${url}/set?${q({ b: 2 })}`)
    await jar.fetch(`${url}/pluck?key=a`)
    expect(JSON.parse(store.map.get(jar.cookies.get('nextSession')!)!)).toEqual({ b: 2 })
    await jar.fetch(`${url}/destroy`)
    expect(store.map.size).toBe(0)
  })

  it('users stay logged in: sessions a next-server-session store already holds (UUID ids) are read', async () => {
    const store = peerStore()
    const id = '0f8fad5b-d9cb-469f-a165-70867728950e' // what next-server-session's store.id() made
    await store.set(id, { user: 'ada', cart: { book: 1 } })
    configure({ sessionStore: store })
    const url = await start(app())
    const jar = new Jar()
    jar.cookies.set('nextSession', id)
    expect(await (await jar.fetch(`${url}/get`)).json()).toEqual({ user: 'ada', cart: { book: 1 } })
    const response = await jar.fetch(`${url}/set?${q({ cart: { book: 2 } })}`)
    expect(named(response)).toHaveLength(0) // the same session, no new cookie
    expect(JSON.parse(store.map.get(id)!)).toEqual({ user: 'ada', cart: { book: 2 } })
  })

  it('createCookieHandler(name, config): the cookie module’s options', async () => {
    configure({ cookieHandler: createCookieHandler('sId', { httpOnly: true, sameSite: 'lax', path: '/', maxAge: 600 }), sessionMaxAgeMS: 600_000 })
    const url = await start(async (req, res) => {
      await setSessionData(req, res, { a: 1 })
      res.end()
    })
    const [line] = named(await fetch(url), 'sId')
    expect(line).toMatch(/^sId=[A-Za-z0-9_-]{43}; Max-Age=600; Expires=[^;]+; Path=\/; HttpOnly; SameSite=Lax$/)
    expect(() => configure({ cookieHandler: { name: 'x' } })).toThrow(TypeError)
    expect(() => createCookieHandler('x', { encode: (v: string) => v })).toThrow(TypeError)
  })

  it('configure() reaches every copy of the module (bundles, ESM and CommonJS)', async () => {
    const store = new MemoryStore()
    // @ts-expect-error a query string gives vitest a second, separate instance of the module
    const copy: typeof import('../../src/compat/next-server-session.js') = await import('../../src/compat/next-server-session.js?copy')
    expect(copy.configure).not.toBe(configure)
    copy.configure({ sessionStore: store, cookieHandler: copy.createCookieHandler('fromCopy') })
    const url = await start(async (req, res) => {
      await setSessionData(req, res, { a: 1 })
      res.end()
    })
    expect(named(await fetch(url), 'fromCopy')).toHaveLength(1)
    expect(store.size).toBe(1)
  })
})

describe('createRedisSessionStore on a real redis-server', () => {
  let server: RedisServer
  let client: Redis
  beforeAll(async () => {
    server = await startRedis()
    client = new Redis(server.url)
  }, 60_000)
  afterAll(async () => {
    client?.disconnect()
    await server?.stop()
  }, 30_000)

  it('(maxSessionAgeMS, host, port, db): connects with the redis package and keeps sessions in that database', async () => {
    const store = createRedisSessionStore(60_000, '127.0.0.1', server.port, 3)
    try {
      configure({ sessionStore: store })
      const url = await start(app())
      const jar = new Jar()
      await jar.fetch(`${url}/set?${q({ user: 'ada' })}`)
      await jar.fetch(`${url}/set?${q({ views: 2 })}`)
      expect(await (await jar.fetch(`${url}/get`)).json()).toEqual({ user: 'ada', views: 2 })
      const db3 = new Redis(server.url, { db: 3 })
      try {
        const keys = await db3.keys('*')
        expect(keys.some((key) => key.includes(jar.cookies.get('nextSession')!))).toBe(true)
        const ttl = await db3.pttl(keys.find((key) => key.includes(jar.cookies.get('nextSession')!))!)
        expect(ttl).toBeGreaterThan(50_000)
        expect(ttl).toBeLessThanOrEqual(60_000)
      } finally {
        db3.disconnect()
      }
      expect(await client.dbsize()).toBe(0) // nothing in database 0
    } finally {
      await store.close()
    }
  })

  it('(maxSessionAgeMS, client): uses a connected client', async () => {
    configure({ sessionStore: createRedisSessionStore(60_000, client) })
    const url = await start(app())
    const jar = new Jar()
    await jar.fetch(`${url}/set?${q({ user: 'grace' })}`)
    expect(await (await jar.fetch(`${url}/get`)).json()).toEqual({ user: 'grace' })
    expect(await client.dbsize()).toBeGreaterThan(0)
  })

  it('an unreachable server is a STORE_ERROR, not a crash', async () => {
    const store = createRedisSessionStore(60_000, '127.0.0.1', 1, 0)
    try {
      configure({ sessionStore: store })
      const caught: unknown[] = []
      const url = await start(async (req, res) => {
        try {
          await setSessionData(req, res, { a: 1 })
        } catch (error) {
          caught.push(error)
        }
        res.end('answered')
      })
      const response = await fetch(url)
      expect(caught).toHaveLength(1)
      expect(caught[0]).toBeInstanceOf(SessionError)
      expect((caught[0] as SessionError).code).toBe('STORE_ERROR')
      // The app caught the error and answered: autoCommit does not retry the commit behind it.
      expect(response.status).toBe(200)
      expect(await response.text()).toBe('answered')
    } finally {
      await store.close()
    }
  })
})

// tessera/compat/next-session: next-session 3 and 4 as their documentation describes them, on
// real node:http and Express servers, plus users staying logged in across the switch from the
// real next-session 4 package (same store, same cookie).
import { EventEmitter } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import cookieSignature from 'cookie-signature'
import express from 'express'
import ExpressSession from 'express-session'
import realNextSession from 'next-session'
import { promisifyStore as realPromisifyStore } from 'next-session/lib/compat'
import { afterEach, describe, expect, it, vi } from 'vitest'
import nextSession, {
  applySession,
  expressSession,
  fromNextSessionStore,
  MemoryStore,
  promisifyStore,
  session,
  SessionError,
  withSession,
  type Session,
  type SessionStore,
} from '../../src/compat/next-session.js'
import { testSessionStore } from '../../src/testing.js'
import { Jar, serve, type Running } from '../helpers.js'
// next-session's own MemoryStore is not in its package exports; load the file itself.
import NextSessionMemoryStore from '../../node_modules/next-session/lib/memory-store.js'

const running: Running[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()))
})

async function start(handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>): Promise<string> {
  const server = await serve(handler)
  running.push(server)
  return server.url
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const sids = (response: Response, name = 'sid') => response.headers.getSetCookie().filter((line) => line.startsWith(`${name}=`))
const valueOf = (line: string) => line.split(';')[0]!.slice(line.indexOf('=') + 1)

/** A next-session store (promise contract) over a Map, with every call recorded. */
function recordingStore() {
  const map = new Map<string, string>()
  const calls: string[] = []
  const store: SessionStore & { map: Map<string, string>; calls: string[] } = {
    map,
    calls,
    async get(sid) {
      calls.push(`get ${sid}`)
      const json = map.get(sid)
      return json ? JSON.parse(json) : null
    },
    async set(sid, sess) {
      calls.push(`set ${sid}`)
      map.set(sid, JSON.stringify(sess))
    },
    async destroy(sid) {
      calls.push(`destroy ${sid}`)
      map.delete(sid)
    },
    async touch(sid, sess) {
      calls.push(`touch ${sid}`)
      map.set(sid, JSON.stringify(sess))
    },
  }
  return store
}

describe('nextSession (v4): getSession(req, res)', () => {
  it('counts views across requests, on the session and on req.session, with one cookie at the start', async () => {
    const getSession = nextSession<{ views?: number }>({ store: new MemoryStore() })
    const url = await start(async (req, res) => {
      const session = await getSession(req, res)
      session.views = session.views ? session.views + 1 : 1
      expect((req as IncomingMessage & { session?: unknown }).session).toBe(session)
      res.end(`views: ${session.views}`)
    })
    const jar = new Jar()
    const first = await jar.fetch(url)
    expect(await first.text()).toBe('views: 1')
    expect(sids(first)).toHaveLength(1)
    const second = await jar.fetch(url)
    expect(await second.text()).toBe('views: 2')
    expect(sids(second)).toHaveLength(0) // a changed, loaded session is saved without a new cookie
    expect(await (await jar.fetch(url)).text()).toBe('views: 3')
  })

  it("uses next-session's cookie defaults: sid, HttpOnly, Path=/, a browser-session cookie", async () => {
    const getSession = nextSession({ store: new MemoryStore() })
    const url = await start(async (req, res) => {
      const session = await getSession(req, res)
      session.user = 'ada'
      res.end(JSON.stringify(session.cookie))
    })
    const response = await fetch(url)
    const [line] = sids(response)
    expect(line).toMatch(/^sid=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/)
    expect(line).not.toMatch(/Max-Age|Expires|Secure/)
    expect(await response.json()).toEqual({ httpOnly: true, path: '/', secure: false })
  })

  it('cookie.maxAge (seconds) makes a persistent cookie and is the session lifetime', async () => {
    const store = new MemoryStore()
    const getSession = nextSession({ store, cookie: { maxAge: 1 } })
    const url = await start(async (req, res) => {
      const session = await getSession(req, res)
      session.n = (session.n ?? 0) + 1
      res.end(JSON.stringify({ n: session.n, maxAge: session.cookie.maxAge, expires: session.cookie.expires }))
    })
    const jar = new Jar()
    const first = await jar.fetch(url)
    expect(sids(first)[0]).toMatch(/Max-Age=1; Expires=/)
    const body = await first.json()
    expect(body.maxAge).toBe(1)
    expect(Date.parse(body.expires)).toBeGreaterThan(Date.now())
    await sleep(1200)
    expect((await (await jar.fetch(url)).json()).n).toBe(1) // the old session expired on the server
  })

  it('an empty new session stores nothing and sets no cookie', async () => {
    const store = recordingStore()
    const getSession = nextSession({ store })
    const url = await start(async (req, res) => {
      await getSession(req, res)
      res.end('ok')
    })
    const response = await fetch(url)
    expect(sids(response)).toHaveLength(0)
    expect(store.map.size).toBe(0)
  })

  it('the session object is the data plus id, touch, commit, destroy and cookie', async () => {
    const getSession = nextSession({ store: new MemoryStore() })
    let shape: Record<string, unknown> = {}
    const url = await start(async (req, res) => {
      const session = await getSession(req, res)
      session.a = 1
      session.b = { deep: [1] }
      ;(session.b as { deep: number[] }).deep.push(2)
      delete session.a
      session.c = 'x'
      shape = {
        id: session.id,
        methods: [typeof session.touch, typeof session.commit, typeof session.destroy],
        keys: Object.keys(session),
        json: JSON.parse(JSON.stringify(session)),
        has: ['c' in session, 'a' in session, 'id' in session],
        same: (await getSession(req, res)) === session,
      }
      expect(() => {
        ;(session as { id: string }).id = 'x'
      }).toThrow(TypeError)
      res.end('ok')
    })
    await fetch(url)
    expect(shape.id).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(shape.methods).toEqual(['function', 'function', 'function'])
    expect(shape.keys).toEqual(['b', 'c', 'cookie'])
    expect(shape.json).toEqual({ b: { deep: [1, 2] }, c: 'x', cookie: { httpOnly: true, path: '/', secure: false } })
    expect(shape.has).toEqual([true, false, true])
    expect(shape.same).toBe(true)
  })

  it('works in Express as the README shows: getSession in a middleware, req.session in the routes', async () => {
    const getSession = nextSession({ store: new MemoryStore() })
    const app = express()
    app.use(async (req, res, next) => {
      await getSession(req, res) // session is set to req.session
      next()
    })
    app.get('/', (req, res) => {
      const s = (req as unknown as { session: Session<{ views?: number }> }).session
      s.views = s.views ? s.views + 1 : 1
      res.send(`In this session, you have visited this website ${s.views} time(s).`)
    })
    const url = await start(app)
    const jar = new Jar()
    await jar.fetch(url)
    expect(await (await jar.fetch(url)).text()).toBe('In this session, you have visited this website 2 time(s).')
  })

  it('name and genid options', async () => {
    const getSession = nextSession({ name: 'app.sid', genid: () => 'my-own-id-0000000001', store: new MemoryStore() })
    const url = await start(async (req, res) => {
      const session = await getSession(req, res)
      session.x = 1
      res.end(session.id)
    })
    const response = await fetch(url)
    expect(await response.text()).toBe('my-own-id-0000000001')
    expect(valueOf(sids(response, 'app.sid')[0]!)).toBe('my-own-id-0000000001')
  })

  it('commit() followed by autoCommit sends one cookie', async () => {
    const getSession = nextSession({ store: new MemoryStore() })
    const url = await start(async (req, res) => {
      const session = await getSession(req, res)
      session.user = 'ada'
      await session.commit()
      await session.commit()
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end('ok')
    })
    const response = await fetch(url)
    expect(sids(response)).toHaveLength(1)
  })

  it('autoCommit: false still saves on commit()', async () => {
    const store = recordingStore()
    const getSession = nextSession({ store, autoCommit: false })
    const url = await start(async (req, res) => {
      const session = await getSession(req, res)
      session.user = 'ada'
      await session.commit()
      res.end('ok')
    })
    const jar = new Jar()
    expect(sids(await jar.fetch(url))).toHaveLength(1)
    expect([...store.map.values()].map((json) => JSON.parse(json).user)).toEqual(['ada'])
  })

  it('autoCommit: false saves nothing without commit() (needs core option autoCommit)', async () => {
    const store = recordingStore()
    const getSession = nextSession({ store, autoCommit: false })
    const url = await start(async (req, res) => {
      const session = await getSession(req, res)
      session.user = 'ada'
      res.end('ok')
    })
    const response = await fetch(url)
    expect(sids(response)).toHaveLength(0)
    expect(store.map.size).toBe(0)
  })

  it('destroy() removes the session from the store, expires the cookie and clears req.session', async () => {
    const store = recordingStore()
    const getSession = nextSession({ store })
    const url = await start(async (req, res) => {
      const session = await getSession(req, res)
      if (req.url === '/logout') {
        await session.destroy()
        res.end(String((req as { session?: unknown }).session))
        return
      }
      session.user = 'ada'
      res.end(session.id)
    })
    const jar = new Jar()
    const id = await (await jar.fetch(url)).text()
    expect(store.map.has(id)).toBe(true)
    const logout = await jar.fetch(`${url}/logout`)
    expect(await logout.text()).toBe('undefined')
    expect(sids(logout)).toHaveLength(1)
    expect(sids(logout)[0]).toMatch(/^sid=; Max-Age=0/)
    expect(store.map.has(id)).toBe(false)
    expect(jar.cookies.has('sid')).toBe(false)
  })

  it('destroy-then-write keeps the cookie: a write after destroy() starts a new session (needs core: Session.restart())', async () => {
    const getSession = nextSession<{ user?: string; flash?: string }>({ store: new MemoryStore() })
    const url = await start(async (req, res) => {
      const session = await getSession(req, res)
      if (req.url === '/login') session.user = 'ada'
      if (req.url === '/logout') {
        await session.destroy()
        const fresh = await getSession(req, res)
        fresh.flash = 'signed out'
      }
      res.end(JSON.stringify({ user: session.user ?? null, flash: session.flash ?? null }))
    })
    const jar = new Jar()
    await jar.fetch(`${url}/login`)
    const before = jar.cookies.get('sid')
    const logout = await jar.fetch(`${url}/logout`)
    expect(sids(logout)).toHaveLength(1) // one cookie for the name: the new session's, not a clearing one
    expect(sids(logout)[0]).not.toMatch(/Max-Age=0/)
    expect(jar.cookies.get('sid')).not.toBe(before)
    expect(await (await jar.fetch(url)).json()).toEqual({ user: null, flash: 'signed out' })
  })

  it('touch() without cookie.maxAge is valid: the server-side expiry moves, the cookie stays a session cookie', async () => {
    const store = new MemoryStore()
    const getSession = nextSession({ store })
    const url = await start(async (req, res) => {
      const session = await getSession(req, res)
      if (req.url === '/touch') session.touch()
      else session.user = 'ada'
      res.end(session.id)
    })
    const jar = new Jar()
    const id = await (await jar.fetch(url)).text()
    const before = (await store.get(id))!.expiresAt
    await sleep(20)
    const touched = await jar.fetch(`${url}/touch`)
    expect(touched.status).toBe(200)
    expect(sids(touched)).toHaveLength(1)
    expect(sids(touched)[0]).not.toMatch(/Max-Age|Expires/)
    expect((await store.get(id))!.expiresAt).toBeGreaterThan(before)
  })

  it('touchAfter (seconds): 0 touches on every request and re-sends the cookie; the default -1 never does', async () => {
    const every = nextSession({ store: new MemoryStore(), cookie: { maxAge: 3600 }, touchAfter: 0 })
    const never = nextSession({ store: new MemoryStore(), cookie: { maxAge: 3600 } })
    const urls = await Promise.all(
      [every, never].map((getSession) =>
        start(async (req, res) => {
          const session = await getSession(req, res)
          if (!session.user) session.user = 'ada'
          res.end('ok')
        }),
      ),
    )
    const [touching, fixed] = [new Jar(), new Jar()]
    await touching.fetch(urls[0]!)
    await fixed.fetch(urls[1]!)
    await sleep(1100)
    expect(sids(await touching.fetch(urls[0]!))[0]).toMatch(/Max-Age=3600/)
    expect(sids(await fixed.fetch(urls[1]!))).toHaveLength(0)
  })

  it('a store that fails rejects with SessionError STORE_ERROR: never a crash', async () => {
    const broken: SessionStore = {
      get: async () => Promise.reject(new Error('connection refused')),
      set: async () => {},
      destroy: async () => {},
    }
    const getSession = nextSession({ store: broken })
    const url = await start(async (req, res) => {
      try {
        await getSession(req, res)
        res.end('no error')
      } catch (error) {
        res.statusCode = 503
        res.end(`${(error as SessionError).name} ${(error as SessionError).code} ${((error as SessionError).cause as Error).message}`)
      }
    })
    const response = await new Jar().fetch(url, { headers: { cookie: 'sid=abcdefghijklmnopqrstu' } })
    expect(response.status).toBe(503)
    expect(await response.text()).toBe('SessionError STORE_ERROR connection refused')
  })

  it('a store write that fails during autoCommit answers 500, with no unhandled rejection', async () => {
    const unhandled = vi.fn()
    process.on('unhandledRejection', unhandled)
    try {
      const failing: SessionStore = {
        get: async () => null,
        set: async () => Promise.reject(new Error('disk full')),
        destroy: async () => {},
      }
      const getSession = nextSession({ store: failing })
      const url = await start(async (req, res) => {
        const session = await getSession(req, res)
        session.user = 'ada'
        res.end('saved?')
      })
      const response = await fetch(url)
      expect(response.status).toBe(500)
      expect(await response.text()).toBe('Session error: STORE_ERROR')
      await sleep(50)
      expect(unhandled).not.toHaveBeenCalled()
    } finally {
      process.off('unhandledRejection', unhandled)
    }
  })

  it('encode/decode transform the cookie value (needs core hook encode/decode)', async () => {
    const secret = 'keyboard cat'
    const options = {
      decode: (raw: string) => cookieSignature.unsign(raw.slice(2), secret) || null,
      encode: (sid: string) => (sid ? 's:' + cookieSignature.sign(sid, secret) : ''),
    }
    const store = new MemoryStore()
    const getSession = nextSession({ store, ...options })
    const url = await start(async (req, res) => {
      const session = await getSession(req, res)
      session.n = (session.n ?? 0) + 1
      res.end(`${session.id} ${session.n}`)
    })
    const jar = new Jar()
    const first = await jar.fetch(url)
    const [id] = (await first.text()).split(' ')
    expect(decodeURIComponent(valueOf(sids(first)[0]!))).toBe('s:' + cookieSignature.sign(id!, secret))
    expect(await (await jar.fetch(url)).text()).toBe(`${id} 2`)
    // A forged value decodes to null: a fresh session, never the victim's.
    const forged = await fetch(url, { headers: { cookie: `sid=s:${id}.forged` } })
    expect(await forged.text()).not.toContain(id!)

    // v3: "async function is also supported"
    const asyncOptions = { store, encode: async (sid: string) => options.encode(sid), decode: async (raw: string) => options.decode(raw) }
    const url3 = await start(async (req, res) => {
      await applySession(req, res, asyncOptions)
      const s = (req as unknown as { session: Record<string, number> }).session
      s.n = (s.n ?? 0) + 1
      res.end(String(s.n))
    })
    const jar3 = new Jar()
    await jar3.fetch(url3)
    expect(jar3.cookies.get('sid')).toMatch(/^s:/)
    expect(await (await jar3.fetch(url3)).text()).toBe('2')
  })
})

describe('stores', () => {
  it('takes a next-session store (promise get/set/destroy with sess.cookie) and keeps its shape', async () => {
    const store = recordingStore()
    const getSession = nextSession({ store, cookie: { maxAge: 3600 } })
    const url = await start(async (req, res) => {
      const session = await getSession(req, res)
      session.views = (session.views ?? 0) + 1
      res.end(session.id)
    })
    const jar = new Jar()
    const id = await (await jar.fetch(url)).text()
    await jar.fetch(url)
    const stored = JSON.parse(store.map.get(id)!)
    expect(stored.views).toBe(2)
    expect(Date.parse(stored.cookie.expires)).toBeGreaterThan(Date.now() + 3_500_000)
    expect(stored.cookie).toMatchObject({ path: '/', httpOnly: true })
  })

  it('takes an express-session store as it is, or through promisifyStore', async () => {
    for (const store of [new ExpressSession.MemoryStore(), promisifyStore(new ExpressSession.MemoryStore()), promisifyStore(new expressSession.MemoryStore())]) {
      const getSession = nextSession({ store: store as SessionStore })
      const url = await start(async (req, res) => {
        const session = await getSession(req, res)
        session.views = (session.views ?? 0) + 1
        res.end(String(session.views))
      })
      const jar = new Jar()
      await jar.fetch(url)
      expect(await (await jar.fetch(url)).text()).toBe('2')
    }
  })

  it('uses a Tessera store as it is (partial writes through patch)', async () => {
    const store = new MemoryStore()
    const patch = vi.spyOn(store, 'patch')
    const getSession = nextSession({ store })
    const url = await start(async (req, res) => {
      const session = await getSession(req, res)
      session[req.url!.slice(1) || 'first'] = true
      res.end('ok')
    })
    const jar = new Jar()
    await jar.fetch(url)
    await jar.fetch(`${url}/second`)
    expect(patch).toHaveBeenCalledTimes(1)
    expect(patch.mock.calls[0]![1]).toEqual({ set: { second: true }, unset: [] })
  })

  it('promisifyStore gives next-session’s promise contract', async () => {
    const promised = promisifyStore(new ExpressSession.MemoryStore())
    await promised.set('abcdefghijklmnopqrstu', { cookie: { path: '/', httpOnly: true, secure: false }, a: 1 } as never)
    expect(await promised.get('abcdefghijklmnopqrstu')).toMatchObject({ a: 1 })
    await promised.destroy('abcdefghijklmnopqrstu')
    expect(await promised.get('abcdefghijklmnopqrstu')).toBeFalsy()
    expect(() => promisifyStore({})).toThrow(TypeError)
  })

  it('expressSession stands in for express-session in store factories', () => {
    function FactoryStore(this: EventEmitter) {
      expressSession.Store.call(this as never)
    }
    const factory = (session: typeof expressSession) => {
      Object.setPrototypeOf(FactoryStore.prototype, session.Store.prototype)
      return FactoryStore
    }
    expect(typeof expressSession).toBe('function')
    expect(new expressSession.Store()).toBeInstanceOf(EventEmitter)
    expect(factory(expressSession).prototype).toBeInstanceOf(expressSession.Store)
  })

  testSessionStore('fromNextSessionStore(next-session MemoryStore)', () => fromNextSessionStore(new NextSessionMemoryStore()), { describe, it, capabilities: ['rotate'] })
  testSessionStore('fromNextSessionStore(promisifyStore(express-session MemoryStore))', () => fromNextSessionStore(promisifyStore(new ExpressSession.MemoryStore())), {
    describe,
    it,
    capabilities: ['rotate'],
  })
})

describe('users stay logged in: sessions made by the real next-session 4', () => {
  for (const [label, makeStore] of [
    ['a promisified express-session store', () => realPromisifyStore(new ExpressSession.MemoryStore())],
    ["next-session's own MemoryStore", () => new NextSessionMemoryStore()],
  ] as const) {
    it(`reads them with the same cookie and the same store (${label}), and the real one reads back`, async () => {
      const shared = makeStore()
      const real = realNextSession({ store: shared, cookie: { maxAge: 3600 } })
      const compat = nextSession({ store: shared as SessionStore, cookie: { maxAge: 3600 } })
      const handler =
        (getSession: (req: IncomingMessage, res: ServerResponse) => Promise<Record<string, any>>) =>
        async (req: IncomingMessage, res: ServerResponse) => {
          const session = await getSession(req, res)
          if (req.url === '/login') session.user = 'ada'
          else session.views = (session.views ?? 0) + 1
          res.end(JSON.stringify({ id: session.id, user: session.user ?? null, views: session.views ?? 0 }))
        }
      const realUrl = await start(handler(real))
      const compatUrl = await start(handler(compat))

      const jar = new Jar()
      const login = await (await jar.fetch(`${realUrl}/login`)).json()
      expect(jar.cookies.get('sid')).toBe(login.id) // next-session's own cookie: a 21-character nanoid

      const onTessera = await jar.fetch(compatUrl)
      expect(await onTessera.json()).toEqual({ id: login.id, user: 'ada', views: 1 })
      expect(sids(onTessera)).toHaveLength(0)
      expect(await (await jar.fetch(compatUrl)).json()).toEqual({ id: login.id, user: 'ada', views: 2 })

      // Rolling back works too: the real next-session reads what Tessera wrote.
      expect(await (await jar.fetch(realUrl)).json()).toEqual({ id: login.id, user: 'ada', views: 3 })
    })
  }

  it('reads cookies the real next-session encoded with encode/decode (needs core hook encode/decode)', async () => {
    const secret = 'keyboard cat'
    const codec = {
      decode: (raw: string) => cookieSignature.unsign(raw.slice(2), secret) || null,
      encode: (sid: string) => (sid ? 's:' + cookieSignature.sign(sid, secret) : ''),
    }
    const shared = new NextSessionMemoryStore()
    const realUrl = await start(async (req, res) => {
      const session = await realNextSession({ store: shared, ...(codec as object) })(req, res)
      session.user = 'ada'
      res.end('ok')
    })
    const getSession = nextSession({ store: shared as SessionStore, ...codec })
    const compatUrl = await start(async (req, res) => {
      res.end(String((await getSession(req, res)).user))
    })
    const jar = new Jar()
    await jar.fetch(realUrl)
    expect(await (await jar.fetch(compatUrl)).text()).toBe('ada')
  })
})

describe('next-session 3: session(), withSession(), applySession()', () => {
  it('session() is Connect/Express middleware setting req.session', async () => {
    const app = express()
    app.use(session({ store: new MemoryStore() }))
    app.get('/', (req, res) => {
      const s = (req as unknown as { session: Session<{ views?: number }> & { isNew: boolean } }).session
      const isNew = s.isNew
      s.views = s.views ? s.views + 1 : 1
      res.send(`${s.views} ${isNew} ${s.cookie.maxAge}`)
    })
    const url = await start(app)
    const jar = new Jar()
    expect(await (await jar.fetch(url)).text()).toBe('1 true null')
    expect(await (await jar.fetch(url)).text()).toBe('2 false null')
  })

  it('session(): a store failure goes to next(error) as a SessionError', async () => {
    const app = express()
    app.use(session({ store: { get: () => Promise.reject(new Error('down')), set: async () => {}, destroy: async () => {} } }))
    app.get('/', (_req, res) => res.send('unreachable'))
    app.use((error: SessionError, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(503).send(`${error.code}`)
    })
    const url = await start(app)
    const response = await fetch(url, { headers: { cookie: 'sid=abcdefghijklmnopqrstu' } })
    expect(response.status).toBe(503)
    expect(await response.text()).toBe('STORE_ERROR')
  })

  it('session(): while the store reports disconnect, requests pass without a session', async () => {
    const store = Object.assign(new EventEmitter(), recordingStore())
    const url = await start((() => {
      const middleware = session({ store })
      return (req: IncomingMessage, res: ServerResponse) =>
        middleware(req, res, () => res.end(String((req as { session?: unknown }).session !== undefined)))
    })())
    expect(await (await fetch(url)).text()).toBe('true')
    store.emit('disconnect')
    expect(await (await fetch(url)).text()).toBe('false')
    store.emit('connect')
    expect(await (await fetch(url)).text()).toBe('true')
  })

  it('withSession wraps an API route (req, res)', async () => {
    const options = { store: new MemoryStore() }
    const handler = withSession((req: IncomingMessage & { session?: any }, res: ServerResponse) => {
      req.session.views = req.session.views ? req.session.views + 1 : 1
      res.end(`In this session, you have visited this website ${req.session.views} time(s).`)
    }, options)
    const url = await start(handler)
    const jar = new Jar()
    await jar.fetch(url)
    expect(await (await jar.fetch(url)).text()).toBe('In this session, you have visited this website 2 time(s).')
  })

  it('withSession wraps getServerSideProps({ req, res }); applySession works there too', async () => {
    const options = { store: new MemoryStore() }
    const getServerSideProps = withSession(async ({ req }: { req: IncomingMessage & { session?: any }; res: ServerResponse }) => {
      req.session.views = req.session.views ? req.session.views + 1 : 1
      return { props: { views: req.session.views } }
    }, options)
    async function viaApply({ req, res }: { req: IncomingMessage & { session?: any }; res: ServerResponse }) {
      await applySession(req, res, options)
      const first = req.session
      await applySession(req, res, options) // a no-op: the session is there already
      expect(req.session).toBe(first)
      req.session.views = req.session.views ? req.session.views + 1 : 1
      return { props: { views: req.session.views } }
    }
    const url = await start(async (req, res) => {
      const result = req.url === '/apply' ? await viaApply({ req, res }) : await getServerSideProps({ req, res })
      res.end(JSON.stringify(result))
    })
    const jar = new Jar()
    expect(await (await jar.fetch(url)).json()).toEqual({ props: { views: 1 } })
    expect(await (await jar.fetch(`${url}/apply`)).json()).toEqual({ props: { views: 2 } })
  })

  it('withSession wraps a page: getInitialProps gets req.session on the server; rendering passes through', async () => {
    function Page({ views }: { views: number }) {
      return `views: ${views}`
    }
    Page.getInitialProps = ({ req }: { req?: IncomingMessage & { session?: any } }) => {
      let views
      if (req) {
        req.session.views = req.session.views ? req.session.views + 1 : 1
        views = req.session.views
      }
      return { views }
    }
    const Wrapped = withSession(Page, { store: new MemoryStore() })
    expect((Wrapped as { displayName?: string }).displayName).toBe('withSession(Page)')
    expect(Wrapped({ views: 7 })).toBe('views: 7')
    expect(await Wrapped.getInitialProps({})).toEqual({ views: undefined }) // client-side navigation
    const url = await start(async (req, res) => {
      const props = await Wrapped.getInitialProps({ req, res } as never)
      res.end(Wrapped(props as { views: number }))
    })
    const jar = new Jar()
    await jar.fetch(url)
    expect(await (await jar.fetch(url)).text()).toBe('views: 2')
  })

  it('rolling with touchAfter in milliseconds: the cookie is re-sent when touched; without rolling only the store moves', async () => {
    const store = new MemoryStore()
    const make = (rolling: boolean) =>
      start(async (req, res) => {
        await applySession(req, res, rolling ? rollingOptions : fixedOptions)
        const s = (req as unknown as { session: Record<string, unknown> & { id: string } }).session
        if (!s.user) s.user = 'ada'
        res.end(s.id)
      })
    const rollingOptions = { store, rolling: true, touchAfter: 500, cookie: { maxAge: 3600 } }
    const fixedOptions = { store, touchAfter: 500, cookie: { maxAge: 3600 } }
    const [rollingUrl, fixedUrl] = await Promise.all([make(true), make(false)])
    const [a, b] = [new Jar(), new Jar()]
    await a.fetch(rollingUrl)
    const id = await (await b.fetch(fixedUrl)).text()
    expect(sids(await a.fetch(rollingUrl))).toHaveLength(0) // within touchAfter
    const before = (await store.get(id))!.expiresAt
    await sleep(600)
    expect(sids(await a.fetch(rollingUrl))).toHaveLength(1)
    expect(sids(await b.fetch(fixedUrl))).toHaveLength(0)
    expect((await store.get(id))!.expiresAt).toBeGreaterThan(before)
  })
})

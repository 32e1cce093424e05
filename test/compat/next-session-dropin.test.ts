// tessera/compat/next-session as a drop-in (issue 14): next-session's leniency (stores, plain
// objects, ES5 connect stores, string expiries), its record shape in its stores so a server still
// on next-session reads (and touches) every session Tessera wrote, and Tessera's own stores
// recognised as such (issue 13).
import { EventEmitter } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { inherits } from 'node:util'
import realNextSession from 'next-session'
import { afterEach, describe, expect, it } from 'vitest'
import nextSession, { expressSession, MemoryStore, SessionError, session as v3Session, type SessionStore } from '../../src/compat/next-session.js'
import { fromConnectStore } from '../../src/connect.js'
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

const sids = (response: Response) => response.headers.getSetCookie().filter((line) => line.startsWith('sid='))

/** A next-session store over a Map of JSON strings, as most next-session stores keep sessions. */
function jsonStore() {
  const map = new Map<string, string>()
  return {
    map,
    async get(sid: string) {
      const json = map.get(sid)
      return json ? JSON.parse(json) : null
    },
    async set(sid: string, sess: unknown) {
      map.set(sid, JSON.stringify(sess))
    },
    async destroy(sid: string) {
      map.delete(sid)
    },
  }
}

describe('stores as next-session takes them', () => {
  it('a Tessera store without patch (fromConnectStore) is used as it is, not wrapped as a next-session store', async () => {
    const connect = new expressSession.MemoryStore()
    const getSession = nextSession({ store: fromConnectStore(connect) })
    const url = await start(async (req, res) => {
      const session = await getSession(req, res)
      session.views = ((session.views as number | undefined) ?? 0) + 1
      res.end(`${session.id} ${session.views}`)
    })
    const jar = new Jar()
    const [id] = (await (await jar.fetch(url)).text()).split(' ')
    expect(await (await jar.fetch(url)).text()).toBe(`${id} 2`)
    // What fromConnectStore writes (express-session's shape), once: not a Tessera record stored inside another.
    const stored = await new Promise<Record<string, any>>((resolve, reject) => connect.get(id!, (error, value) => (error ? reject(error) : resolve(value!))))
    expect(stored.views).toBe(2)
    expect(stored.cookie).toHaveProperty('originalMaxAge')
    expect(stored).not.toHaveProperty('data')
  })

  it('a store with only get and set works; destroy() fails with STORE_ERROR only when it is used', async () => {
    const { map, get, set } = jsonStore()
    const getSession = nextSession({ store: { get, set } as unknown as SessionStore })
    let destroyError: unknown
    const url = await start(async (req, res) => {
      const session = await getSession(req, res)
      if (req.url === '/logout') await session.destroy().catch((error: unknown) => (destroyError = error))
      else session.user = 'ada'
      res.end(String(session.user))
    })
    const jar = new Jar()
    await jar.fetch(url)
    expect(await (await jar.fetch(url)).text()).toBe('ada')
    expect(map.size).toBe(1)
    await jar.fetch(`${url}/logout`)
    expect(destroyError).toBeInstanceOf(SessionError)
    expect((destroyError as SessionError).code).toBe('STORE_ERROR')
    expect(String((destroyError as SessionError).cause)).toMatch(/no destroy\(\) method/)
  })

  it('session({ store }) takes a store without methods at all, as next-session does, and answers from req.session without asking it', async () => {
    const store = {} as SessionStore
    const middleware = v3Session({ store })
    const req = { headers: { cookie: 'sid=abc' }, session: undefined as unknown } as unknown as IncomingMessage & { session?: unknown }
    const getSession = nextSession({ store })
    const existing = { user: 'ada' }
    ;(req as { session?: unknown }).session = existing
    expect(await getSession(req, {} as ServerResponse)).toBe(existing)
    expect(typeof middleware).toBe('function')
  })

  it('a record whose cookie.expires came back as a string gives that expiry, as a Date', async () => {
    const expires = new Date(Date.now() + 60_000)
    const store = {
      get: async () => JSON.parse(JSON.stringify({ user: 'ada', cookie: { path: '/', httpOnly: true, secure: false, maxAge: 3600, expires } })),
      set: async () => {},
      destroy: async () => {},
    }
    // No cookie.maxAge here, as in next-session's own test: the record's expiry is still the session's.
    const getSession = nextSession({ store })
    const url = await start(async (req, res) => {
      const session = await getSession(req, res)
      const cookie = session.cookie
      res.end(JSON.stringify({ user: session.user, isDate: cookie.expires instanceof Date, at: cookie.expires!.getTime() }))
    })
    const response = await fetch(url, { headers: { cookie: 'sid=abcdefghijklmnopqrstu' } })
    expect(await response.json()).toEqual({ user: 'ada', isDate: true, at: expires.getTime() })
  })
})

describe('expressSession.Store for ES5 connect stores', () => {
  it('works as a function constructor called on the instance (Store.call(this, options)) and as a class base', () => {
    function Es5Store(this: EventEmitter & { ready?: boolean }, options: unknown) {
      expressSession.Store.call(this, options)
      this.ready = true
    }
    inherits(Es5Store, expressSession.Store as unknown as new () => EventEmitter)
    const es5 = new (Es5Store as unknown as new (options: unknown) => EventEmitter & { ready: boolean })({ ttl: 1 })
    expect(es5.ready).toBe(true)
    expect(es5).toBeInstanceOf(expressSession.Store)
    expect(es5).toBeInstanceOf(EventEmitter)
    let heard = 0
    es5.on('connect', () => heard++)
    es5.emit('connect')
    expect(heard).toBe(1)

    class ClassStore extends expressSession.Store {}
    expect(new ClassStore()).toBeInstanceOf(EventEmitter)
    expect(new expressSession.MemoryStore()).toBeInstanceOf(expressSession.Store)
    // A plain object as `this` (no prototype chain set up) is initialised, not refused.
    expect(() => expressSession.Store.call({})).not.toThrow()
  })
})

describe('plain objects as req and res', () => {
  it('({}, {}) gives a session with the cookie options, and no error', async () => {
    const session = await nextSession({ cookie: { httpOnly: false } })({} as IncomingMessage, {} as ServerResponse)
    expect(session.cookie.httpOnly).toBe(false)
    session.views = 1
    expect(session.views).toBe(1)
  })

  it('leaves a plain response’s writeHead and end as they are; commit() still saves', async () => {
    const { map, get, set, destroy } = jsonStore()
    const writeHead = function (this: unknown) {
      return this
    }
    const end = () => undefined
    const res = { writeHead, end }
    const session = await nextSession({ store: { get, set, destroy } })({ headers: {} } as IncomingMessage, res as unknown as ServerResponse)
    expect(res.writeHead).toBe(writeHead)
    expect(res.end).toBe(end)
    session.user = 'ada'
    await session.commit()
    expect(JSON.parse(map.get(session.id)!).user).toBe('ada')
  })
})

describe('next-session’s record shape, so a server still on next-session reads and touches it', () => {
  it('writes the data keys and next-session’s cookie: path, httpOnly, secure, maxAge (seconds) and expires', async () => {
    const { map, get, set, destroy } = jsonStore()
    const getSession = nextSession({ store: { get, set, destroy }, cookie: { maxAge: 3600 } })
    const url = await start(async (req, res) => {
      const session = await getSession(req, res)
      session.user = 'ada'
      res.end(session.id)
    })
    const id = await (await fetch(url)).text()
    const stored = JSON.parse(map.get(id)!)
    expect(Object.keys(stored)).toEqual(['user', 'cookie'])
    expect(stored.cookie).toMatchObject({ path: '/', httpOnly: true, secure: false, maxAge: 3600 })
    expect(Date.parse(stored.cookie.expires) - Date.now()).toBeGreaterThan(3_590_000)
  })

  it('the real next-session touches a session Tessera wrote (touchAfter), and Tessera reads it back', async () => {
    const shared = new NextSessionMemoryStore()
    const compat = nextSession({ store: shared as SessionStore, cookie: { maxAge: 3600 } })
    const real = realNextSession({ store: shared, cookie: { maxAge: 3600 }, touchAfter: 0 })
    const handler = (getSession: (req: IncomingMessage, res: ServerResponse) => Promise<Record<string, any>>) => async (req: IncomingMessage, res: ServerResponse) => {
      const session = await getSession(req, res)
      if (req.url === '/login') session.user = 'ada'
      res.end(String(session.user))
    }
    const compatUrl = await start(handler(compat))
    const realUrl = await start(handler(real))
    const jar = new Jar()
    await jar.fetch(`${compatUrl}/login`)
    const touched = await jar.fetch(realUrl)
    expect(touched.status).toBe(200)
    expect(await touched.text()).toBe('ada')
    // next-session re-sent its cookie with a valid expiry, computed from the record's maxAge.
    const [line] = sids(touched)
    expect(Date.parse(/Expires=([^;]+)/.exec(line!)![1]!) - Date.now()).toBeGreaterThan(3_590_000)
    expect(await (await jar.fetch(compatUrl)).text()).toBe('ada')
  })
})

describe('session.cookie.secure', () => {
  it('is what the core puts on the cookie: SameSite=None forces Secure even over plain HTTP', async () => {
    const getSession = nextSession({ store: new MemoryStore(), cookie: { sameSite: 'none' } })
    const url = await start(async (req, res) => {
      const session = await getSession(req, res)
      session.user = 'ada'
      res.end(String(session.cookie.secure))
    })
    const response = await fetch(url)
    expect(sids(response)[0]).toMatch(/; Secure/)
    expect(await response.text()).toBe('true')
  })
})

// tessera/compat/iron-session: iron-session 8's three call forms and 6's wrappers as their guides
// use them, on real node:http and Express servers and Web Request/Response, plus users staying
// logged in across the switch from the real iron-session package (same cookie, same data).
import type { IncomingMessage, ServerResponse } from 'node:http'
import express from 'express'
import * as realIron from 'iron-session'
import { afterEach, describe, expect, it } from 'vitest'
import {
  getIronSession,
  ironSession,
  sealData,
  unsealData,
  withIronSessionApiRoute,
  withIronSessionSsr,
  type SessionOptions,
} from '../../src/compat/iron-session.js'
import { createSessions } from '../../src/index.js'
import { CookieStore } from '../../src/stores/cookie-store.js'
import { FakeCookieStore } from '../core/support.js'
import { Jar, serve, type Running } from '../helpers.js'

const password = 'complex_password_at_least_32_characters_long'
type User = { user?: { id: number; name: string } }

const running: Running[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()))
})

async function start(handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>): Promise<string> {
  const server = await serve(handler)
  running.push(server)
  return server.url
}

const lines = (response: Response, name: string) => response.headers.getSetCookie().filter((line) => line.startsWith(`${name}=`))
const valueOf = (line: string) => line.split(';')[0]!.slice(line.indexOf('=') + 1)

/** A server that logs in on /login, logs out on /logout, and answers the session as JSON. */
function app(get: (req: IncomingMessage, res: ServerResponse) => Promise<User & { save(): Promise<void>; destroy(): unknown }>) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const session = await get(req, res)
    if (req.url === '/login') {
      session.user = { id: 1, name: 'Alice' }
      await session.save()
    } else if (req.url === '/logout') {
      await session.destroy()
    }
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ ...session }))
  }
}

describe('getIronSession (v8)', () => {
  const sessionOptions: SessionOptions = {
    cookieName: 'session',
    password,
    cookieOptions: { httpOnly: true, maxAge: 1800, path: '/', sameSite: 'lax', secure: false },
  }

  it('(req, res, options): logs in with save(), stays logged in, logs out with destroy()', async () => {
    const url = await start(app((req, res) => getIronSession<User>(req, res, sessionOptions)))
    const jar = new Jar()
    expect(await (await jar.fetch(`${url}/`)).json()).toEqual({})
    expect(jar.cookies.size).toBe(0) // reading an empty session sets no cookie

    const login = await jar.fetch(`${url}/login`)
    expect(await login.json()).toEqual({ user: { id: 1, name: 'Alice' } })
    const [line] = lines(login, 'session')
    expect(line).toMatch(/Max-Age=1800/)
    expect(line).toMatch(/HttpOnly/)
    expect(line).toMatch(/SameSite=Lax/)
    expect(line).toMatch(/Path=\//)
    expect(line).not.toMatch(/Secure/)
    expect(valueOf(line!)).toMatch(/^Fe26\.2\*1\*.*~2$/) // iron-session's seal, by default

    expect(await (await jar.fetch(`${url}/`)).json()).toEqual({ user: { id: 1, name: 'Alice' } })
    const logout = await jar.fetch(`${url}/logout`)
    expect(await logout.json()).toEqual({})
    expect(lines(logout, 'session')[0]).toMatch(/Max-Age=0/)
    expect(await (await jar.fetch(`${url}/`)).json()).toEqual({})
  })

  it('destroy() then save(): the old data is gone, the new data kept (log out, then flash a message)', async () => {
    const url = await start(async (req, res) => {
      const session = await getIronSession<User & { flash?: string }>(req, res, sessionOptions)
      if (req.url === '/login') {
        session.user = { id: 1, name: 'Alice' }
        await session.save()
      } else if (req.url === '/logout') {
        await session.destroy()
        session.flash = 'bye'
        await session.save()
      }
      res.end(JSON.stringify({ ...session }))
    })
    const jar = new Jar()
    await jar.fetch(`${url}/login`)
    expect(await (await jar.fetch(`${url}/logout`)).json()).toEqual({ flash: 'bye' })
    expect(await (await jar.fetch(`${url}/`)).json()).toEqual({ flash: 'bye' })
  })

  it("destroy() without await (iron-session's was synchronous) still clears the cookie on node:http", async () => {
    const url = await start(async (req, res) => {
      const session = await getIronSession<User>(req, res, sessionOptions)
      if (req.url === '/login') {
        session.user = { id: 1, name: 'Alice' }
        await session.save()
      } else {
        void session.destroy()
      }
      res.end('ok')
    })
    const jar = new Jar()
    await jar.fetch(`${url}/login`)
    expect(jar.cookies.has('session')).toBe(true)
    await jar.fetch(`${url}/logout`)
    expect(jar.cookies.has('session')).toBe(false)
  })

  it('save() with no change re-seals and moves the expiry; a read alone sends nothing', async () => {
    const first = new Response('ok')
    const session = await getIronSession<User>(new Request('https://example.com/'), first, sessionOptions)
    session.user = { id: 1, name: 'Alice' }
    await session.save()
    const cookie = first.headers.getSetCookie()[0]!.split(';')[0]!
    const read = new Response('ok')
    await getIronSession<User>(new Request('https://example.com/', { headers: { cookie } }), read, sessionOptions)
    expect(read.headers.getSetCookie()).toEqual([])
    const saved = new Response('ok')
    const again = await getIronSession<User>(new Request('https://example.com/', { headers: { cookie } }), saved, sessionOptions)
    await again.save()
    const [line] = saved.headers.getSetCookie()
    expect(line).toMatch(/^session=Fe26\.2\*.*Max-Age=1800/)
    expect(line!.split(';')[0]).not.toBe(cookie)
  })

  it('changes without save() are not kept, as in iron-session', async () => {
    const url = await start(app(async (req, res) => {
      const session = await getIronSession<User & { views?: number }>(req, res, sessionOptions)
      session.views = 1
      return session
    }))
    const jar = new Jar()
    await jar.fetch(`${url}/`)
    expect(jar.cookies.size).toBe(0)
  })

  it('(await cookies(), options): the App Router form', async () => {
    const first = new FakeCookieStore()
    const session = await getIronSession<User>(first, sessionOptions)
    expect({ ...session }).toEqual({})
    session.user = { id: 2, name: 'Bob' }
    await session.save()
    const write = first.writes.at(-1)!
    expect(write.name).toBe('session')
    expect(write.options).toMatchObject({ maxAge: 1800, httpOnly: true, path: '/', sameSite: 'lax' })

    const second = new FakeCookieStore(first.pairs())
    const again = await getIronSession<User>(second, sessionOptions)
    expect(again.user).toEqual({ id: 2, name: 'Bob' })
    await again.destroy()
    expect(second.jar.has('session')).toBe(false)
    expect({ ...again }).toEqual({})
  })

  it('(request, response, options): middleware with Web objects', async () => {
    const response = new Response('ok')
    const session = await getIronSession<User>(new Request('https://example.com/'), response, sessionOptions)
    session.user = { id: 3, name: 'Carol' }
    await session.save()
    const cookie = response.headers.getSetCookie()[0]!.split(';')[0]!

    const next = new Response('ok')
    const again = await getIronSession<User>(new Request('https://example.com/', { headers: { cookie } }), next, sessionOptions)
    expect(again.user).toEqual({ id: 3, name: 'Carol' })
    expect(Object.keys(again)).toEqual(['user'])
    expect(JSON.stringify(again)).toBe('{"user":{"id":3,"name":"Carol"}}')
    expect('save' in again && typeof again.save).toBe('function')
  })

  it('a tampered, foreign or garbage cookie gives an empty session, never an exception', async () => {
    const response = new Response('ok')
    const session = await getIronSession<User>(new Request('https://example.com/'), response, sessionOptions)
    session.user = { id: 1, name: 'Alice' }
    await session.save()
    const value = valueOf(response.headers.getSetCookie()[0]!)
    const tampered = value.slice(0, -4) + (value.endsWith('AAAA') ? 'BBBB' : 'AAAA')
    const foreign = await realIron.sealData({ user: { id: 9 } }, { password: 'another_password_at_least_32_characters!' })
    for (const cookie of [tampered, foreign, 'Fe26.2*1*garbage', 'not-a-seal', '']) {
      const request = new Request('https://example.com/', { headers: { cookie: `session=${cookie}` } })
      const opened = await getIronSession<User>(request, new Response('ok'), sessionOptions)
      expect({ ...opened }).toEqual({})
    }
  })

  it('updateConfig() applies to the next save (a longer ttl for "remember me")', async () => {
    const response = new Response('ok')
    const session = await getIronSession<User>(new Request('https://example.com/'), response, sessionOptions)
    session.user = { id: 1, name: 'Alice' }
    session.updateConfig({ cookieName: 'session', password, ttl: 30 * 86400 })
    await session.save()
    const [line] = response.headers.getSetCookie()
    expect(line).toMatch(/Max-Age=2591940/) // ttl − 60 s, as iron-session
    const cookie = line!.split(';')[0]!
    const again = await getIronSession<User>(new Request('https://example.com/', { headers: { cookie } }), new Response(''), sessionOptions)
    expect(again.user).toEqual({ id: 1, name: 'Alice' })
  })

  it("iron-session's defaults: 14 days − 60 s, HttpOnly, Secure, Lax, Path=/; maxAge: undefined is a browser-session cookie", async () => {
    const response = new Response('ok')
    const session = await getIronSession<User>(new Request('https://example.com/'), response, { cookieName: 'd', password })
    session.user = { id: 1, name: 'A' }
    await session.save()
    const [line] = response.headers.getSetCookie()
    expect(line).toMatch(/^d=Fe26\.2\*[^;]+; Max-Age=1209540; Path=\/; HttpOnly; Secure; SameSite=Lax$/) // 14 days − 60 s; Secure always, as iron-session

    const browserSession = new Response('ok')
    const other = await getIronSession<User>(new Request('https://example.com/'), browserSession, { cookieName: 'b', password, cookieOptions: { maxAge: undefined } })
    other.user = { id: 1, name: 'A' }
    await other.save()
    expect(browserSession.headers.getSetCookie()[0]).not.toMatch(/Max-Age|Expires/)
  })

  it('bad usage throws as iron-session does', async () => {
    const request = new Request('https://example.com/')
    await expect(getIronSession(request, new Response(''), { cookieName: 'x', password: 'short' })).rejects.toThrow(/at least 32 characters/)
    await expect(getIronSession(request, new Response(''), { cookieName: '', password })).rejects.toThrow(/Missing cookie name/)
    await expect(getIronSession(request, undefined as never, undefined as never)).rejects.toThrow(/Bad usage/)
  })

  it('a { id: password } map: the highest id seals, older ids still open', async () => {
    const old = 'old_password_at_least_32_characters_long!!'
    const response = new Response('ok')
    const before = await getIronSession<User>(new Request('https://example.com/'), response, { cookieName: 'r', password: { 1: old } })
    before.user = { id: 1, name: 'A' }
    await before.save()
    const cookie = response.headers.getSetCookie()[0]!.split(';')[0]!
    const rotated = { cookieName: 'r', password: { 1: old, 2: password } }
    const after = await getIronSession<User>(new Request('https://example.com/', { headers: { cookie } }), new Response(''), rotated)
    expect(after.user).toEqual({ id: 1, name: 'A' })
    const dropped = await getIronSession<User>(new Request('https://example.com/', { headers: { cookie } }), new Response(''), { cookieName: 'r', password: { 2: password } })
    expect({ ...dropped }).toEqual({})
  })
})

describe('sealData / unsealData', () => {
  it('round-trips, and interoperates with the real iron-session both ways', async () => {
    const data = { user: { id: 1, name: 'Alice' } }
    const ours = await sealData(data, { password })
    expect(ours).toMatch(/^Fe26\.2\*1\*.*~2$/)
    expect(await unsealData(ours, { password })).toEqual(data)
    expect(await realIron.unsealData(ours, { password })).toEqual(data)
    const theirs = await realIron.sealData(data, { password, ttl: 60 })
    expect(await unsealData(theirs, { password })).toEqual(data)
  })

  it('anything that does not open is {}, never an exception', async () => {
    const seal = await sealData({ a: 1 }, { password, ttl: 1 })
    expect(await unsealData(seal, { password: 'another_password_at_least_32_characters!' })).toEqual({})
    expect(await unsealData(seal.replace('*1*', '*7*'), { password: { 1: password } })).toEqual({})
    expect(await unsealData('garbage', { password })).toEqual({})
  })

  it('an older seal without the ~2 version reads as { ...persistent }, as iron-session 8 reads it', async () => {
    const v6 = (await realIron.sealData({ persistent: { a: 1 }, other: 2 }, { password })).replace(/~2$/, '')
    expect(await unsealData(v6, { password })).toEqual({ a: 1 })
    expect(await unsealData(v6, { password })).toEqual(await realIron.unsealData(v6, { password }))
  })
})

describe('users stay logged in: cookies from the real iron-session', () => {
  const options: SessionOptions = { cookieName: 'myapp_session', password, cookieOptions: { secure: false } }

  it('a cookie set by real getIronSession on node:http opens here with the same data, and is re-sealed as iron-session seals', async () => {
    const before = await start(app((req, res) => realIron.getIronSession<User>(req, res, options) as never))
    const after = await start(app((req, res) => getIronSession<User>(req, res, options)))
    const jar = new Jar()
    await jar.fetch(`${before}/login`)
    expect(jar.cookies.get('myapp_session')).toMatch(/^Fe26\.2\*/)

    expect(await (await jar.fetch(`${after}/`)).json()).toEqual({ user: { id: 1, name: 'Alice' } })
    expect(jar.cookies.get('myapp_session')).toMatch(/^Fe26\.2\*/) // a read writes nothing
    const saved = await jar.fetch(`${after}/login`)
    expect(await saved.json()).toEqual({ user: { id: 1, name: 'Alice' } })
    expect(jar.cookies.get('myapp_session')).toMatch(/^Fe26\.2\*1\*.*~2$/)
    expect(await (await jar.fetch(`${after}/`)).json()).toEqual({ user: { id: 1, name: 'Alice' } })
    // A rollback: the real iron-session opens what this entry sealed.
    expect(await (await jar.fetch(`${before}/`)).json()).toEqual({ user: { id: 1, name: 'Alice' } })
  })

  it('a v6-style seal ({ persistent }) opens too', async () => {
    const cookie = await realIron.sealData({ persistent: { user: { id: 6, name: 'Six' } } }, { password })
    const v6 = cookie.replace(/~2$/, '')
    const request = new Request('https://example.com/', { headers: { cookie: `myapp_session=${v6}` } })
    const session = await getIronSession<User>(request, new Response(''), options)
    expect(session.user).toEqual({ id: 6, name: 'Six' })
  })

  it("sealFormat: 'iron' writes cookies the real iron-session opens (gradual rollout)", async () => {
    const rollout: SessionOptions = { ...options, sealFormat: 'iron' }
    const ours = await start(app((req, res) => getIronSession<User>(req, res, rollout)))
    const theirs = await start(app((req, res) => realIron.getIronSession<User>(req, res, options) as never))
    const jar = new Jar()
    await jar.fetch(`${ours}/login`)
    expect(jar.cookies.get('myapp_session')).toMatch(/^Fe26\.2\*1\*.*~2$/)
    expect(await (await jar.fetch(`${theirs}/`)).json()).toEqual({ user: { id: 1, name: 'Alice' } })
    expect(await (await jar.fetch(`${ours}/`)).json()).toEqual({ user: { id: 1, name: 'Alice' } })
    await jar.fetch(`${ours}/logout`)
    expect(jar.cookies.has('myapp_session')).toBe(false)
  })
})

describe('wire compatibility (v8): what iron-session writes, by default', () => {
  const line = async (sessionOptions: SessionOptions) => {
    const response = new Response('ok')
    const session = await getIronSession<User>(new Request('https://example.com/'), response, sessionOptions)
    session.user = { id: 1, name: 'A' }
    await session.save()
    return response.headers.getSetCookie()[0]!
  }

  it('Max-Age is ttl − 60 s (the browser drops the cookie before the seal expires); a ttl ≤ 60 s stays whole', async () => {
    expect(await line({ cookieName: 'a', password, ttl: 3600 })).toMatch(/; Max-Age=3540;/)
    expect(await line({ cookieName: 'a', password, ttl: 30 })).toMatch(/; Max-Age=30;/)
    expect(await line({ cookieName: 'a', password, ttl: 0 })).toMatch(/; Max-Age=2147483647;/)
    // An explicit maxAge is the cookie's own (the seal keeps its ttl), but the cookie never outlives the seal.
    expect(await line({ cookieName: 'a', password, cookieOptions: { maxAge: 60 } })).toMatch(/; Max-Age=60;/)
    expect(await line({ cookieName: 'a', password, ttl: 600, cookieOptions: { maxAge: 9000 } })).toMatch(/; Max-Age=600;/)
  })

  it("the real iron-session 8 opens a cookie saved here, and a seal expires as iron's does (60 s of skew)", async () => {
    const value = valueOf(await line({ cookieName: 'a', password, ttl: 120 }))
    expect(await realIron.unsealData(value, { password })).toEqual({ user: { id: 1, name: 'A' } })
    const now = Date.now
    try {
      Date.now = () => now() + 150_000 // past ttl, within the skew: both still open it
      expect(await realIron.unsealData(value, { password })).toEqual({ user: { id: 1, name: 'A' } })
      const request = new Request('https://example.com/', { headers: { cookie: `a=${value}` } })
      expect((await getIronSession<User>(request, new Response(''), { cookieName: 'a', password, ttl: 120 })).user).toEqual({ id: 1, name: 'A' })
      Date.now = () => now() + 181_000 // past ttl + 60 s: neither does
      expect(await realIron.unsealData(value, { password })).toEqual({})
      expect({ ...(await getIronSession<User>(request, new Response(''), { cookieName: 'a', password, ttl: 120 })) }).toEqual({})
    } finally {
      Date.now = now
    }
  })

  it("sealFormat: 'tessera' is the opt-in to Tessera's seal; either format is read whatever the setting", async () => {
    const tessera = valueOf(await line({ cookieName: 'a', password, sealFormat: 'tessera' }))
    expect(tessera).toMatch(/^t2\./)
    const iron = valueOf(await line({ cookieName: 'a', password }))
    for (const [value, format] of [[tessera, 'iron'], [iron, 'tessera']] as const) {
      const request = new Request('https://example.com/', { headers: { cookie: `a=${value}` } })
      expect((await getIronSession<User>(request, new Response(''), { cookieName: 'a', password, sealFormat: format })).user).toEqual({ id: 1, name: 'A' })
    }
  })

  it('a session past one cookie fails save() as iron-session 8 does, and sends nothing', async () => {
    const response = new Response('ok')
    const session = await getIronSession<User & { blob?: string }>(new Request('https://example.com/'), response, { cookieName: 'a', password })
    session.blob = 'x'.repeat(3000)
    await expect(session.save()).rejects.toThrow(/^iron-session: Cookie length is too big/)
    expect(response.headers.getSetCookie()).toEqual([])
  })

  it('destroy() not awaited, then new data and save(): the new data is kept (log out, then flash a message)', async () => {
    const response = new Response('ok')
    const cookie = `a=${valueOf(await line({ cookieName: 'a', password }))}`
    const session = await getIronSession<User & { flash?: string }>(new Request('https://example.com/', { headers: { cookie } }), response, { cookieName: 'a', password })
    void session.destroy()
    expect(response.headers.getSetCookie()).toEqual(['a=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax'])
    session.flash = 'bye'
    await session.save()
    const [saved] = response.headers.getSetCookie()
    expect(await realIron.unsealData(valueOf(saved!), { password })).toEqual({ flash: 'bye' })
  })
})

describe('moving on to the native API', () => {
  it('createSessions({ secrets: password, store: new CookieStore({ iron: { password } }) }) opens what this entry sealed', async () => {
    const options: SessionOptions = { cookieName: 'myapp_session', password: { 1: 'old_password_at_least_32_characters_long!!', 2: password } }
    const response = new Response('ok')
    const session = await getIronSession<User>(new Request('https://example.com/'), response, options)
    session.user = { id: 1, name: 'Alice' }
    await session.save()
    const cookie = response.headers.getSetCookie()[0]!.split(';')[0]!

    const sessions = createSessions<User>({
      name: 'myapp_session',
      secrets: [password, 'old_password_at_least_32_characters_long!!'],
      store: new CookieStore({ iron: { password: options.password } }),
    })
    const native = await sessions.get(new Request('https://example.com/', { headers: { cookie } }))
    expect(native.isNew).toBe(false)
    expect(native.data.user).toEqual({ id: 1, name: 'Alice' })
  })
})

describe('iron-session 6 wrappers', () => {
  const sessionOptions: SessionOptions = {
    password,
    cookieName: 'nextjs_session',
    cookieOptions: { secure: process.env.NODE_ENV === 'production' },
  }

  it('withIronSessionApiRoute: the guide’s POST/GET handler', async () => {
    type Req = IncomingMessage & { session: User & { save(): Promise<void> }; body?: { user: User['user'] } }
    async function handler(req: Req, res: ServerResponse) {
      if (req.method === 'POST') {
        const chunks: Buffer[] = []
        for await (const chunk of req) chunks.push(chunk as Buffer)
        const { user } = JSON.parse(Buffer.concat(chunks).toString()) as { user: User['user'] }
        req.session.user = user
        await req.session.save()
        res.end(JSON.stringify({ message: 'Session saved' }))
      } else if (req.method === 'GET') {
        res.end(JSON.stringify({ user: req.session.user || null }))
      } else {
        res.statusCode = 405
        res.end()
      }
    }
    const url = await start(withIronSessionApiRoute(handler, sessionOptions) as never)
    const jar = new Jar()
    expect(await (await jar.fetch(url)).json()).toEqual({ user: null })
    const post = await jar.fetch(url, { method: 'POST', body: JSON.stringify({ user: { id: 1, name: 'Alice' } }) })
    expect(await post.json()).toEqual({ message: 'Session saved' })
    expect(await (await jar.fetch(url)).json()).toEqual({ user: { id: 1, name: 'Alice' } })
    expect((await jar.fetch(url, { method: 'PUT' })).status).toBe(405)
  })

  it('withIronSessionSsr: context.req.session in getServerSideProps', async () => {
    const getServerSideProps = withIronSessionSsr(async ({ req }: { req: IncomingMessage & { session: User }; res: ServerResponse }) => {
      return { props: { user: req.session.user ?? null } }
    }, sessionOptions)
    const login = withIronSessionApiRoute(async (req: IncomingMessage & { session: User & { save(): Promise<void> } }, res: ServerResponse) => {
      req.session.user = { id: 1, name: 'Alice' }
      await req.session.save()
      res.end('ok')
    }, sessionOptions)
    const url = await start(async (req, res) => {
      if (req.url === '/login') return login(req as never, res)
      const result = await getServerSideProps({ req: req as never, res })
      res.end(JSON.stringify(result))
    })
    const jar = new Jar()
    expect(await (await jar.fetch(`${url}/page`)).json()).toEqual({ props: { user: null } })
    await jar.fetch(`${url}/login`)
    expect(await (await jar.fetch(`${url}/page`)).json()).toEqual({ props: { user: { id: 1, name: 'Alice' } } })
  })

  it('options as a function of the request, computed per request; iron-session 6 defaults (15 days)', async () => {
    const seen: string[] = []
    const handler = withIronSessionApiRoute(
      async (req: IncomingMessage & { session: User & { save(): Promise<void> } }, res: ServerResponse) => {
        req.session.user = { id: 1, name: 'Alice' }
        await req.session.save()
        res.end('ok')
      },
      (req: IncomingMessage) => {
        seen.push(req.url!)
        return req.url === '/short' ? { ...sessionOptions, cookieName: 'short', ttl: 600 } : sessionOptions
      },
    )
    const url = await start(handler as never)
    const short = await fetch(`${url}/short`)
    expect(short.headers.getSetCookie()[0]).toMatch(/^short=Fe26\.2[^;]*; Max-Age=540;/)
    const long = await fetch(`${url}/long`)
    expect(long.headers.getSetCookie()[0]).toMatch(/^nextjs_session=Fe26\.2[^;]*; Max-Age=1295940;/)
    expect(seen).toEqual(['/short', '/long'])
  })

  it('req.session can be replaced: the data changes, save() and destroy() stay', async () => {
    const url = await start(withIronSessionApiRoute(async (req: IncomingMessage & { session: Record<string, unknown> & { save(): Promise<void> } }, res: ServerResponse) => {
      req.session.user = { id: 1, name: 'Alice' }
      req.session = { ...req.session, admin: true } as never
      await req.session.save()
      res.end(JSON.stringify({ ...req.session }))
    }, sessionOptions) as never)
    const response = await fetch(url)
    expect(await response.json()).toEqual({ user: { id: 1, name: 'Alice' }, admin: true })
    expect(await realIron.unsealData(valueOf(response.headers.getSetCookie()[0]!), { password })).toEqual({ user: { id: 1, name: 'Alice' }, admin: true })
  })

  it('ironSession(options): Express middleware with req.session.save() and destroy()', async () => {
    const server = express()
    server.use(ironSession(sessionOptions))
    type Req = express.Request & { session: User & { save(): Promise<void>; destroy(): Promise<void> } }
    server.get('/login', async (req, res) => {
      ;(req as Req).session.user = { id: 1, name: 'Alice' }
      await (req as Req).session.save()
      res.send('ok')
    })
    server.get('/logout', async (req, res) => {
      await (req as Req).session.destroy()
      res.send('bye')
    })
    server.get('/', (req, res) => {
      res.json({ user: (req as Req).session.user ?? null })
    })
    const url = await start(server as never)
    const jar = new Jar()
    await jar.fetch(`${url}/login`)
    expect(await (await jar.fetch(`${url}/`)).json()).toEqual({ user: { id: 1, name: 'Alice' } })
    await jar.fetch(`${url}/logout`)
    expect(await (await jar.fetch(`${url}/`)).json()).toEqual({ user: null })
  })
})

// tessera/compat/iron-session/v9: what iron-session 9's README and MIGRATION.md describe, on any
// Node Tessera supports (the interop with the real iron-session 9 is test/node22/).
import type { IncomingMessage, ServerResponse } from 'node:http'
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest'
import {
  getIronSession,
  nextProxyCookies,
  nodeCookies,
  sealData,
  unsealData,
  webCookies,
  type CookieJar,
  type SessionOptions,
  type UnsealErrorReason,
} from '../../src/compat/iron-session-v9.js'
import { sealData as sealV8 } from '../../src/compat/iron-session.js'
import { ironSeal } from '../../src/core/iron.js'
import { Jar, serve, type Running } from '../helpers.js'

const password = 'complex_password_at_least_32_characters_long'
const options: SessionOptions = { cookieName: 'app', password }
type User = { user: { id: number; name: string }; lastSeen?: number }

const running: Running[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()))
})

const request = (cookie?: string) => new Request('https://example.com/', cookie ? { headers: { cookie } } : {})
const pairOf = (line: string) => line.split(';')[0]!

/** A { read, write } jar over a Map, recording what was written. */
function mapJar(cookies = new Map<string, string>()): CookieJar & { cookies: Map<string, string>; writes: { name: string; value: string; maxAge?: number }[] } {
  const writes: { name: string; value: string; maxAge?: number }[] = []
  return {
    cookies,
    writes,
    read: (name) => cookies.get(name),
    write: (name, value, cookieOptions) => {
      writes.push({ name, value, maxAge: cookieOptions.maxAge })
      if (cookieOptions.maxAge === 0) cookies.delete(name)
      else cookies.set(name, value)
    },
  }
}

describe('getIronSession (v9)', () => {
  it('reads are typed Partial<T>: a first visit is an empty object', async () => {
    const session = await getIronSession<User>(mapJar(), options)
    expectTypeOf(session.user).toEqualTypeOf<User['user'] | undefined>()
    expect({ ...session }).toEqual({})
  })

  it('nodeCookies(req, res) on node:http: log in, stay logged in, log out', async () => {
    const server = await serve(async (req: IncomingMessage, res: ServerResponse) => {
      const session = await getIronSession<User>(nodeCookies(req, res), { ...options, cookieOptions: { secure: false } })
      if (req.url === '/login') {
        session.user = { id: 1, name: 'Alice' }
        await session.save()
      } else if (req.url === '/logout') {
        session.destroy()
      }
      res.end(JSON.stringify({ ...session }))
    })
    running.push(server)
    const jar = new Jar()
    await jar.fetch(`${server.url}/login`)
    expect(await (await jar.fetch(`${server.url}/`)).json()).toEqual({ user: { id: 1, name: 'Alice' } })
    await jar.fetch(`${server.url}/logout`)
    expect(jar.cookies.size).toBe(0)
  })

  it('webCookies(request, headers) and a { read, write } jar', async () => {
    const headers = new Headers()
    const session = await getIronSession<User>(webCookies(request(), headers), options)
    session.user = { id: 2, name: 'Bob' }
    await session.save()
    const [line] = headers.getSetCookie()
    expect(line).toMatch(/^app=Fe26\.2\*1\*[^;]+~2; Max-Age=1209540; Path=\/; HttpOnly; Secure; SameSite=Lax$/)

    const jar = mapJar(new Map([['app', pairOf(line!).slice(4)]]))
    const again = await getIronSession<User>(jar, options)
    expect(again.user).toEqual({ id: 2, name: 'Bob' })
  })

  it('nextProxyCookies(request, response) writes through response.cookies and request.cookies (proxy.ts)', async () => {
    const requestCookies = new Map<string, string>()
    const responseCookies: { name: string; value: string; options?: Record<string, unknown> }[] = []
    const nextRequest = {
      cookies: {
        get: (name: string) => (requestCookies.has(name) ? { name, value: requestCookies.get(name)! } : undefined),
        getAll: () => [...requestCookies].map(([name, value]) => ({ name, value })),
        set: (name: string, value: string) => void requestCookies.set(name, value),
      },
    }
    const nextResponse = { cookies: { set: (name: string, value: string, o?: Record<string, unknown>) => void responseCookies.push({ name, value, options: o }) } }
    const session = await getIronSession<User>(nextProxyCookies(nextRequest, nextResponse), options)
    session.lastSeen = 1
    await session.save()
    expect(responseCookies).toHaveLength(1)
    expect(responseCookies[0]!.options).toMatchObject({ maxAge: 1209540, httpOnly: true, secure: true, sameSite: 'lax', path: '/' })
    // Later code in the same request reads the new value.
    expect(requestCookies.get('app')).toBe(responseCookies[0]!.value)
    const later = await getIronSession<User>(nextProxyCookies(nextRequest, nextResponse), options)
    expect(later.lastSeen).toBe(1)
  })

  it('destroy() is final: a bare save() after it is ignored, fields written back and saved throw', async () => {
    const jar = mapJar()
    const session = await getIronSession<User>(jar, options)
    session.user = { id: 1, name: 'Alice' }
    await session.save()
    const loggedIn = await getIronSession<User>(jar, options)
    loggedIn.destroy()
    expect({ ...loggedIn }).toEqual({})
    const writes = jar.writes.length
    await loggedIn.save() // a logout handler that saves at the end still logs out
    expect(jar.writes.length).toBe(writes)
    expect(jar.cookies.has('app')).toBe(false)

    loggedIn.lastSeen = Date.now()
    await expect(loggedIn.save()).rejects.toThrow(/Cannot save a destroyed session/)
    expect(jar.cookies.has('app')).toBe(false)
  })

  it('a Date in the data fails save(), naming the field; nothing is written', async () => {
    const jar = mapJar()
    const session = await getIronSession<Record<string, unknown>>(jar, options)
    session.profile = { lastSeen: new Date() }
    await expect(session.save()).rejects.toThrow(/session\.profile\.lastSeen is a Date/)
    expect(jar.writes).toEqual([])
    await expect(sealData({ at: new Map() }, { password })).rejects.toThrow(/session\.at is a Map/)
  })

  it('updateConfig() rebuilds the whole configuration, the password included, and validates it', async () => {
    const jar = mapJar()
    const session = await getIronSession<User>(jar, options)
    session.user = { id: 1, name: 'Alice' }
    const next = 'rotated_password_at_least_32_characters_long'
    expect(() => session.updateConfig({ ...options, password: 'short' })).toThrow(/at least 32 characters/)
    session.updateConfig({ ...options, password: { 1: password, 2: next } })
    await session.save()
    expect(jar.cookies.get('app')).toMatch(/^Fe26\.2\*2\*/)
    expect(await unsealData(jar.cookies.get('app')!, { password: { 2: next } })).toEqual({ user: { id: 1, name: 'Alice' } })
  })

  it('onUnsealError says why a cookie was not read: expired, unknown-password, invalid; never for no cookie or a good one', async () => {
    const seen: UnsealErrorReason[] = []
    const watched: SessionOptions = {
      ...options,
      onUnsealError: (reason, error) => {
        expect(error).toBeInstanceOf(Error)
        seen.push(reason)
      },
    }
    const open = async (value?: string) => ({ ...(await getIronSession<User>(mapJar(new Map(value ? [['app', value]] : [])), watched)) })

    const good = await sealData({ user: { id: 1, name: 'A' } }, { password })
    expect(await open(good)).toEqual({ user: { id: 1, name: 'A' } })
    expect(await open()).toEqual({})
    expect(seen).toEqual([])

    const expired = await ironSeal({ a: 1 }, password, { ttlSec: 0.001 })
    await new Promise((resolve) => setTimeout(resolve, 5))
    const now = Date.now
    Date.now = () => now() + 61_000 // past iron's 60 s of skew
    try {
      expect(await open(expired)).toEqual({})
    } finally {
      Date.now = now
    }
    expect(await open(await sealData({ a: 1 }, { password: { 5: password } }))).toEqual({})
    expect(await open(good.replace(/\*([^*]{4})([^*]*~2)$/, '*AAAA$2'))).toEqual({})
    expect(await open('not-a-seal')).toEqual({})
    expect(seen).toEqual(['expired', 'unknown-password', 'invalid', 'invalid'])
  })

  it('seals without the ~2 marker (iron-session 6/7) are not read, as in iron-session 9; 8 seals are', async () => {
    const v6 = (await sealV8({ persistent: { user: { id: 6 } } }, { password })).replace(/~2$/, '')
    expect({ ...(await getIronSession<User>(mapJar(new Map([['app', v6]])), options)) }).toEqual({})
    const v8 = await sealV8({ user: { id: 8, name: 'Eight' } }, { password })
    expect((await getIronSession<User>(mapJar(new Map([['app', v8]])), options)).user).toEqual({ id: 8, name: 'Eight' })
  })
})

describe('chunk (v9)', () => {
  it('off (the default): past one cookie, save() throws and writes nothing', async () => {
    const jar = mapJar()
    const session = await getIronSession<Record<string, unknown>>(jar, options)
    session.blob = 'x'.repeat(4000)
    await expect(session.save()).rejects.toThrow(/iron-session: Cookie length is too big/)
    expect(jar.writes).toEqual([])
  })

  it('on: app.0 … app.n, read back whole; at most 4 cookies', async () => {
    const jar = mapJar()
    const chunked = { ...options, chunk: true }
    const session = await getIronSession<Record<string, unknown>>(jar, chunked)
    session.blob = 'x'.repeat(9000)
    await session.save()
    expect([...jar.cookies.keys()]).toEqual(['app.0', 'app.1', 'app.2', 'app.3'])
    for (const value of jar.cookies.values()) expect(value.length).toBeLessThan(4096)
    expect(((await getIronSession<Record<string, unknown>>(jar, chunked)).blob as string).length).toBe(9000)

    const bigger = await getIronSession<Record<string, unknown>>(mapJar(), chunked)
    bigger.blob = 'x'.repeat(14_000)
    await expect(bigger.save()).rejects.toThrow(/iron-session: Cookie length is too big/)
  })
})

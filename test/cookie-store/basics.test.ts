// Round trips on node:http and Web Request/Response, encryption, construction errors, rotation
// and expiry checked from inside the seal.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createSessions } from '../../src/index.js'
import { CookieStore } from '../../src/stores/cookie-store.js'
import { Jar, type Running } from '../helpers.js'
import { cookieSessions, nodeApp, SECRET_A, SECRET_B, SECRET_C, webRequest, type Described } from './helpers.js'

const running: Running[] = []
afterEach(async () => {
  vi.useRealTimers()
  await Promise.all(running.splice(0).map((server) => server.close()))
})

async function start(...args: Parameters<typeof cookieSessions>): Promise<{ url: string; jar: Jar }> {
  const { sessions } = cookieSessions(...args)
  const server = await nodeApp(sessions as never)
  running.push(server)
  return { url: server.url, jar: new Jar() }
}

async function json(response: Response): Promise<Described> {
  expect(response.status).toBe(200)
  return (await response.json()) as Described
}

const SEALED = /^t2\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/

describe('CookieStore round trip', () => {
  it('node:http: a new session with data sets one sealed cookie and reads back on the next request', async () => {
    const { url, jar } = await start()
    const first = await json(await jar.fetch(url))
    expect(first.isNew).toBe(true)
    expect(jar.cookies.size).toBe(0) // an empty new session sets nothing

    const set = await jar.fetch(`${url}/set`, { method: 'POST', body: JSON.stringify({ user: { name: 'Ana' }, views: 1 }) })
    expect(set.headers.getSetCookie()).toHaveLength(1)
    const created = await json(set)
    expect(jar.cookies.get('sid')).toMatch(SEALED)

    const again = await json(await jar.fetch(url))
    expect(again).toMatchObject({ isNew: false, id: created.id, data: { user: { name: 'Ana' }, views: 1 } })
    expect(again.createdAt).toBe(created.createdAt)

    // A change writes the new data into a new seal; the next request sees it.
    await json(await jar.fetch(`${url}/set`, { method: 'POST', body: JSON.stringify({ views: 2 }) }))
    expect((await json(await jar.fetch(url))).data).toEqual({ user: { name: 'Ana' }, views: 2 })
  })

  it('node:http: autoCommit (res.end) seals the cookie without an explicit commit', async () => {
    const { url, jar } = await start()
    const response = await jar.fetch(`${url}/set?auto`, { method: 'POST', body: JSON.stringify({ a: 1 }) })
    expect(response.status).toBe(200)
    expect(jar.cookies.get('sid')).toMatch(SEALED)
    expect((await json(await jar.fetch(url))).data).toEqual({ a: 1 })
  })

  it('Web Request/Response: the Set-Cookie goes onto the response and reads back', async () => {
    const { sessions } = cookieSessions()
    const first = await webRequest(sessions, undefined, (s) => {
      s.data.cart = ['apple', 'pear']
      s.bindUser('u-7')
    })
    expect(first.session.isNew).toBe(true)
    expect(first.setCookies).toHaveLength(1)
    expect(first.setCookies[0]).toMatch(/^sid=t2\.[^;]+; Max-Age=\d+; Expires=[^;]+; Path=\/; HttpOnly; SameSite=Lax$/)
    const cookie = first.setCookies[0]!.split(';')[0]!

    const second = await webRequest(sessions, cookie)
    expect(second.session).toMatchObject({ isNew: false, id: first.session.id, userId: 'u-7', data: { cart: ['apple', 'pear'] } })
    expect(second.setCookies).toEqual([]) // nothing changed, no touch due: no cookie
  })

  it('destroy expires the cookie; the old value is all the client keeps (no revocation configured)', async () => {
    const { url, jar } = await start()
    await jar.fetch(`${url}/set`, { method: 'POST', body: JSON.stringify({ a: 1 }) })
    const stolen = jar.cookies.get('sid')!
    const out = await jar.fetch(`${url}/logout`, { method: 'POST' })
    expect(out.headers.getSetCookie().join('\n')).toMatch(/^sid=; Max-Age=0/m)
    expect(jar.cookies.has('sid')).toBe(false)
    expect((await json(await jar.fetch(url))).isNew).toBe(true)
    // Documented limit: without revokedBefore a copy of the cookie still opens until it expires.
    const replay = new Jar()
    replay.cookies.set('sid', stolen)
    expect((await json(await replay.fetch(url))).data).toEqual({ a: 1 })
  })
})

describe('CookieStore durations', () => {
  it('fractional ttl and absoluteTtl (seconds) still round-trip', async () => {
    const { sessions } = cookieSessions({ ttl: 100.0005, absoluteTtl: 200.25 })
    const first = await webRequest(sessions, undefined, (s) => void (s.data.n = 1))
    const cookie = first.setCookies[0]!.split(';')[0]!
    expect((await webRequest(sessions, cookie)).session).toMatchObject({ isNew: false, data: { n: 1 } })
  })
})

describe('CookieStore encryption', () => {
  it('the cookie value never contains the plaintext, in any common encoding', async () => {
    const { sessions } = cookieSessions()
    const marker = 'plaintext-marker-4f1c'
    const { setCookies } = await webRequest(sessions, undefined, (s) => {
      s.data.note = marker
      s.data.email = 'ana@example.com'
      s.bindUser('user-plain-99')
    })
    const value = setCookies[0]!.split(';')[0]!.slice('sid='.length)
    expect(value).toMatch(SEALED)
    const b64 = (text: string) => Buffer.from(text).toString('base64url')
    for (const needle of [marker, 'ana@example.com', 'user-plain-99', '"note"', 'email']) {
      expect(value).not.toContain(needle)
      expect(value).not.toContain(b64(needle).slice(0, 10))
      expect(value).not.toContain(encodeURIComponent(needle))
    }
    const decoded = value
      .split('.')
      .slice(2)
      .map((part) => Buffer.from(part, 'base64url').toString('latin1'))
      .join('')
    expect(decoded).not.toContain(marker)
    expect(decoded).not.toContain('ana@example.com')
  })

  it('two seals of the same session differ (fresh IV every time)', async () => {
    const { store } = cookieSessions()
    const record = { data: { a: 1 }, createdAt: 1, expiresAt: Date.now() + 1000 }
    const id = 'x'.repeat(43)
    expect(await store.seal(id, record)).not.toBe(await store.seal(id, record))
  })
})

describe('CookieStore construction', () => {
  it('missing secrets: createSessions throws a TypeError naming the option', () => {
    expect(() => createSessions({ store: new CookieStore() })).toThrow(TypeError)
    expect(() => createSessions({ store: new CookieStore() })).toThrow(/secrets/)
    expect(() => createSessions({ store: new CookieStore(), secrets: [] })).toThrow(/secrets/)
    expect(() => createSessions({ store: new CookieStore(), secrets: 'too-short' })).toThrow(/secrets\[0\]/)
  })

  it('rejects bad options with a TypeError naming them', () => {
    expect(() => new CookieStore({ maxSize: 0 })).toThrow(/maxSize/)
    expect(() => new CookieStore({ maxSize: 1.5 })).toThrow(/maxSize/)
    expect(() => new CookieStore({ maxSize: 70_000 })).toThrow(/maxSize/)
    expect(() => new CookieStore({ maxSize: '4096' as never })).toThrow(/maxSize/)
    expect(() => new CookieStore({ iron: { password: 'short' } })).toThrow(/iron\.password/)
    expect(() => new CookieStore({ iron: { password: {} } })).toThrow(/iron\.password/)
    expect(() => new CookieStore({ iron: { password: { 1: 'short' } } })).toThrow(/iron\.password/)
    expect(() => new CookieStore({ iron: 'x' as never })).toThrow(/iron/)
    expect(() => new CookieStore({ revokedBefore: 5 as never })).toThrow(/revokedBefore/)
    expect(new CookieStore().maxSize).toBe(6144)
  })

  it('a store serves one secret list: handing it another is a TypeError', () => {
    const store = new CookieStore()
    store.init({ secrets: [SECRET_A] })
    expect(() => store.init({ secrets: [SECRET_A] })).not.toThrow()
    expect(() => store.init({ secrets: [SECRET_B] })).toThrow(TypeError)
  })

  it('without secrets the store opens nothing and refuses to seal', async () => {
    const store = new CookieStore()
    const sealed = await cookieSessions().store.seal('y'.repeat(43), { data: {}, createdAt: 1, expiresAt: Date.now() + 1000 })
    expect(await store.unseal(sealed)).toBeUndefined()
    await expect(store.seal('y'.repeat(43), { data: {}, createdAt: 1, expiresAt: 2 })).rejects.toThrow(/secrets/)
  })
})

describe('CookieStore rotation', () => {
  it('a cookie sealed under the old secret opens while it is listed second, and not once removed', async () => {
    const before = cookieSessions({ secrets: [SECRET_A] }).sessions
    const { setCookies } = await webRequest(before, undefined, (s) => void (s.data.who = 'old-secret user'))
    const cookie = setCookies[0]!.split(';')[0]!

    const rotating = cookieSessions({ secrets: [SECRET_B, SECRET_A] }).sessions
    const during = await webRequest(rotating, cookie)
    expect(during.session).toMatchObject({ isNew: false, data: { who: 'old-secret user' } })

    const after = cookieSessions({ secrets: [SECRET_B] }).sessions
    expect((await webRequest(after, cookie)).session).toMatchObject({ isNew: true, data: {} })
    const unrelated = cookieSessions({ secrets: [SECRET_C, SECRET_B] }).sessions
    expect((await webRequest(unrelated, cookie)).session.isNew).toBe(true)
  })

  it('new cookies are sealed under the first secret', async () => {
    const rotating = cookieSessions({ secrets: [SECRET_B, SECRET_A] }).sessions
    const { setCookies } = await webRequest(rotating, undefined, (s) => void (s.data.n = 1))
    const cookie = setCookies[0]!.split(';')[0]!
    expect((await webRequest(cookieSessions({ secrets: [SECRET_B] }).sessions, cookie)).session.data).toEqual({ n: 1 })
    expect((await webRequest(cookieSessions({ secrets: [SECRET_A] }).sessions, cookie)).session.isNew).toBe(true)
  })
})

describe('CookieStore expiry, from inside the seal', () => {
  const T0 = Date.UTC(2030, 0, 1)

  it('idle: replaying a cookie after ttl gives a fresh session, whatever the browser still sends', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(T0)
    const { url, jar } = await start({ ttl: 60 })
    await jar.fetch(`${url}/set`, { method: 'POST', body: JSON.stringify({ a: 1 }) })
    const old = jar.cookies.get('sid')!

    vi.setSystemTime(T0 + 59_000)
    const replay = new Jar()
    replay.cookies.set('sid', old)
    expect((await json(await replay.fetch(url))).data).toEqual({ a: 1 })

    vi.setSystemTime(T0 + 61_000)
    const late = new Jar()
    late.cookies.set('sid', old) // the Jar ignores Max-Age: the browser "still sends" it
    const fresh = await json(await late.fetch(url))
    expect(fresh).toMatchObject({ isNew: true, data: {} })
  })

  it('a touch moves the idle expiry inside the seal; the old cookie still dies at its own expiry', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(T0)
    const { url, jar } = await start({ ttl: 60, touchAfter: 10 })
    await jar.fetch(`${url}/set`, { method: 'POST', body: JSON.stringify({ a: 1 }) })
    const first = jar.cookies.get('sid')!

    vi.setSystemTime(T0 + 30_000)
    const touched = await jar.fetch(url) // touch due (expiry would move ≥ 10 s): re-sealed
    expect(touched.headers.getSetCookie()).toHaveLength(1)
    expect(jar.cookies.get('sid')).not.toBe(first)

    vi.setSystemTime(T0 + 75_000)
    expect((await json(await jar.fetch(url))).data).toEqual({ a: 1 })
    const replay = new Jar()
    replay.cookies.set('sid', first)
    expect((await json(await replay.fetch(url))).isNew).toBe(true)
  })

  it('absolute: a session ends absoluteTtl after creation however active, old and new cookies alike', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(T0)
    const { url, jar } = await start({ ttl: 60, absoluteTtl: 100, touchAfter: 5 })
    const created = await json(await jar.fetch(`${url}/set`, { method: 'POST', body: JSON.stringify({ a: 1 }) }))
    for (const at of [40_000, 80_000, 99_000]) {
      vi.setSystemTime(T0 + at)
      const seen = await json(await jar.fetch(url))
      expect(seen).toMatchObject({ isNew: false, id: created.id })
      expect(seen.expiresAt).toBeLessThanOrEqual(T0 + 100_000)
    }
    const latest = jar.cookies.get('sid')!
    vi.setSystemTime(T0 + 100_500)
    expect((await json(await jar.fetch(url))).isNew).toBe(true)
    const replay = new Jar()
    replay.cookies.set('sid', latest)
    expect((await json(await replay.fetch(url))).isNew).toBe(true)
  })
})


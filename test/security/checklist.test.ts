// The security checklist of issue 7 (/work/shared/SECURITY.md), one named test per item that no
// other test names yet. Items 40–47 are named in test/csrf. docs/security.md maps every item.
import { randomBytes } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { inspect } from 'node:util'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Redis } from 'ioredis'
import { createSessions } from '../../src/index.js'
import { ID_BYTES } from '../../src/core/id.js'
import type { SessionEvent } from '../../src/core/events.js'
import type { SessionStore } from '../../src/core/types.js'
import { SessionError } from '../../src/core/errors.js'
import { MemoryStore } from '../../src/stores/memory-store.js'
import { CookieStore } from '../../src/stores/cookie-store.js'
import { RedisStore } from '../../src/redis.js'
import { startRedis } from '../harness/redis.js'
import { Jar, serve } from '../helpers.js'
import { attributes, FlakyStore, named, nodeReq, SlowStore, spiedStore, valueOf, webRequest, webRound, type AnyData } from '../core/support.js'

const SECRET_A = 'checklist-secret-A-at-least-32-characters-long'
const SECRET_B = 'checklist-secret-B-at-least-32-characters-long'
const START = new Date('2031-03-01T00:00:00Z').getTime()

afterEach(() => {
  vi.useRealTimers()
})

function freezeClock() {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(START)
  return (seconds: number) => vi.setSystemTime(START + seconds * 1000)
}

/** Creates a stored session and returns its cookie value. */
async function storedCookie(sessions: ReturnType<typeof createSessions<AnyData>>, data: AnyData = { user: 'ada' }) {
  const jar = new Jar()
  const round = await webRound(sessions, jar, (session) => void Object.assign(session.data, data))
  return { jar, value: jar.cookies.get(sessions.config.name)!, session: round.session, setCookies: round.setCookies }
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 20))

describe('session identifiers', () => {
  it('checklist 1: 10,000 new ids are 43 base64url characters (256 bits) and all distinct', async () => {
    expect(ID_BYTES * 8).toBeGreaterThanOrEqual(128)
    expect(ID_BYTES).toBe(32)
    const sessions = createSessions<AnyData>({ store: new MemoryStore() })
    const ids = new Set<string>()
    for (let i = 0; i < 10_000; i++) {
      const session = await sessions.get(webRequest())
      expect(session.id).toMatch(/^[A-Za-z0-9_-]{43}$/)
      ids.add(session.id)
    }
    expect(ids.size).toBe(10_000)
  })

  it('checklist 2: ids carry no user data and no timestamp or counter prefix', async () => {
    const at = freezeClock()
    const sessions = createSessions<AnyData>({ store: new MemoryStore() })
    const prefixes = new Set<string>()
    for (let i = 0; i < 1000; i++) {
      if (i === 500) at(3600)
      const session = await sessions.get(webRequest())
      prefixes.add(session.id.slice(0, 6))
    }
    // a shared time or counter prefix would make many of these equal
    expect(prefixes.size).toBe(1000)
    const { value, session } = await storedCookie(sessions, { user: 'alice@example.org' })
    session.bindUser('alice')
    expect(value).not.toMatch(/alice/i)
    expect(session.id).not.toMatch(/alice/i)
  })

  it('checklist 3: an id in the query string, the body or another header is ignored', async () => {
    const store = new MemoryStore()
    const sessions = createSessions<AnyData>({ store })
    const { value } = await storedCookie(sessions)
    const server = await serve(async (req, res) => {
      const session = await sessions.get(nodeReq(req), res)
      res.end(JSON.stringify({ isNew: session.isNew, id: session.id, user: session.data.user ?? null }))
    })
    try {
      const attempts = [
        fetch(`${server.url}/?sid=${value}`),
        fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `sid=${value}` }),
        fetch(server.url, { headers: { 'x-session-id': value, authorization: `Bearer ${value}` } }),
      ]
      for (const response of await Promise.all(attempts)) {
        const body = (await response.json()) as { isNew: boolean; id: string; user: string | null }
        expect(body.isNew).toBe(true)
        expect(body.user).toBeNull()
        expect(body.id).not.toBe(value)
      }
      // the cookie itself does work
      const ok = (await (await fetch(server.url, { headers: { cookie: `sid=${value}` } })).json()) as { user: string }
      expect(ok.user).toBe('ada')
    } finally {
      await server.close()
    }
  })

  it('checklist 4: a malformed id never reaches the store and yields a fresh session', async () => {
    const spy = spiedStore()
    const sessions = createSessions<AnyData>({ store: spy.store })
    for (const bad of ['short', '../../../../etc/passwd', 'a'.repeat(129), 'abc%20def%2Fghi' + 'x'.repeat(20), 'has.dot.' + 'x'.repeat(30), '..%2F..%2F' + 'y'.repeat(30)]) {
      const session = await sessions.get(webRequest(`sid=${bad}`))
      expect(session.isNew).toBe(true)
      expect(session.id).not.toBe(bad)
    }
    expect(spy.get).not.toHaveBeenCalled()
  })

  it('checklist 5: a well-formed id that is not in the store is never adopted', async () => {
    const store = new MemoryStore()
    const sessions = createSessions<AnyData>({ store })
    const planted = randomBytes(32).toString('base64url')
    const jar = new Jar()
    jar.cookies.set('sid', planted)
    const { session, setCookies } = await webRound(sessions, jar, (s) => void (s.data.cart = ['x']))
    expect(session.isNew).toBe(true)
    expect(session.id).not.toBe(planted)
    expect(valueOf(named(setCookies)[0]!)).not.toBe(planted)
    expect(await store.get(planted)).toBeUndefined()
  })

  it('checklist 6: a cookie whose signature fails causes no store lookup and gives a new session', async () => {
    const spy = spiedStore()
    const sessions = createSessions<AnyData>({ store: spy.store, secrets: SECRET_A })
    const { value, session } = await storedCookie(sessions)
    spy.reset()
    const [id, mac] = value.split('.')
    const forged = `${id}.${mac!.slice(0, -2)}${mac!.endsWith('AA') ? 'BB' : 'AA'}`
    for (const bad of [forged, `${id}.`, id!]) {
      const fresh = await sessions.get(webRequest(`sid=${bad}`))
      expect(fresh.isNew).toBe(true)
      expect(fresh.id).not.toBe(session.id)
    }
    expect(spy.get).not.toHaveBeenCalled()
  })
})

describe('cookie attributes', () => {
  it('checklist 7: by default HttpOnly, SameSite=Lax, Path=/, no Domain; Strict is configurable', async () => {
    const { setCookies } = await storedCookie(createSessions<AnyData>({ store: new MemoryStore() }))
    const attrs = attributes(named(setCookies)[0]!)
    expect(attrs.has('httponly')).toBe(true)
    expect(attrs.get('samesite')?.toLowerCase()).toBe('lax')
    expect(attrs.get('path')).toBe('/')
    expect(attrs.has('domain')).toBe(false)
    const strict = await storedCookie(createSessions<AnyData>({ store: new MemoryStore(), cookie: { sameSite: 'strict' } }))
    expect(attributes(named(strict.setCookies)[0]!).get('samesite')?.toLowerCase()).toBe('strict')
  })

  it('checklist 8: secure: true over plain HTTP sends no Set-Cookie and stores nothing; over HTTPS the cookie is Secure', async () => {
    const store = new MemoryStore()
    const sessions = createSessions<AnyData>({ store, cookie: { secure: true }, trustProxy: true })
    const server = await serve(async (req, res) => {
      const session = await sessions.get(nodeReq(req), res)
      session.data.views = 1
      res.end('ok')
    })
    try {
      const plain = await fetch(server.url)
      expect(plain.status).toBe(200)
      expect(plain.headers.getSetCookie()).toEqual([])
      // ...and stores nothing: a session nobody can come back to would only fill the store.
      expect(store.size).toBe(0)
      const https = await fetch(server.url, { headers: { 'x-forwarded-proto': 'https' } })
      const line = named(https.headers.getSetCookie())[0]!
      expect(attributes(line).has('secure')).toBe(true)
      expect(store.size).toBe(1)
    } finally {
      await server.close()
    }
  })

  it('checklist 9: X-Forwarded-Proto counts only with trustProxy', async () => {
    const untrusting = createSessions<AnyData>({ store: new MemoryStore() })
    const trusting = createSessions<AnyData>({ store: new MemoryStore(), trustProxy: true })
    const server = await serve(async (req, res) => {
      const sessions = req.url === '/trust' ? trusting : untrusting
      const session = await sessions.get(nodeReq(req), res)
      session.data.views = 1
      res.end('ok')
    })
    try {
      const spoofed = await fetch(server.url, { headers: { 'x-forwarded-proto': 'https' } })
      expect(attributes(named(spoofed.headers.getSetCookie())[0]!).has('secure')).toBe(false)
      const proxied = await fetch(`${server.url}/trust`, { headers: { 'x-forwarded-proto': 'https' } })
      expect(attributes(named(proxied.headers.getSetCookie())[0]!).has('secure')).toBe(true)
    } finally {
      await server.close()
    }
  })

  it('checklist 10: __Host- refuses Domain, a non-/ Path and a missing Secure; __Secure- refuses a missing Secure', () => {
    const store = new MemoryStore()
    expect(() => createSessions({ store, name: '__Host-sid', cookie: { secure: true, domain: 'example.org' } })).toThrow(TypeError)
    expect(() => createSessions({ store, name: '__Host-sid', cookie: { secure: true, path: '/app' } })).toThrow(TypeError)
    expect(() => createSessions({ store, name: '__Host-sid' })).toThrow(TypeError)
    expect(() => createSessions({ store, name: '__Host-sid', cookie: { secure: false } })).toThrow(TypeError)
    expect(() => createSessions({ store, name: '__Secure-sid' })).toThrow(TypeError)
    expect(() => createSessions({ store, name: '__Host-sid', cookie: { secure: true } })).not.toThrow()
    expect(() => createSessions({ store, name: '__Secure-sid', cookie: { secure: true } })).not.toThrow()
  })

  it('checklist 11: SameSite=None is never emitted without Secure', async () => {
    expect(() => createSessions({ store: new MemoryStore(), cookie: { sameSite: 'none', secure: false } })).toThrow(TypeError)
    // 'auto' over plain HTTP would not be Secure: SameSite=None forces it
    const { setCookies } = await storedCookie(createSessions<AnyData>({ store: new MemoryStore(), cookie: { sameSite: 'none' } }))
    const attrs = attributes(named(setCookies)[0]!)
    expect(attrs.get('samesite')?.toLowerCase()).toBe('none')
    expect(attrs.has('secure')).toBe(true)
  })

  it('checklist 12: the cookie name is configurable and the default names no framework', async () => {
    const plain = createSessions<AnyData>({ store: new MemoryStore() })
    expect(plain.config.name).toBe('sid')
    expect(plain.config.name).not.toMatch(/tessera|connect|express|next/i)
    const { setCookies } = await storedCookie(createSessions<AnyData>({ store: new MemoryStore(), name: 'app_s' }))
    expect(named(setCookies, 'app_s')).toHaveLength(1)
  })

  it('checklist 13: CookieStore splits a sealed value past 4096 bytes into chunks of ≤ 4096; past maxSize it throws TOO_LARGE', async () => {
    const sessions = createSessions<AnyData>({ store: new CookieStore({ maxSize: 16_384 }), secrets: SECRET_A })
    const big = randomBytes(6000).toString('base64url')
    const jar = new Jar()
    const { setCookies } = await webRound(sessions, jar, (session) => void (session.data.big = big))
    expect(setCookies.length).toBeGreaterThan(1)
    for (const line of setCookies) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(4096)
    const back = await sessions.get(webRequest(jar))
    expect(back.data.big).toBe(big)

    const small = createSessions<AnyData>({ store: new CookieStore({ maxSize: 4096 }), secrets: SECRET_A })
    const response = new Response('ok')
    const session = await small.get(webRequest(), response)
    session.data.big = big
    await expect(session.commit()).rejects.toMatchObject({ code: 'TOO_LARGE' })
    expect(response.headers.getSetCookie()).toEqual([])
  })

  it('checklist 14: a response that sets the session cookie carries Cache-Control: no-store', async () => {
    const sessions = createSessions<AnyData>({ store: new MemoryStore() })
    const server = await serve(async (req, res) => {
      const session = await sessions.get(nodeReq(req), res)
      if (req.url === '/write') session.data.views = 1
      res.end('ok')
    })
    try {
      const jar = new Jar()
      const set = await jar.fetch(`${server.url}/write`)
      expect(named(set.headers.getSetCookie())).toHaveLength(1)
      expect(set.headers.get('cache-control')).toMatch(/no-store/)
    } finally {
      await server.close()
    }
  })
})

describe('integrity, secrets, sealing', () => {
  it('checklist 15: changing any one character of a signed or sealed cookie gives no session', async () => {
    for (const store of [new MemoryStore(), new CookieStore()]) {
      const sessions = createSessions<AnyData>({ store, secrets: SECRET_A })
      const { value } = await storedCookie(sessions)
      const positions = [0, Math.floor(value.length / 2), value.length - 1]
      for (const i of positions) {
        const swapped = value[i] === 'A' ? 'B' : 'A'
        const tampered = value.slice(0, i) + swapped + value.slice(i + 1)
        const session = await sessions.get(webRequest(`sid=${tampered}`))
        expect(session.isNew).toBe(true)
        expect(session.data).toEqual({})
      }
      expect((await sessions.get(webRequest(`sid=${value}`))).data.user).toBe('ada')
    }
  })

  it('checklist 16: secrets rotate: an old-secret cookie loads while listed, and gives a fresh session without error once removed', async () => {
    const memory = new MemoryStore()
    // a CookieStore belongs to one createSessions(): a fresh one per secret list
    for (const makeStore of [() => memory, () => new CookieStore()]) {
      const old = createSessions<AnyData>({ store: makeStore(), secrets: SECRET_A })
      const { value } = await storedCookie(old)
      const rotated = createSessions<AnyData>({ store: makeStore(), secrets: [SECRET_B, SECRET_A] })
      expect((await rotated.get(webRequest(`sid=${value}`))).data.user).toBe('ada')
      const dropped = createSessions<AnyData>({ store: makeStore(), secrets: [SECRET_B] })
      const session = await dropped.get(webRequest(`sid=${value}`))
      expect(session.isNew).toBe(true)
      expect(session.data).toEqual({})
    }
  })

  it('checklist 17: a secret under 32 characters is rejected at startup; the cookie store without secrets is an error', () => {
    expect(() => createSessions({ store: new MemoryStore(), secrets: 'x'.repeat(31) })).toThrow(TypeError)
    expect(() => createSessions({ store: new MemoryStore(), secrets: [SECRET_A, 'short'] })).toThrow(/secrets\[1\]/)
    expect(() => createSessions({ store: new CookieStore() })).toThrow(/secrets/)
    expect(() => createSessions({ store: new CookieStore(), secrets: 'x'.repeat(32) })).not.toThrow()
  })

  it('checklist 18: a sealed cookie replayed after its ttl is rejected by the server', async () => {
    const at = freezeClock()
    const sessions = createSessions<AnyData>({ store: new CookieStore(), secrets: SECRET_A, ttl: 60, cookie: { persistent: false } })
    const { value } = await storedCookie(sessions)
    at(59)
    expect((await sessions.get(webRequest(`sid=${value}`))).data.user).toBe('ada')
    at(61)
    const late = await sessions.get(webRequest(`sid=${value}`))
    expect(late.isNew).toBe(true)
    expect(late.data).toEqual({})
  })

  it('checklist 19: the sealed payload is encrypted: the client cannot read the data in it', async () => {
    const sessions = createSessions<AnyData>({ store: new CookieStore(), secrets: SECRET_A })
    const marker = 'visible-marker-4711'
    const { value } = await storedCookie(sessions, { user: marker })
    expect(value).not.toContain(marker)
    for (const part of value.split('.')) {
      expect(Buffer.from(part, 'base64url').toString('latin1')).not.toContain(marker)
    }
  })
})

describe('life cycle and fixation', () => {
  it('checklist 20: regenerate() deletes the old record, sets a new cookie, and the old cookie loads nothing', async () => {
    const store = new MemoryStore()
    const sessions = createSessions<AnyData>({ store, secrets: SECRET_A })
    const { jar, value, session: first } = await storedCookie(sessions)
    const { session, setCookies } = await webRound(sessions, jar, (s) => s.regenerate())
    expect(session.id).not.toBe(first.id)
    expect(valueOf(named(setCookies)[0]!)).not.toBe(value)
    expect(await store.get(first.id)).toBeUndefined()
    expect(await store.get(session.id)).toBeDefined()
    const replay = await sessions.get(webRequest(`sid=${value}`))
    expect(replay.isNew).toBe(true)
    expect(replay.data).toEqual({})
  })

  it('checklist 21: regenerate() carries the data over to the new id (the pre-login cart)', async () => {
    const sessions = createSessions<AnyData>({ store: new MemoryStore() })
    const { jar } = await storedCookie(sessions, { cart: ['apple', 'pear'] })
    await webRound(sessions, jar, async (s) => {
      await s.regenerate()
      s.data.user = 'ada'
    })
    const after = await sessions.get(webRequest(jar))
    expect(after.data).toEqual({ cart: ['apple', 'pear'], user: 'ada' })
  })

  it('checklist 22: an id planted by an attacker is worthless after the victim logs in', async () => {
    const sessions = createSessions<AnyData>({ store: new MemoryStore(), secrets: SECRET_A })
    const server = await serve(async (req, res) => {
      const session = await sessions.get(nodeReq(req), res)
      if (req.url === '/visit') session.data.visited = true
      if (req.url === '/login') {
        await session.regenerate()
        session.bindUser('victim')
        session.data.user = 'victim'
      }
      res.end(JSON.stringify(session.data.user ?? null))
    })
    try {
      const attacker = new Jar()
      await attacker.fetch(`${server.url}/visit`)
      const victim = new Jar()
      victim.cookies.set('sid', attacker.cookies.get('sid')!) // fixation
      expect(await (await victim.fetch(`${server.url}/login`)).json()).toBe('victim')
      expect(victim.cookies.get('sid')).not.toBe(attacker.cookies.get('sid'))
      expect(await (await attacker.fetch(`${server.url}/me`)).json()).toBeNull()
      expect(await (await victim.fetch(`${server.url}/me`)).json()).toBe('victim')
    } finally {
      await server.close()
    }
  })

  it('checklist 23: destroy() deletes the record and expires the cookie with the same name, path and domain', async () => {
    const store = new MemoryStore()
    const sessions = createSessions<AnyData>({ store, cookie: { path: '/app', domain: 'example.org' } })
    const { jar, value, session: first } = await storedCookie(sessions)
    const { setCookies } = await webRound(sessions, jar, (s) => s.destroy())
    const line = named(setCookies)[0]!
    expect(valueOf(line)).toBe('')
    const attrs = attributes(line)
    expect(attrs.get('max-age')).toBe('0')
    expect(attrs.get('path')).toBe('/app')
    expect(attrs.get('domain')?.replace(/^\./, '')).toBe('example.org')
    expect(await store.get(first.id)).toBeUndefined()
    const replay = await sessions.get(webRequest(`sid=${value}`))
    expect(replay.isNew).toBe(true)
    expect(replay.data).toEqual({})
  })

  it('checklist 24: after destroy() writes and regenerate() throw and reads return nothing', async () => {
    const sessions = createSessions<AnyData>({ store: new MemoryStore() })
    const { jar } = await storedCookie(sessions)
    const session = await sessions.get(webRequest(jar), new Response())
    await session.destroy()
    expect(session.data.user).toBeUndefined()
    expect(Object.keys(session.data)).toEqual([])
    expect(() => {
      session.data.user = 'mallory'
    }).toThrow(SessionError)
    await expect(session.regenerate()).rejects.toMatchObject({ code: 'DESTROYED' })
    expect(() => session.touch()).toThrow(SessionError)
    expect(() => session.bindUser('x')).toThrow(SessionError)
  })

  it('checklist 25: a change saved after a racing logout does not resurrect the session (MemoryStore patch)', async () => {
    const store = new MemoryStore()
    const sessions = createSessions<AnyData>({ store })
    const { jar, session: first } = await storedCookie(sessions)
    const slow = await sessions.get(webRequest(jar), new Response()) // in flight
    await webRound(sessions, jar, (s) => s.destroy()) // logout lands first
    slow.data.views = 2
    await slow.commit()
    expect(await store.get(first.id)).toBeUndefined()
    expect((await sessions.get(webRequest(`sid=${first.id}`))).isNew).toBe(true)
  })

  // bindUser() writes the whole record (the user index changes with it): through the store's
  // update(), which never recreates a session, so this race is closed too.
  const raceBindUser = async (store: SessionStore): Promise<void> => {
    const sessions = createSessions<AnyData>({ store })
    const { jar, session: first } = await storedCookie(sessions)
    const slow = await sessions.get(webRequest(jar), new Response()) // in flight
    await webRound(sessions, jar, (s) => s.destroy()) // logout lands first
    slow.bindUser('mallory')
    slow.data.views = 2
    await slow.commit()
    expect(await store.get(first.id)).toBeUndefined()
    expect(await store.listUser!('mallory')).toEqual([])
    expect((await sessions.get(webRequest(`sid=${first.id}`))).isNew).toBe(true)
  }

  it('checklist 25: a bindUser() after a racing logout does not resurrect the session (MemoryStore)', async () => {
    await raceBindUser(new MemoryStore())
  })

  it('checklist 25: ... nor on Redis (the update script checks the session still exists)', async () => {
    const redis = await startRedis()
    const client = new Redis(redis.url)
    try {
      await raceBindUser(new RedisStore({ client }))
    } finally {
      client.disconnect()
      await redis.stop()
    }
  }, 30_000)
})

describe('timeouts', () => {
  it('checklist 26: after idleTimeout the old cookie gets no session, whatever its Expires', async () => {
    const at = freezeClock()
    const sessions = createSessions<AnyData>({ store: new MemoryStore(), ttl: 60, cookie: { persistent: false } })
    const { value } = await storedCookie(sessions)
    at(30)
    expect((await sessions.get(webRequest(`sid=${value}`))).data.user).toBe('ada')
    at(91) // 61 s after the last request (a read within touchAfter does not extend)
    const late = await sessions.get(webRequest(`sid=${value}`))
    expect(late.isNew).toBe(true)
    expect(late.data).toEqual({})
  })

  it('checklist 27: absoluteTtl ends an always-active session; touching never moves createdAt', async () => {
    const at = freezeClock()
    const store = new MemoryStore()
    const sessions = createSessions<AnyData>({ store, ttl: 5, absoluteTtl: 12, touchAfter: 1 })
    const { jar, session: first } = await storedCookie(sessions)
    for (let t = 2; t <= 10; t += 2) {
      at(t)
      const { session } = await webRound(sessions, jar, (s) => s.touch())
      expect(session.isNew).toBe(false)
      expect(session.createdAt.getTime()).toBe(START)
      expect((await store.get(first.id))!.createdAt).toBe(START)
    }
    at(12.5)
    const ended = await sessions.get(webRequest(jar))
    expect(ended.isNew).toBe(true)
    expect(ended.data).toEqual({})
  })

  it('checklist 28: touching is throttled by touchAfter and only moves the expiry, never the data', async () => {
    const at = freezeClock()
    const spy = spiedStore()
    const sessions = createSessions<AnyData>({ store: spy.store, ttl: 600, touchAfter: 60 })
    const { jar, session: first } = await storedCookie(sessions)
    spy.reset()
    at(30)
    await webRound(sessions, jar, () => undefined)
    expect(spy.writes()).toBe(0)
    at(61)
    await webRound(sessions, jar, () => undefined)
    expect(spy.touch).toHaveBeenCalledTimes(1)
    expect(spy.set).not.toHaveBeenCalled()
    expect(spy.patch).not.toHaveBeenCalled()
    const record = await spy.store.get(first.id)
    expect(record!.expiresAt).toBe(START + 61_000 + 600_000)
    expect(record!.data).toEqual({ user: 'ada' })
  })

  it('checklist 29: a store write whose expiry has already passed deletes the key', async () => {
    const at = freezeClock()
    const store = new MemoryStore()
    const record = { data: { a: 1 }, createdAt: START, expiresAt: START + 10_000 }
    await store.set('k'.repeat(20), record)
    await store.touch('k'.repeat(20), START - 1)
    expect(await store.get('k'.repeat(20))).toBeUndefined()
    await store.set('p'.repeat(20), record)
    await store.patch('p'.repeat(20), { set: { b: 2 }, unset: [] }, START)
    expect(await store.get('p'.repeat(20))).toBeUndefined()
    await store.set('s'.repeat(20), record)
    at(20)
    await store.set('s'.repeat(20), record) // expiresAt now in the past
    expect(store.size).toBe(0)
  })

  it('checklist 30: the cookie Max-Age never exceeds the server-side lifetime', async () => {
    freezeClock()
    const sessions = createSessions<AnyData>({ store: new MemoryStore(), ttl: 3600, absoluteTtl: 1800 })
    const { setCookies, session } = await storedCookie(sessions)
    const maxAge = Number(attributes(named(setCookies)[0]!).get('max-age'))
    expect(maxAge).toBeGreaterThan(0)
    expect(maxAge).toBeLessThanOrEqual(1800)
    expect(START + maxAge * 1000).toBeLessThanOrEqual(session.expiresAt.getTime())
  })
})

describe('revocation and multi-session', () => {
  it('checklist 31: listUser returns every live session of one user from a per-user index', async () => {
    const store = new MemoryStore()
    const sessions = createSessions<AnyData>({ store })
    const mine: string[] = []
    for (let i = 0; i < 3; i++) {
      const { session } = await webRound(sessions, new Jar(), (s) => s.bindUser('ada'))
      mine.push(session.id)
    }
    for (let i = 0; i < 200; i++) await webRound(sessions, new Jar(), (s) => s.bindUser(`other-${i}`))
    // the index, not a walk over every entry: no Map is iterated while listing
    const walks = [vi.spyOn(Map.prototype, Symbol.iterator), vi.spyOn(Map.prototype, 'entries'), vi.spyOn(Map.prototype, 'keys'), vi.spyOn(Map.prototype, 'values')]
    const listed = await sessions.listUser('ada')
    for (const walk of walks) {
      expect(walk).not.toHaveBeenCalled()
      walk.mockRestore()
    }
    expect(listed.map((s) => s.id).sort()).toEqual(mine.sort())
  })

  it('checklist 32: revokeUser(userId, { except }) ends every other session of the user on its next request', async () => {
    const sessions = createSessions<AnyData>({ store: new MemoryStore(), secrets: SECRET_A })
    const jars = [new Jar(), new Jar(), new Jar()]
    for (const jar of jars) await webRound(sessions, jar, (s) => s.bindUser('ada'))
    const other = new Jar()
    await webRound(sessions, other, (s) => s.bindUser('bob'))
    const current = await sessions.get(webRequest(jars[0]))
    expect(await sessions.revokeUser('ada', { except: current.id })).toBe(2)
    expect((await sessions.get(webRequest(jars[0]))).isNew).toBe(false)
    expect((await sessions.get(webRequest(jars[1]))).isNew).toBe(true)
    expect((await sessions.get(webRequest(jars[2]))).isNew).toBe(true)
    expect((await sessions.get(webRequest(other))).isNew).toBe(false)
  })

  it('checklist 33: sealed sessions are revoked through revokedBefore, checked on every request', async () => {
    const at = freezeClock()
    let cutoff: number | undefined
    const sessions = createSessions<AnyData>({ store: new CookieStore({ revokedBefore: () => cutoff }), secrets: SECRET_A })
    const jar = new Jar()
    await webRound(sessions, jar, (s) => s.bindUser('ada'))
    expect((await sessions.get(webRequest(jar))).isNew).toBe(false)
    at(10)
    cutoff = Date.now() // "log out everywhere"
    expect((await sessions.get(webRequest(jar))).isNew).toBe(true)
    // without revokedBefore the cookie store says so instead of pretending
    const plain = createSessions<AnyData>({ store: new CookieStore(), secrets: SECRET_A })
    await expect(plain.revokeUser('ada')).rejects.toMatchObject({ code: 'UNSUPPORTED' })
  })

  it('checklist 34: the memory store sweeps expired sessions and keeps at most maxSessions', async () => {
    const at = freezeClock()
    const store = new MemoryStore({ maxSessions: 5 })
    for (let i = 0; i < 20; i++) await store.set(`id-${String(i).padStart(20, '0')}`, { data: {}, createdAt: START, expiresAt: START + 10_000 })
    expect(store.size).toBe(5)
    at(11)
    store.sweep()
    expect(store.size).toBe(0)
    store.clear()
  })
})

describe('concurrency and store robustness', () => {
  it('checklist 35: a request that does not change the session writes nothing to the store', async () => {
    const spy = spiedStore()
    const sessions = createSessions<AnyData>({ store: spy.store })
    const { jar } = await storedCookie(sessions)
    spy.reset()
    const { setCookies, session } = await webRound(sessions, jar, (s) => s.data.user)
    expect(session.data.user).toBe('ada')
    expect(spy.writes()).toBe(0)
    expect(setCookies).toEqual([])
  })

  it('checklist 36: 20 concurrent requests writing different top-level keys are merged through patch', async () => {
    const store = new SlowStore(new MemoryStore(), 30)
    const sessions = createSessions<AnyData>({ store })
    const server = await serve(async (req, res) => {
      const session = await sessions.get(nodeReq(req), res)
      const key = new URL(req.url!, 'http://x').searchParams.get('key')
      if (key) session.data[key] = true
      else session.data.start = true
      res.end('ok')
    })
    try {
      const jar = new Jar()
      await jar.fetch(server.url)
      await Promise.all(Array.from({ length: 20 }, (_, i) => jar.fetch(`${server.url}/?key=k${i}`)))
      const session = await sessions.get(webRequest(jar))
      expect(Object.keys(session.data).sort()).toEqual(['start', ...Array.from({ length: 20 }, (_, i) => `k${i}`)].sort())
    } finally {
      await server.close()
    }
  })

  it('checklist 37: a store error during load fails with STORE_ERROR, never a fresh session', async () => {
    const store = new FlakyStore()
    const sessions = createSessions<AnyData>({ store })
    const { value, session: first } = await storedCookie(sessions)
    store.fail.get = 'reject'
    const error = await sessions.get(webRequest(`sid=${value}`)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SessionError)
    expect((error as SessionError).code).toBe('STORE_ERROR')
    store.recover()
    expect((await store.inner.get(first.id))!.data).toEqual({ user: 'ada' })
  })

  it('checklist 38: with Redis unreachable a request fails within operationTimeout instead of hanging', async () => {
    const redis = await startRedis()
    const client = new Redis(redis.url)
    client.on('error', () => undefined) // the refused reconnects are expected here
    try {
      const sessions = createSessions<AnyData>({ store: new RedisStore({ client, operationTimeout: 0.5 }) })
      const { value } = await storedCookie(sessions)
      await redis.kill()
      const started = Date.now()
      const error = await sessions.get(webRequest(`sid=${value}`)).catch((e: unknown) => e)
      const took = Date.now() - started
      expect((error as SessionError).code).toBe('STORE_ERROR')
      expect(took).toBeLessThan(2000)
    } finally {
      client.disconnect()
      await redis.stop()
    }
  }, 30_000)

  it('checklist 39: on node:http the session is saved before the response is released', async () => {
    const store = new SlowStore(new MemoryStore(), 200)
    const sessions = createSessions<AnyData>({ store })
    const server = await serve(async (req, res) => {
      const session = await sessions.get(nodeReq(req), res)
      session.data.user = 'ada'
      res.statusCode = 302
      res.setHeader('location', '/home')
      res.end()
    })
    try {
      const jar = new Jar()
      const response = await jar.fetch(server.url)
      expect(response.status).toBe(302)
      // no waiting: the redirect target must see the session at once
      const session = await sessions.get(webRequest(jar))
      expect(session.data.user).toBe('ada')
    } finally {
      await server.close()
    }
  })
})

describe('detection and logging', () => {
  it('checklist 48: events carry a salted hash of the id, never the id itself', async () => {
    const at = freezeClock()
    const events: SessionEvent[] = []
    const store = new MemoryStore()
    const sessions = createSessions<AnyData>({ store, secrets: SECRET_A, ttl: 60, onEvent: (e) => events.push(e) })
    // 'expired' comes from a record the core itself finds past its expiry: a sealed cookie here
    // (MemoryStore and Redis drop the record at its expiry, so the core then reports unknown-id)
    const sealed = createSessions<AnyData>({ store: new CookieStore(), secrets: SECRET_A, ttl: 60, onEvent: (e) => events.push(e) })
    const { jar, session: first } = await storedCookie(sessions)
    const { session: second } = await webRound(sessions, jar, async (s) => {
      await s.regenerate()
      s.bindUser('ada')
    })
    await webRound(sessions, jar, (s) => s.destroy())
    const expired = await storedCookie(sealed)
    at(120)
    await sealed.get(webRequest(`sid=${expired.value}`))
    await sessions.get(webRequest(`sid=${first.id}.${'A'.repeat(43)}`))
    const unknown = createSessions<AnyData>({ store, onEvent: (e) => events.push(e) })
    await unknown.get(webRequest(`sid=${randomBytes(32).toString('base64url')}`))
    await flush()

    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['created', 'regenerated', 'destroyed', 'expired', 'invalid-signature', 'unknown-id']),
    )
    const serialized = JSON.stringify(events)
    for (const id of [first.id, second.id, expired.session.id]) expect(serialized).not.toContain(id)
    for (const event of events) {
      expect(event.idHash).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect(event.at).toBeInstanceOf(Date)
    }
    // salted: the hash is not the plain SHA-256 of the id, and one id hashes the same each time
    const plain = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(second.id))).toString('base64url')
    const ofSecond = events.filter((e) => e.type === 'regenerated' || e.type === 'destroyed')
    expect(ofSecond.map((e) => e.idHash)).not.toContain(plain)
    expect(new Set(ofSecond.map((e) => e.idHash)).size).toBe(1)
    expect(events.find((e) => e.type === 'destroyed')?.userId).toBe('ada')
  })

  it('checklist 48: a revoked sealed session emits revoked with its user', async () => {
    const at = freezeClock()
    const events: SessionEvent[] = []
    let cutoff: number | undefined
    const sessions = createSessions<AnyData>({ store: new CookieStore({ revokedBefore: () => cutoff }), secrets: SECRET_A, onEvent: (e) => events.push(e) })
    const jar = new Jar()
    await webRound(sessions, jar, (s) => s.bindUser('ada'))
    at(5)
    cutoff = Date.now()
    await sessions.get(webRequest(jar))
    await flush()
    expect(events.filter((e) => e.type === 'revoked').map((e) => e.userId)).toEqual(['ada'])
  })

  it('checklist 49: every invalid or unknown id fires an event an app can count per client', async () => {
    const counts = new Map<string, number>()
    const sessions = createSessions<AnyData>({
      store: new MemoryStore(),
      secrets: SECRET_A,
      onEvent: (e) => {
        if (e.type === 'invalid-signature' || e.type === 'unknown-id') counts.set(e.type, (counts.get(e.type) ?? 0) + 1)
      },
    })
    const signer = createSessions<AnyData>({ store: new MemoryStore(), secrets: SECRET_A })
    const { value: foreign } = await storedCookie(signer) // validly signed, not in this store
    for (let i = 0; i < 10; i++) await sessions.get(webRequest(`sid=${randomBytes(32).toString('base64url')}.${'x'.repeat(43)}`))
    for (let i = 0; i < 5; i++) await sessions.get(webRequest(`sid=${foreign}`))
    await flush()
    expect(counts.get('invalid-signature')).toBe(10)
    expect(counts.get('unknown-id')).toBe(5)
  })

  it('checklist 49: the event names the request, so bad cookies are counted per client address', async () => {
    const perClient = new Map<string, number>()
    const logged: string[] = []
    const sessions = createSessions<AnyData>({
      store: new MemoryStore(),
      secrets: SECRET_A,
      onEvent: (e) => {
        logged.push(JSON.stringify(e), inspect(e))
        if (e.type !== 'invalid-signature' && e.type !== 'unknown-id') return
        const request = e.request as IncomingMessage
        const client = String(request.headers['x-client'])
        perClient.set(client, (perClient.get(client) ?? 0) + 1)
      },
    })
    const server = await serve(async (req, res) => {
      await sessions.get(nodeReq(req), res)
      res.end('ok')
    })
    try {
      const forged = (): string => `sid=${randomBytes(32).toString('base64url')}.${'x'.repeat(43)}`
      for (let i = 0; i < 6; i++) await fetch(server.url, { headers: { cookie: forged(), 'x-client': 'mallory' } })
      await fetch(server.url, { headers: { cookie: forged(), 'x-client': 'alice' } })
      await flush()
      expect(Object.fromEntries(perClient)).toEqual({ mallory: 6, alice: 1 })
      // Logged whole, an event carries neither the request nor its cookie.
      expect(logged.length).toBeGreaterThan(0)
      for (const line of logged) {
        expect(line).not.toContain('x-client')
        expect(line).not.toContain('sid=')
      }
    } finally {
      await server.close()
    }
  })
})

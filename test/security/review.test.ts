// The outside security review (issue 15), the items of src/core, src/sessions.ts and the
// adapters: one test (or a few) named `review N: …` per finding, each failing before its fix.
// docs/security.md ("The outside review") says what changed.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import pg from 'pg'
import { createSessions, SessionError, type Sessions } from '../../src/index.js'
import { withSession } from '../../src/web.js'
import { PostgresStore } from '../../src/postgres.js'
import type { SessionStore } from '../../src/core/types.js'
import { startPostgres, type PostgresServer } from '../harness/postgres.js'
import type { SessionEvent } from '../../src/core/events.js'
import { HeaderCookies, MAX_COOKIE_HEADER_LENGTH, MAX_COOKIE_PAIRS, parseCookies, readCookie } from '../../src/core/cookie.js'
import { MemoryStore } from '../../src/stores/memory-store.js'
import { CookieStore } from '../../src/stores/cookie-store.js'
import { Jar, serve, type Running } from '../helpers.js'
import { named, nodeReq, spiedStore, webRequest, webRound, type AnyData } from '../core/support.js'

const SECRET = 'review-secret-at-least-32-characters-long-0123'
const START = new Date('2031-06-01T00:00:00Z').getTime()

const running: Running[] = []
afterEach(async () => {
  vi.useRealTimers()
  await Promise.all(running.splice(0).map((server) => server.close()))
})

/** A clock frozen at START; `at(s)` moves it to START + s seconds. */
function freezeClock(): (seconds: number) => void {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(START)
  return (seconds) => vi.setSystemTime(START + seconds * 1000)
}

/** Lets events (hashed in the background) arrive. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20))

/** CPU time (user + system, ms) of `run`: unlike wall time, other processes on the machine do not inflate it. */
function cpuMs(run: () => unknown): number {
  const before = process.cpuUsage()
  run()
  const used = process.cpuUsage(before)
  return (used.user + used.system) / 1000
}

describe('review 1: cookie parsing is linear, once per request, and bounded', () => {
  const MiB = 1024 * 1024
  // A quadratic parser needs about n²/2 steps for these (over 20 s for 1 MiB of ';' on this
  // machine, 1.4 s for 256 KiB); a linear one a few milliseconds. The bound is generous enough
  // that only quadratic time misses it.
  const attacks: [string, string][] = [
    ['semicolons', ';'.repeat(MiB)],
    ['names without =', 'a;'.repeat(MiB / 2)],
    ['blanks', ' '.repeat(MiB) + '=x'],
    ['equals signs', '='.repeat(MiB)],
    ['pairs', 'a=b;'.repeat(MiB / 4)],
    ['quotes and percent signs', '"%'.repeat(MiB / 2)],
  ]

  it('review 1: readCookie and parseCookies take linear time on 1 MiB attack headers', () => {
    for (const [, header] of attacks) {
      expect(cpuMs(() => readCookie(header, 'sid'))).toBeLessThan(1000)
      expect(cpuMs(() => parseCookies(header))).toBeLessThan(1000)
    }
    expect(readCookie('a; b; c; sid=found; d', 'sid')).toBe('found')
    expect(readCookie(';'.repeat(1000) + 'x=1; =2; sid=3', 'sid')).toBe('3')
  })

  it('review 1: sessions.get() on a Web Request with a 1 MiB attack header takes linear time', async () => {
    const sessions = createSessions<AnyData>({ store: new MemoryStore() })
    for (const [, header] of attacks) {
      const request = webRequest(header)
      let loading: Promise<unknown> | undefined
      expect(cpuMs(() => (loading = sessions.get(request)))).toBeLessThan(1000) // a memory load runs synchronously
      expect(((await loading) as { isNew: boolean }).isNew).toBe(true)
    }
  })

  it('review 1: a CookieStore request reads its Cookie header once, though it looks up sid and sid.0 … sid.31', async () => {
    const store = new CookieStore()
    const sessions = createSessions<AnyData>({ secrets: SECRET, store })
    // 32 chunk cookies (junk: the seal does not open): sid, then sid.0 … sid.31 are looked up.
    const chunks = Array.from({ length: 32 }, (_, i) => `sid.${i}=junk${i}`).join('; ')
    const request = webRequest(`theme=dark; ${chunks}`)
    const get = vi.spyOn(request.headers, 'get')
    const session = await sessions.get(request)
    expect(session.isNew).toBe(true)
    expect(get.mock.calls.filter(([name]) => name.toLowerCase() === 'cookie')).toHaveLength(1)
    // node:http: the header read once as well.
    const server = await serve(async (req, res) => {
      let reads = 0
      const value = req.headers.cookie
      Object.defineProperty(req.headers, 'cookie', { get: () => (reads++, value), configurable: true, enumerable: true })
      await sessions.get(nodeReq(req), res)
      res.end(String(reads))
    })
    running.push(server)
    expect(await (await fetch(server.url, { headers: { cookie: `theme=dark; ${chunks}` } })).text()).toBe('1')
  })

  it('review 1: a request reads at most MAX_COOKIE_HEADER_LENGTH characters and MAX_COOKIE_PAIRS pairs of its Cookie header', async () => {
    const sessions = createSessions<AnyData>({ store: new MemoryStore() })
    const jar = new Jar()
    await webRound(sessions, jar, (session) => void (session.data.n = 1))
    const sid = `sid=${jar.cookies.get('sid')}`
    expect(MAX_COOKIE_HEADER_LENGTH).toBe(256 * 1024)
    expect(MAX_COOKIE_PAIRS).toBe(1000)
    const read = async (header: string) => !(await sessions.get(webRequest(header))).isNew
    expect(await read(`${'f=1; '.repeat(998)}${sid}`)).toBe(true) // pair 999
    expect(await read(`${'f=1; '.repeat(1000)}${sid}`)).toBe(false) // pair 1001
    const filler = `big=${'x'.repeat(4000)}; `
    const under = filler.repeat(Math.floor((MAX_COOKIE_HEADER_LENGTH - 100) / filler.length))
    expect(await read(`${under}${sid}`)).toBe(true)
    expect(await read(`${under}${filler}${filler}${sid}`)).toBe(false)
    // The same bounds for the cookie store's chunks, which it reads through an index of the header.
    expect(new HeaderCookies(`${'f=1; '.repeat(1000)}sid.0=a`).get('x')).toBeUndefined()
    const cookies = new HeaderCookies(`${'f=1; '.repeat(999)}sid.0=a; sid.1=b`) // pairs 1000 and 1001
    expect([cookies.get('sid'), cookies.get('sid.0'), cookies.get('sid.1')]).toEqual([undefined, 'a', undefined])
  })
})

describe('review 5: a login after a revocation sticks', () => {
  it('review 5: regenerate() + bindUser() after revokedBefore gives a session that is not revoked on the next request', async () => {
    const at = freezeClock()
    const revoked = new Map<string, number>()
    const store = new CookieStore({ revokedBefore: (userId) => revoked.get(userId) })
    const sessions = createSessions<AnyData>({ secrets: SECRET, store })
    const jar = new Jar()
    // The login form: a session (a CSRF token, say) made before the password reset.
    await webRound(sessions, jar, (session) => void (session.data.csrf = 'token'))
    at(60)
    revoked.set('alice', Date.now()) // the password reset: every older session of alice ends
    at(120)
    const login = await webRound(sessions, jar, async (session) => {
      await session.regenerate()
      session.bindUser('alice')
      session.data.user = 'alice'
    })
    expect(login.session.createdAt.getTime()).toBe(START + 120_000)
    at(180)
    const next = await webRound(sessions, jar, (session) => session)
    expect(next.session.isNew).toBe(false)
    expect(next.session.data.user).toBe('alice')
  })

  it('review 5: regenerate() starts the absolute timeout again (server-side store)', async () => {
    const at = freezeClock()
    const sessions = createSessions<AnyData>({ store: new MemoryStore(), absoluteTtl: 3600 })
    const jar = new Jar()
    await webRound(sessions, jar, (session) => void (session.data.step = 1))
    at(3000)
    await webRound(sessions, jar, async (session) => {
      await session.regenerate()
      session.bindUser('bob')
    })
    at(3700) // past the first session's absolute end, inside the regenerated one's
    const later = await webRound(sessions, jar, (session) => session)
    expect(later.session.isNew).toBe(false)
    expect(later.session.userId).toBe('bob')
    expect(later.session.expiresAt.getTime()).toBeLessThanOrEqual(START + (3000 + 3600) * 1000)
  })
})

describe('review 7: smaller findings', () => {
  it('review 7a: a change to a top-level key named __proto__ reaches the store through patch and reads back as data', async () => {
    const spied = spiedStore()
    const sessions = createSessions<AnyData>({ store: spied.store })
    const jar = new Jar()
    await webRound(sessions, jar, (session) => void (session.data.n = 1))
    spied.reset()
    await webRound(sessions, jar, (session) => {
      session.data['__proto__'] = { admin: true }
      session.data.n = 2
    })
    expect(spied.patch).toHaveBeenCalledTimes(1)
    const changes = spied.patch.mock.calls[0]![1]
    expect(Object.keys(changes.set).sort()).toEqual(['__proto__', 'n'])
    const { session } = await webRound(sessions, jar, (s) => s)
    expect(Object.prototype.hasOwnProperty.call(session.data, '__proto__')).toBe(true)
    expect(Object.getOwnPropertyDescriptor(session.data, '__proto__')!.value).toEqual({ admin: true })
    expect(session.data.n).toBe(2)
    expect(({} as AnyData).admin).toBeUndefined()
  })

  it('review 7b: a Web response that sets the session cookie is never cacheable by a shared cache', async () => {
    const sessions = createSessions<AnyData>({ store: new MemoryStore() })
    for (const [given, expected] of [
      ['public, max-age=3600', 'private, max-age=3600'],
      ['max-age=600', 'private, max-age=600'],
      ['public, s-maxage=600, max-age=60', 'private, max-age=60'],
      ['private, max-age=60', 'private, max-age=60'],
      ['no-store', 'no-store'],
    ] as const) {
      const response = new Response('ok', { headers: { 'cache-control': given } })
      const session = await sessions.get(webRequest(), response)
      session.data.n = 1
      await session.commit()
      expect(named(response.headers.getSetCookie())).toHaveLength(1)
      expect(response.headers.get('cache-control')).toBe(expected)
    }
    // A read that sets no cookie leaves the app's header alone.
    const jar = new Jar()
    await webRound(sessions, jar, (session) => void (session.data.n = 1))
    const response = new Response('ok', { headers: { 'cache-control': 'public, max-age=3600' } })
    const session = await sessions.get(webRequest(jar), response)
    expect(await session.commit()).toEqual([])
    expect(response.headers.get('cache-control')).toBe('public, max-age=3600')
  })

  it('review 7b: a node:http response that sets the session cookie is never cacheable by a shared cache', async () => {
    const sessions = createSessions<AnyData>({ store: new MemoryStore() })
    const server = await serve(async (req: IncomingMessage, res: ServerResponse) => {
      res.setHeader('Cache-Control', 'public, max-age=3600')
      const session = await sessions.get(nodeReq(req), res)
      if (req.url === '/login') session.data.user = 'ada'
      res.end('ok')
    })
    running.push(server)
    const jar = new Jar()
    const login = await jar.fetch(`${server.url}/login`)
    expect(named(login.headers.getSetCookie())).toHaveLength(1)
    expect(login.headers.get('cache-control')).toBe('private, max-age=3600')
    const read = await jar.fetch(`${server.url}/`)
    expect(read.headers.getSetCookie()).toEqual([])
    expect(read.headers.get('cache-control')).toBe('public, max-age=3600')
  })

  it('review 7c: __Host- and __Secure- prefixes are recognised whatever their case', () => {
    const store = new MemoryStore()
    for (const name of ['__host-sid', '__HOST-sid', '__Host-sid']) {
      expect(() => createSessions({ store, name })).toThrow(/cookie\.secure/)
      expect(() => createSessions({ store, name, cookie: { secure: true, domain: 'example.com' } })).toThrow(/cookie\.domain/)
      expect(() => createSessions({ store, name, cookie: { secure: true, path: '/app' } })).toThrow(/cookie\.path/)
      expect(() => createSessions({ store, name, cookie: { secure: true } })).not.toThrow()
    }
    for (const name of ['__secure-sid', '__SECURE-sid']) {
      expect(() => createSessions({ store, name })).toThrow(/cookie\.secure/)
      expect(() => createSessions({ store, name, cookie: { secure: true } })).not.toThrow()
    }
  })

  it('review 7d: the error for a bad encode() result does not carry the signed id', async () => {
    const id = 'A'.repeat(43)
    const sessions = createSessions<AnyData>({ store: new MemoryStore(), secrets: SECRET, genid: () => id, encode: (value) => `${value};bad` })
    const error = await sessions.get(webRequest()).then(
      () => undefined,
      (caught: unknown) => caught as Error,
    )
    expect(error).toBeInstanceOf(TypeError)
    expect(error!.message).toMatch(/encode/)
    expect(error!.message).not.toContain(id)
  })
})

describe('review 9: an active session lives until its absolute timeout', () => {
  it('review 9: with ttl 3, absoluteTtl 4 and touchAfter 1, a request at 1.6 s refreshes, so the session lives until 4 s', async () => {
    const at = freezeClock()
    const sessions = createSessions<AnyData>({ store: new MemoryStore(), ttl: 3, absoluteTtl: 4, touchAfter: 1 })
    const jar = new Jar()
    // Loaded at 0, committed 30 ms later: expiry 3.03 s, absolute end 4 s.
    const response = new Response('ok')
    const first = await sessions.get(webRequest(jar), response)
    first.data.user = 'ada'
    at(0.03)
    await first.commit()
    jar.take(response.headers.getSetCookie())
    at(1.6) // the gain up to the absolute end is 0.97 s, under touchAfter; a touch is due all the same
    const used = await webRound(sessions, jar, (session) => session)
    expect(used.session.isNew).toBe(false)
    expect(used.session.expiresAt.getTime()).toBe(START + 4000)
    expect(named(used.setCookies)).toHaveLength(1)
    at(3.5)
    const later = await webRound(sessions, jar, (session) => session)
    expect(later.session.isNew).toBe(false)
    expect(later.session.data.user).toBe('ada')
    at(4.1)
    expect((await webRound(sessions, jar, (session) => session)).session.isNew).toBe(true)
  })

  it('review 9: no touch inside touchAfter, and none once the expiry is the absolute end', async () => {
    const at = freezeClock()
    const spied = spiedStore()
    const sessions = createSessions<AnyData>({ store: spied.store, ttl: 3, absoluteTtl: 4, touchAfter: 1 })
    const jar = new Jar()
    await webRound(sessions, jar, (session) => void (session.data.user = 'ada'))
    spied.reset()
    at(0.9)
    await webRound(sessions, jar, (session) => session)
    expect(spied.writes()).toBe(0)
    at(1.5)
    await webRound(sessions, jar, (session) => session)
    expect(spied.touch).toHaveBeenCalledTimes(1) // expiry now the absolute end, 4 s
    at(2.9)
    await webRound(sessions, jar, (session) => session)
    expect(spied.writes()).toBe(1) // nothing left to gain
  })
})

describe('review 10: revokeUser() reports what it revoked', () => {
  /** Three sessions of carol, one of dave; revokes carol's but the first; checks the events. */
  async function revokedEvents(hashIds: boolean): Promise<void> {
    const events: SessionEvent[] = []
    const sessions = createSessions<AnyData>({ store: new MemoryStore(), hashIds, onEvent: (event) => events.push(event) })
    const jars = [new Jar(), new Jar(), new Jar()]
    const ids: string[] = []
    for (const jar of jars) {
      const { session } = await webRound(sessions, jar, (s) => s.bindUser('carol'))
      ids.push(session.id)
    }
    await webRound(sessions, new Jar(), (s) => s.bindUser('dave'))
    await settle()
    const created = events.filter((event) => event.type === 'created' && event.userId === 'carol').map((event) => event.idHash)
    expect(created).toHaveLength(3)
    events.length = 0
    expect(await sessions.revokeUser('carol', { except: ids[0] })).toBe(2)
    await settle()
    const revoked = events.filter((event) => event.type === 'revoked')
    expect(revoked).toHaveLength(2)
    expect(revoked.every((event) => event.userId === 'carol')).toBe(true)
    expect(revoked.map((event) => event.idHash).sort()).toEqual(created.slice(1).sort())
    expect(revoked.every((event) => event.at instanceof Date)).toBe(true)
  }

  it('review 10: one revoked event per revoked session, with its idHash and userId, on a server-side store', async () => {
    await revokedEvents(false)
  })

  it('review 10: with hashIds, the revoked events carry the same idHash as the sessions’ other events', async () => {
    await revokedEvents(true)
  })
})

describe('review 15: strings no store can keep are refused before any store, the same on every store', () => {
  let server: PostgresServer
  let pool: pg.Pool
  let postgres: PostgresStore
  beforeAll(async () => {
    server = await startPostgres()
    pool = new pg.Pool({ connectionString: server.url, max: 4 })
    postgres = new PostgresStore({ pool, table: 'review15_sessions' })
  }, 120_000)
  afterAll(async () => {
    postgres?.close()
    await pool?.end()
    await server?.stop()
  }, 60_000)

  /** Commits `change` on a stored session; resolves to the SessionError it got, or undefined. */
  async function commitError(sessions: Sessions<AnyData>, jar: Jar, change: (session: Awaited<ReturnType<Sessions<AnyData>['get']>>) => void): Promise<SessionError | undefined> {
    const session = await sessions.get(webRequest(jar), new Response('ok'))
    try {
      change(session)
      await session.commit()
      return undefined
    } catch (error) {
      if (error instanceof SessionError) return error
      throw error
    }
  }

  async function refusesEverywhere(store: SessionStore): Promise<void> {
    const spied = vi.spyOn(store, 'set')
    const sessions = createSessions<AnyData>({ store })
    const jar = new Jar()
    await webRound(sessions, jar, (session) => void (session.data.n = 1))
    const cases: [(session: Awaited<ReturnType<Sessions<AnyData>['get']>>) => void, string][] = [
      [(session) => void (session.data.profile = { name: 'ada\u0000lovelace' }), 'data.profile.name'],
      [(session) => void (session.data.notes = ['fine', 'half a pair \uD83D']), 'data.notes[1]'],
      [(session) => void (session.data.notes = ['\uDE00 low first']), 'data.notes[0]'],
      [(session) => void (session.data['a\u0000b'] = 1), 'data["a\\u0000b"] (the key)'],
      [(session) => void (session.data.deep = { 'odd key': { list: [{ x: '\u0000' }] } }), 'data.deep["odd key"].list[0].x'],
    ]
    for (const [change, path] of cases) {
      const error = await commitError(sessions, jar, change)
      expect(error?.code).toBe('INVALID_DATA')
      expect(error!.message).toContain(path)
      expect(error!.message).not.toMatch(/lovelace|half a pair|low first/)
    }
    // A fresh session is refused the same way, before the store is asked.
    spied.mockClear()
    const fresh = await commitError(sessions, new Jar(), (session) => void (session.data.name = 'x\u0000'))
    expect(fresh?.code).toBe('INVALID_DATA')
    expect(spied).not.toHaveBeenCalled()
    // A user id with NUL or a lone surrogate: refused at bindUser().
    const session = await sessions.get(webRequest(jar), new Response('ok'))
    for (const userId of ['al\u0000ice', 'bob\uD800']) {
      let caught: unknown
      try {
        session.bindUser(userId)
      } catch (error) {
        caught = error
      }
      expect(caught).toBeInstanceOf(SessionError)
      expect((caught as SessionError).code).toBe('INVALID_DATA')
    }
    // Valid text (emoji: a proper surrogate pair) still round-trips, and the session is unharmed.
    await webRound(sessions, jar, (s) => void (s.data.name = 'ada 😀'))
    const again = await webRound(sessions, jar, (s) => s)
    expect(again.session.isNew).toBe(false)
    expect(again.session.data).toEqual({ n: 1, name: 'ada 😀' })
    spied.mockRestore()
  }

  it('review 15: MemoryStore: U+0000 and lone surrogates in data, keys and user ids give INVALID_DATA naming the key path', async () => {
    await refusesEverywhere(new MemoryStore())
  })

  it('review 15: PostgresStore: the same values give INVALID_DATA, not STORE_ERROR', async () => {
    await refusesEverywhere(postgres)
  })
})

describe('review 17: one Set-Cookie per cookie name per response', () => {
  it('review 17: withSession replaces a session cookie the handler’s response already carried', async () => {
    const sessions = createSessions<AnyData>({ store: new MemoryStore() })
    const handler = withSession(sessions, (_request, session) => {
      session.data.user = 'ada'
      const response = new Response('ok', { headers: { 'cache-control': 'public, max-age=60' } })
      response.headers.append('set-cookie', 'sid=stale; Path=/')
      response.headers.append('set-cookie', 'theme=dark; Path=/')
      return response
    })
    const response = await handler(webRequest())
    const lines = response.headers.getSetCookie()
    expect(lines.map((line) => line.slice(0, line.indexOf('=')))).toEqual(['theme', 'sid'])
    expect(named(lines)[0]).not.toMatch(/^sid=stale/)
    expect(response.headers.get('cache-control')).toBe('private, max-age=60')
  })

  it('review 17: node:http: a Set-Cookie for sid given to writeHead() or set earlier gives way to the session’s', async () => {
    const sessions = createSessions<AnyData>({ store: new MemoryStore() })
    const server = await serve(async (req: IncomingMessage, res: ServerResponse) => {
      res.setHeader('Set-Cookie', ['sid=from-setHeader; Path=/', 'a=1'])
      const session = await sessions.get(nodeReq(req), res)
      session.data.user = 'ada'
      res.writeHead(200, { 'Set-Cookie': ['sid=from-writeHead; Path=/', 'b=2'] })
      res.end('ok')
    })
    running.push(server)
    const lines = (await fetch(server.url)).headers.getSetCookie()
    expect(lines.map((line) => line.slice(0, line.indexOf('=')))).toEqual(['a', 'b', 'sid'])
    expect(named(lines)[0]).not.toMatch(/from-/)
  })
})

// Migration from iron-session, against the real package: its seals open as sessions, bad ones
// give fresh sessions, never an exception.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { getIronSession, sealData } from 'iron-session'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ironSeal } from '../../src/core/iron.js'
import { Jar, serve, type Running } from '../helpers.js'
import type { Sessions } from '../../src/index.js'
import { cookieSessions, describeSession, IRON_PASSWORD, nodeApp, webRequest, type AnyData, type Described } from './helpers.js'

const OLD_IRON = 'old-iron-password-0123456789-abcdefghijkl'
const running: Running[] = []
afterEach(async () => {
  vi.useRealTimers()
  await Promise.all(running.splice(0).map((server) => server.close()))
})

async function json(response: Response): Promise<Described> {
  expect(response.status).toBe(200)
  return (await response.json()) as Described
}

function ironSessions(password: string | Record<string, string> = IRON_PASSWORD) {
  return cookieSessions({ storeOptions: { iron: { password } } }).sessions
}

/** The session as loaded, before any commit (which may touch it). */
async function peek(sessions: Sessions<AnyData>, cookie: string): Promise<Described> {
  return describeSession(await sessions.get(new Request('http://app.test/', { headers: { cookie } })))
}

/** The cookie header a browser sends for an iron-session seal stored under `sid`. */
const asCookie = (seal: string) => `sid=${encodeURIComponent(seal)}`

describe('CookieStore: migration from iron-session (real iron-session package)', () => {
  it('a seal made by iron-session’s sealData opens as the session data (node:http)', async () => {
    const before = Date.now()
    const data = { user: { id: 7, name: 'Ana' }, isLoggedIn: true, roles: ['admin'] }
    const seal = await sealData(data, { password: IRON_PASSWORD })
    expect(seal.startsWith('Fe26.2*')).toBe(true)

    const server = await nodeApp(ironSessions() as never)
    running.push(server)
    const jar = new Jar()
    jar.cookies.set('sid', seal)
    const seen = await json(await jar.fetch(server.url))
    expect(seen).toMatchObject({ isNew: false, data })
    expect(seen.id).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(seen.createdAt).toBeGreaterThanOrEqual(before)
    // Expiry from the seal: iron-session's default ttl is 14 days.
    expect(Math.abs(seen.expiresAt - (before + 14 * 24 * 3600 * 1000))).toBeLessThan(5000)
  })

  it('a cookie set by a real iron-session server keeps the user logged in on Tessera; the first write re-seals as t1', async () => {
    const iron = await serve(async (req: IncomingMessage, res: ServerResponse) => {
      const session = await getIronSession<{ user?: string; visits?: number }>(req, res, {
        password: IRON_PASSWORD,
        cookieName: 'sid',
        cookieOptions: { secure: false },
      })
      session.user = 'grace'
      session.visits = 3
      await session.save()
      res.end('saved')
    })
    running.push(iron)
    const jar = new Jar()
    await jar.fetch(iron.url)
    expect(jar.cookies.get('sid')).toMatch(/^Fe26\.2\*/)

    const tessera = await nodeApp(ironSessions() as never)
    running.push(tessera)
    expect(await json(await jar.fetch(tessera.url))).toMatchObject({ isNew: false, data: { user: 'grace', visits: 3 } })

    const written = await jar.fetch(`${tessera.url}/set`, { method: 'POST', body: JSON.stringify({ visits: 4 }) })
    expect(written.headers.getSetCookie()).toHaveLength(1)
    expect(jar.cookies.get('sid')).toMatch(/^t2\./)
    expect((await json(await jar.fetch(tessera.url))).data).toEqual({ user: 'grace', visits: 4 })
    // The re-sealed cookie no longer needs the iron password.
    const plain = await nodeApp(cookieSessions().sessions as never)
    running.push(plain)
    expect((await json(await jar.fetch(plain.url))).data).toEqual({ user: 'grace', visits: 4 })
  })

  it('iron-session password maps: old and new ids open; an id the map lacks does not', async () => {
    const both = { 1: OLD_IRON, 2: IRON_PASSWORD }
    const sessions = ironSessions(both)
    const underNew = await sealData({ v: 'new' }, { password: both }) // iron-session seals with the highest id
    const underOld = await sealData({ v: 'old' }, { password: { 1: OLD_IRON } })
    expect((await webRequest(sessions, asCookie(underNew))).session.data).toEqual({ v: 'new' })
    expect((await webRequest(sessions, asCookie(underOld))).session.data).toEqual({ v: 'old' })
    expect((await webRequest(ironSessions({ 2: IRON_PASSWORD }), asCookie(underOld))).session.isNew).toBe(true)
    // A single password string opens whatever id the seal names, as iron-session does.
    expect((await webRequest(ironSessions(OLD_IRON), asCookie(underOld))).session.data).toEqual({ v: 'old' })
  })

  it('tampered iron cookies give a fresh session, never an exception', async () => {
    const sessions = ironSessions()
    const seal = await sealData({ user: 'mallory-target' }, { password: IRON_PASSWORD })
    const parts = seal.slice(0, -2).split('*')
    const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1)
    const variants = [
      seal.slice(0, -10),
      seal.slice(0, seal.length / 2),
      seal + 'x',
      flip(seal, 40), // encryption salt
      flip(seal, seal.indexOf('*', 80) + 3), // inside iv / ciphertext
      flip(seal, seal.length - 5), // hmac
      [...parts.slice(0, 5), String(Number(parts[5]) + 1000), ...parts.slice(6)].join('*') + '~2', // longer expiry
      [parts[0], '2', ...parts.slice(2)].join('*') + '~2', // other password id
      seal.replace('Fe26.2', 'Fe26.1'),
      seal.slice(0, -2) + '~3',
      'Fe26.2*',
      'Fe26.2********',
    ]
    for (const variant of variants) {
      expect(variant).not.toBe(seal)
      const result = await webRequest(sessions, asCookie(variant))
      expect(result.session, variant).toMatchObject({ isNew: true, data: {} })
      expect(result.error).toBeUndefined()
    }
    expect((await webRequest(sessions, asCookie(seal))).session.data).toEqual({ user: 'mallory-target' }) // control
  })

  it('wrong password, or no iron option at all, gives a fresh session', async () => {
    const seal = await sealData({ user: 'x' }, { password: IRON_PASSWORD })
    expect((await webRequest(ironSessions(OLD_IRON), asCookie(seal))).session.isNew).toBe(true)
    expect((await webRequest(cookieSessions().sessions, asCookie(seal))).session.isNew).toBe(true)
  })

  it('honours the seal’s embedded expiry; a seal without expiry (ttl: 0) opens until a fixed not-after', async () => {
    const T0 = Date.UTC(2031, 5, 1)
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(T0)
    const sessions = ironSessions()
    const short = await sealData({ short: true }, { password: IRON_PASSWORD, ttl: 60 })
    const forever = await sealData({ forever: true }, { password: IRON_PASSWORD, ttl: 0 })

    vi.setSystemTime(T0 + 59_000)
    expect(await peek(sessions, asCookie(short))).toMatchObject({ isNew: false, data: { short: true }, expiresAt: T0 + 60_000 })
    vi.setSystemTime(T0 + 61_000)
    expect((await webRequest(sessions, asCookie(short))).session.isNew).toBe(true)

    // Review 3: no expiry in the seal gives a fixed not-after (iron.noExpiryUntil; by default 14
    // days after the store was made), not "14 days from any request".
    vi.setSystemTime(T0 + 13 * 24 * 3600 * 1000)
    expect(await peek(sessions, asCookie(forever))).toMatchObject({ isNew: false, data: { forever: true }, expiresAt: T0 + 14 * 24 * 3600 * 1000 })
    vi.setSystemTime(T0 + 365 * 24 * 3600 * 1000)
    expect((await webRequest(sessions, asCookie(forever))).session.isNew).toBe(true)
  })

  it('iron-session v6/v7 tokens (no ~2, data under `persistent`) open; seals that hold no object do not', async () => {
    const sessions = ironSessions()
    const v6 = (await ironSeal({ persistent: { user: 'legacy' } }, IRON_PASSWORD)).slice(0, -2)
    expect((await webRequest(sessions, asCookie(v6))).session.data).toEqual({ user: 'legacy' })
    // iron-session itself reads these as an empty session: Tessera starts a fresh one.
    const v8WithoutMarker = (await sealData({ user: 'x' }, { password: IRON_PASSWORD })).slice(0, -2)
    expect((await webRequest(sessions, asCookie(v8WithoutMarker))).session.isNew).toBe(true)
    for (const value of ['a string', 42, null, ['array']]) {
      const seal = await sealData(value as never, { password: IRON_PASSWORD })
      expect((await webRequest(sessions, asCookie(seal))).session.isNew).toBe(true)
    }
  })
})

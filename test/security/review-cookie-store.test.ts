// The outside security review (issue 15), the cookie store's items: review 2 (a logout made final
// with a revocation list), review 3 (iron-session seals keep their age and their user). Each test
// failed before its fix. docs/security.md ("The outside review") says what changed.
import { Redis } from 'ioredis'
import { sealData } from 'iron-session'
import { createClient } from 'redis'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { CookieStore, memoryRevocations, type Revocations, type Sessions } from '../../src/index.js'
import { redisRevocations } from '../../src/redis.js'
import { cookieSessions, IRON_PASSWORD, setPairs, webRequest, type AnyData } from '../cookie-store/helpers.js'
import { startRedis, type RedisServer } from '../harness/redis.js'

const DAY = 24 * 3600 * 1000

/** `sid=<value>` of the Set-Cookie lines, or undefined when none sets it. */
function sid(setCookies: readonly string[]): string | undefined {
  const value = setPairs(setCookies).get('sid')
  return value === undefined ? undefined : `sid=${value}`
}

/** Logs in: a new session bound to `user`; its cookie. */
async function login(sessions: Sessions<AnyData>, user = 'u1'): Promise<string> {
  const { setCookies } = await webRequest(sessions, undefined, (session) => {
    session.data.user = user
    session.bindUser(user)
  })
  return sid(setCookies)!
}

/** The race: A loads, B logs out, A commits later. Returns A's cookie and the session it opens to. */
async function raceLogout(sessions: Sessions<AnyData>): Promise<{ aCookie: string; after: { isNew: boolean; data: AnyData } }> {
  const cookie = await login(sessions)
  const request = new Request('http://app.test/', { headers: { cookie } })
  const response = new Response('ok')
  const a = await sessions.get(request, response) // A has loaded
  const logout = await webRequest(sessions, cookie, (session) => session.destroy()) // B logs out
  expect(logout.error).toBeUndefined()
  a.data.cart = ['slow'] // A answers afterwards, with a valid seal
  await a.commit()
  const aCookie = sid(response.headers.getSetCookie())!
  expect(aCookie).toBeDefined()
  const after = (await webRequest(sessions, aCookie)).session
  return { aCookie, after }
}

describe('review 2: a cookie store logout is final with a revocation list', () => {
  it('review 2: a request slower than the logout answers with a seal that no longer opens (memoryRevocations)', async () => {
    const { sessions } = cookieSessions<AnyData>({ storeOptions: { revoked: memoryRevocations() } })
    const { after } = await raceLogout(sessions)
    expect(after.isNew).toBe(true)
    expect(after.data).toEqual({})
  })

  it('review 2: after regenerate() the old seal no longer opens; the new one does', async () => {
    const { sessions } = cookieSessions<AnyData>({ storeOptions: { revoked: memoryRevocations() } })
    const before = await login(sessions)
    const { setCookies } = await webRequest(sessions, before, (session) => session.regenerate())
    const renewed = sid(setCookies)!
    expect((await webRequest(sessions, before)).session.isNew).toBe(true)
    expect((await webRequest(sessions, renewed)).session).toMatchObject({ isNew: false, data: { user: 'u1' } })
  })

  it('review 2: the list holds a seal id only for the seal’s lifetime, and a revoked seal reports a revoked event', async () => {
    const added: { id: string; until: number }[] = []
    const inner = memoryRevocations()
    const revoked: Revocations = { has: (id) => inner.has(id), add: (id, until) => (added.push({ id, until }), inner.add(id, until)) }
    const events: string[] = []
    const { sessions } = cookieSessions<AnyData>({ ttl: 3600, storeOptions: { revoked }, onEvent: (event) => void events.push(event.type) })
    const cookie = await login(sessions)
    const started = Date.now()
    await webRequest(sessions, cookie, (session) => session.destroy())
    expect(added).toHaveLength(1)
    // The seal's lifetime (a request may still seal it, ttl from its commit) plus a margin, no more.
    expect(added[0]!.until).toBeGreaterThanOrEqual(started + 3600_000)
    expect(added[0]!.until).toBeLessThanOrEqual(Date.now() + 3600_000 + 10 * 60_000)
    expect((await webRequest(sessions, cookie)).session.isNew).toBe(true)
    expect(events).toContain('revoked')
  })

  it('review 2: a session never logged out is not refused, and without the option nothing is looked up', async () => {
    const has = vi.fn(() => false)
    const { sessions } = cookieSessions<AnyData>({ storeOptions: { revoked: { has, add: () => undefined } } })
    const cookie = await login(sessions)
    expect((await webRequest(sessions, cookie)).session).toMatchObject({ isNew: false, userId: 'u1' })
    expect(has).toHaveBeenCalled()
    expect(() => new CookieStore({ revoked: { has: () => false } as never })).toThrow(/revoked/)
  })

  describe('on a real redis-server (redisRevocations)', () => {
    let redis: RedisServer
    let ioredis: Redis
    let nodeRedis: ReturnType<typeof createClient>
    beforeAll(async () => {
      redis = await startRedis()
      ioredis = new Redis(redis.url, { maxRetriesPerRequest: 1 })
      nodeRedis = createClient({ url: redis.url })
      await nodeRedis.connect()
    }, 30_000)
    afterAll(async () => {
      await ioredis?.quit()
      await nodeRedis?.quit()
      await redis?.stop()
    })

    for (const which of ['ioredis', 'node-redis'] as const) {
      it(`review 2: a request slower than the logout answers with a seal that no longer opens (${which})`, async () => {
        const client = which === 'ioredis' ? ioredis : nodeRedis
        const prefix = `rev-${which}:`
        const { sessions } = cookieSessions<AnyData>({ ttl: 600, storeOptions: { revoked: redisRevocations(client, { prefix }) } })
        const { after } = await raceLogout(sessions)
        expect(after.isNew).toBe(true)
        // One key, expiring with the seal (SET … PX).
        const keys = await ioredis.keys(`${prefix}*`)
        expect(keys).toHaveLength(1)
        const pttl = await ioredis.pttl(keys[0]!)
        expect(pttl).toBeGreaterThan(590_000)
        expect(pttl).toBeLessThanOrEqual(600_000 + 10 * 60_000)
      })
    }
  })
})

describe('review 3: iron-session seals keep their age and their user', () => {
  afterEach(() => void vi.useRealTimers())

  it('review 3: a migrated seal’s createdAt comes from the seal and survives re-sealing, so absoluteTtl ends it', async () => {
    const T0 = Date.UTC(2031, 0, 1)
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(T0)
    const { sessions } = cookieSessions<AnyData>({ absoluteTtl: 2 * 24 * 3600, storeOptions: { iron: { password: IRON_PASSWORD } } })
    const seal = await sealData({ user: 'x' }, { password: IRON_PASSWORD }) // iron-session's default ttl: 14 days
    vi.setSystemTime(T0 + DAY)
    const first = await webRequest(sessions, `sid=${seal}`)
    expect(first.session).toMatchObject({ isNew: false, createdAt: T0 })
    const resealed = sid(first.setCookies)!
    expect(resealed.startsWith('sid=t')).toBe(true)
    vi.setSystemTime(T0 + DAY + 3600_000)
    expect((await webRequest(sessions, resealed)).session).toMatchObject({ isNew: false, createdAt: T0 })
    vi.setSystemTime(T0 + 2 * DAY + 1)
    expect((await webRequest(sessions, resealed)).session.isNew).toBe(true)
    expect((await webRequest(sessions, `sid=${seal}`)).session.isNew).toBe(true)
  })

  it('review 3: a ttl: 0 seal does not open 400 days later with absoluteTtl of one day, nor past its fixed not-after', async () => {
    const T0 = Date.UTC(2031, 0, 1)
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(T0)
    const forever = await sealData({ user: 'x' }, { password: IRON_PASSWORD, ttl: 0 })
    const notAfter = T0 + 30 * DAY
    const daily = cookieSessions<AnyData>({ absoluteTtl: 24 * 3600, storeOptions: { iron: { password: IRON_PASSWORD, noExpiryUntil: notAfter } } }).sessions
    vi.setSystemTime(T0 + 400 * DAY)
    expect((await webRequest(daily, `sid=${forever}`)).session.isNew).toBe(true)
    const plain = cookieSessions<AnyData>({ storeOptions: { iron: { password: IRON_PASSWORD, noExpiryUntil: notAfter } } }).sessions
    vi.setSystemTime(notAfter - 1000)
    // Opens until then, counting as created 14 days before it (absoluteTtl measures from there).
    expect((await webRequest(plain, `sid=${forever}`)).session).toMatchObject({ isNew: false, createdAt: notAfter - 14 * DAY })
    vi.setSystemTime(notAfter + 1)
    expect((await webRequest(plain, `sid=${forever}`)).session.isNew).toBe(true)
  })

  it('review 3: with iron.userId, "log out everywhere" (revokedBefore) refuses a stolen iron cookie replayed, and its re-seal', async () => {
    const T0 = Date.UTC(2031, 0, 1)
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(T0)
    let revokedAt: number | undefined
    const { sessions } = cookieSessions<AnyData>({
      storeOptions: {
        iron: { password: IRON_PASSWORD, userId: (data) => (data as { user?: string }).user },
        revokedBefore: () => revokedAt,
      },
    })
    const stolen = await sealData({ user: 'alice' }, { password: IRON_PASSWORD })
    vi.setSystemTime(T0 + 1000)
    const first = await webRequest(sessions, `sid=${stolen}`)
    expect(first.session).toMatchObject({ isNew: false, userId: 'alice', createdAt: T0 })
    const resealed = sid(first.setCookies)!
    vi.setSystemTime(T0 + 2000)
    revokedAt = Date.now() // log out everywhere
    vi.setSystemTime(T0 + 3000)
    expect((await webRequest(sessions, `sid=${stolen}`)).session.isNew).toBe(true)
    expect((await webRequest(sessions, resealed)).session.isNew).toBe(true)
  })
})

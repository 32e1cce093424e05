// Revocation of stateless sessions: unsupported without revokedBefore, checked on every request
// of a user-bound session with it.
import { afterEach, describe, expect, it } from 'vitest'
import { SessionError } from '../../src/index.js'
import { Jar, type Running } from '../helpers.js'
import { cookieSessions, nodeApp, webRequest, type Described } from './helpers.js'

const running: Running[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()))
})

async function json(response: Response): Promise<Described> {
  expect(response.status).toBe(200)
  return (await response.json()) as Described
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 3))

describe('CookieStore revocation', () => {
  it('without revokedBefore, revokeUser rejects with SessionError UNSUPPORTED (logout only clears the cookie)', async () => {
    const { sessions } = cookieSessions()
    const error = await sessions.revokeUser('u1').catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(SessionError)
    expect((error as SessionError).code).toBe('UNSUPPORTED')
    await expect(sessions.listUser('u1')).rejects.toMatchObject({ code: 'UNSUPPORTED' })
  })

  it('with revokedBefore after the session was created, the next request gets a fresh session (node:http)', async () => {
    const revoked = new Map<string, Date>()
    const calls: string[] = []
    const { sessions } = cookieSessions({
      storeOptions: {
        revokedBefore: (userId) => {
          calls.push(userId)
          return revoked.get(userId)
        },
      },
    })
    const server = await nodeApp(sessions as never)
    running.push(server)
    const url = server.url

    const ana = new Jar()
    const bob = new Jar()
    await ana.fetch(`${url}/set`, { method: 'POST', body: JSON.stringify({ cart: 1 }) })
    await ana.fetch(`${url}/login?user=ana`, { method: 'POST' })
    await bob.fetch(`${url}/login?user=bob`, { method: 'POST' })
    const copied = ana.cookies.get('sid')!
    expect(await json(await ana.fetch(url))).toMatchObject({ isNew: false, userId: 'ana', data: { cart: 1 } })
    expect(calls).toContain('ana')

    // "Log out everywhere": the app records the time; revokeUser confirms the store can enforce it.
    await tick()
    revoked.set('ana', new Date())
    await expect(sessions.revokeUser('ana')).resolves.toBe(0)

    expect(await json(await ana.fetch(url))).toMatchObject({ isNew: true, data: {} })
    const thief = new Jar()
    thief.cookies.set('sid', copied)
    expect((await json(await thief.fetch(url))).isNew).toBe(true)
    // Another user is untouched.
    expect(await json(await bob.fetch(url))).toMatchObject({ isNew: false, userId: 'bob' })

    // A session created after the revocation time is valid.
    await tick()
    const again = new Jar()
    await again.fetch(`${url}/login?user=ana`, { method: 'POST' })
    expect(await json(await again.fetch(url))).toMatchObject({ isNew: false, userId: 'ana' })
  })

  it('a revocation time before the session was created (Date or ms, sync or async) keeps it', async () => {
    for (const answer of [(t: number) => new Date(t - 1000), (t: number) => t - 1000, async (t: number) => t - 1000]) {
      let at = 0
      const { sessions } = cookieSessions({ storeOptions: { revokedBefore: () => answer(at) } })
      const first = await webRequest(sessions, undefined, (s) => s.bindUser('u'))
      at = first.session.createdAt
      const cookie = first.setCookies[0]!.split(';')[0]!
      expect((await webRequest(sessions, cookie)).session).toMatchObject({ isNew: false, userId: 'u' })
    }
  })

  it('an async revokedBefore revokes on the Web path too', async () => {
    let revokedAt: number | undefined
    const { sessions } = cookieSessions({ storeOptions: { revokedBefore: async () => revokedAt } })
    const first = await webRequest(sessions, undefined, (s) => s.bindUser(42))
    const cookie = first.setCookies[0]!.split(';')[0]!
    expect((await webRequest(sessions, cookie)).session.isNew).toBe(false)
    revokedAt = first.session.createdAt + 1
    expect((await webRequest(sessions, cookie)).session).toMatchObject({ isNew: true, userId: undefined })
  })

  it('sessions without a bound user are never checked', async () => {
    let calls = 0
    const { sessions } = cookieSessions({ storeOptions: { revokedBefore: () => (calls++, Date.now() + 60_000) } })
    const first = await webRequest(sessions, undefined, (s) => void (s.data.anonymous = true))
    const cookie = first.setCookies[0]!.split(';')[0]!
    expect((await webRequest(sessions, cookie)).session).toMatchObject({ isNew: false, data: { anonymous: true } })
    expect(calls).toBe(0)
  })

  it('a failing or nonsensical revokedBefore fails the request with STORE_ERROR instead of logging everyone out', async () => {
    let answer: () => unknown = () => undefined
    const { sessions } = cookieSessions({ storeOptions: { revokedBefore: () => answer() as never } })
    const first = await webRequest(sessions, undefined, (s) => s.bindUser('u'))
    const cookie = first.setCookies[0]!.split(';')[0]!
    const load = () => sessions.get(new Request('http://app.test/', { headers: { cookie } }))

    answer = () => {
      throw new Error('database down')
    }
    await expect(load()).rejects.toMatchObject({ code: 'STORE_ERROR', cause: { message: 'database down' } })
    answer = () => 'yesterday'
    await expect(load()).rejects.toMatchObject({ code: 'STORE_ERROR', cause: expect.any(TypeError) })
    answer = () => new Date('not a date')
    await expect(load()).rejects.toMatchObject({ code: 'STORE_ERROR' })
  })
})

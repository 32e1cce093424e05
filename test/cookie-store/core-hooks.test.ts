// What the cookie store needs from the core (see docs/cookie-store.md and the store's report):
//  1. createSessions hands its secrets to the store: `store.init?.({ secrets })`.
//  2. unseal's `reseal: true` (an iron-session seal, a seal under an older secret) makes the next
//     commit re-seal like a touch: fresh expiry, a new cookie even when nothing changed or
//     `rolling` is off, ignored where cookies are read-only.
// These tests fail until the core does both; the other cookie-store tests call init() themselves.
import { sealData } from 'iron-session'
import { afterEach, describe, expect, it } from 'vitest'
import { createSessions } from '../../src/index.js'
import { CookieStore } from '../../src/stores/cookie-store.js'
import { Jar, type Running } from '../helpers.js'
import { cookieSessions, IRON_PASSWORD, nodeApp, SECRET_A, SECRET_B, setPairs, webRequest, type AnyData, type Described } from './helpers.js'

const running: Running[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()))
})

async function json(response: Response): Promise<Described> {
  expect(response.status).toBe(200)
  return (await response.json()) as Described
}

describe('core hooks the cookie store relies on', () => {
  it('createSessions hands its secrets to the store (no manual init)', async () => {
    const sessions = createSessions<AnyData>({ store: new CookieStore(), secrets: [SECRET_A] })
    const first = await webRequest(sessions, undefined, (s) => void (s.data.n = 1))
    expect(first.error).toBeUndefined()
    expect(first.setCookies).toHaveLength(1)
    const cookie = first.setCookies[0]!.split(';')[0]!
    expect((await webRequest(sessions, cookie)).session).toMatchObject({ isNew: false, data: { n: 1 } })
  })

  it('an iron-session cookie is re-sealed as t1 on the first response, even when the request only reads', async () => {
    for (const rolling of [true, false]) {
      const { sessions } = cookieSessions({ rolling, storeOptions: { iron: { password: IRON_PASSWORD } } })
      const server = await nodeApp(sessions as never)
      running.push(server)
      const jar = new Jar()
      jar.cookies.set('sid', await sealData({ user: 'grace' }, { password: IRON_PASSWORD }))

      const read = await jar.fetch(server.url)
      expect((await json(read)).data).toEqual({ user: 'grace' })
      const lines = read.headers.getSetCookie()
      expect(lines, `rolling: ${rolling}`).toHaveLength(1)
      expect(lines[0]).toMatch(/^sid=t2\./)
      expect(jar.cookies.get('sid')).toMatch(/^t2\./)

      // Now a Tessera session: a plain read sends nothing more, the data is intact.
      const next = await jar.fetch(server.url)
      expect(next.headers.getSetCookie()).toEqual([])
      expect((await json(next)).data).toEqual({ user: 'grace' })
    }
  })

  it('a cookie sealed under an older secret is re-sealed under the first one, so rotation completes', async () => {
    const before = cookieSessions({ secrets: [SECRET_A] }).sessions
    const old = (await webRequest(before, undefined, (s) => void (s.data.who = 'active user'))).setCookies[0]!.split(';')[0]!

    const rotating = cookieSessions({ secrets: [SECRET_B, SECRET_A] }).sessions
    const during = await webRequest(rotating, old)
    const resealed = setPairs(during.setCookies).get('sid')
    expect(resealed).toMatch(/^t2\./)
    expect(resealed!.split('.')[1]).not.toBe(old.split('=')[1]!.split('.')[1])
    // Once re-sealed it no longer needs the old secret; a current cookie is not re-sealed again.
    const after = cookieSessions({ secrets: [SECRET_B] }).sessions
    expect((await webRequest(after, `sid=${resealed}`)).session.data).toEqual({ who: 'active user' })
    expect((await webRequest(rotating, `sid=${resealed}`)).setCookies).toEqual([])
  })

  it('where cookies are read-only (a server component), a pending re-seal is skipped, not an error', async () => {
    const { sessions } = cookieSessions({ storeOptions: { iron: { password: IRON_PASSWORD } } })
    const seal = await sealData({ user: 'grace' }, { password: IRON_PASSWORD })
    const readOnly = {
      get: (name: string) => (name === 'sid' ? { name, value: seal } : undefined),
      getAll: () => [{ name: 'sid', value: seal }],
      set: () => {
        throw new Error('Cookies can only be modified in a Server Action or Route Handler.')
      },
      delete: () => {
        throw new Error('read-only')
      },
    }
    const session = await sessions.get(readOnly)
    expect(session.data).toEqual({ user: 'grace' })
    await expect(session.commit()).resolves.toEqual([])
  })
})

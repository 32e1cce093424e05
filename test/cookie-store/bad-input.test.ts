// Whatever the browser sends, a bad cookie is a fresh session: never an exception, never data.
import { afterEach, describe, expect, it } from 'vitest'
import { Sealer } from '../../src/core/seal.js'
import type { SessionEvent } from '../../src/index.js'
import { Jar, type Running } from '../helpers.js'
import { cookieHeader, cookieSessions, filler, nodeApp, SECRET_A, SECRET_C, setPairs, webRequest, type Described } from './helpers.js'

const running: Running[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()))
})

const ID = 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcd'
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

async function validCookie() {
  const { sessions } = cookieSessions()
  const { setCookies } = await webRequest(sessions, undefined, (s) => {
    s.data.secret = 'must never leak'
    s.bindUser('victim')
  })
  const value = setPairs(setCookies).get('sid')!
  expect((await webRequest(sessions, `sid=${value}`)).session.isNew).toBe(false) // control
  return { sessions, value }
}

async function expectFresh(sessions: Awaited<ReturnType<typeof validCookie>>['sessions'], header: string): Promise<void> {
  const result = await webRequest(sessions, header)
  expect(result.error, header.slice(0, 80)).toBeUndefined()
  expect(result.session, header.slice(0, 80)).toMatchObject({ isNew: true, data: {}, userId: undefined })
  expect(result.setCookies).toEqual([])
}

describe('CookieStore: bad cookies give a fresh session', () => {
  it('truncated at any length', async () => {
    const { sessions, value } = await validCookie()
    for (let length = 0; length < value.length; length += 3) await expectFresh(sessions, `sid=${value.slice(0, length)}`)
    await expectFresh(sessions, `sid=${value.slice(0, -1)}`)
    await expectFresh(sessions, `sid=${value.slice(1)}`)
  })

  it('tampered at any position', async () => {
    const { sessions, value } = await validCookie()
    for (let i = 0; i < value.length; i++) {
      const replacement = value[i] === '.' ? 'A' : B64URL[(B64URL.indexOf(value[i]!) + 1 + (i % 63)) % 64]!
      await expectFresh(sessions, `sid=${value.slice(0, i)}${replacement}${value.slice(i + 1)}`)
    }
    // Extra characters, swapped parts, case changes.
    const [v, kid, iv, ct] = value.split('.') as [string, string, string, string]
    for (const tampered of [value + 'A', `${v}.${kid}.${ct}.${iv}`, `${v}.${kid}.${iv}`, value.toUpperCase(), `${v}.${kid}.${iv}.${ct}.${ct}`]) {
      await expectFresh(sessions, `sid=${tampered}`)
    }
  })

  it('sealed under a key the app does not hold', async () => {
    const { sessions } = await validCookie()
    const foreign = cookieSessions({ secrets: [SECRET_C] }).store
    const sealed = await foreign.seal(ID, { data: { admin: true }, createdAt: Date.now(), expiresAt: Date.now() + 60_000 })
    await expectFresh(sessions, `sid=${sealed}`)
    // Same kid as the app's key but ciphertext from another key: still refused.
    const own = (await validCookie()).value.split('.')[1]!
    const [v, , iv, ct] = sealed.split('.') as [string, string, string, string]
    await expectFresh(sessions, `sid=${v}.${own}.${iv}.${ct}`)
  })

  it('of another format version, or an authentic seal holding no valid session', async () => {
    const { sessions, value } = await validCookie()
    for (const prefix of ['t1', 't3', 't0', 'T2', 'v1', '']) await expectFresh(sessions, `sid=${prefix}${value.slice(2)}`)
    // Authentic AES-GCM seals (the app's own key) whose payload is not a session.
    const sealer = new Sealer([SECRET_A])
    const now = Date.now()
    const good = { v: 1, i: ID, d: { a: 1 }, c: now, e: now + 60_000 }
    expect((await webRequest(sessions, `sid=${await sealer.seal(JSON.stringify(good))}`)).session.isNew).toBe(false) // control
    const payloads = [
      'not json',
      '',
      'null',
      '[]',
      JSON.stringify({ ...good, v: 2 }),
      JSON.stringify({ ...good, v: undefined }),
      JSON.stringify({ ...good, i: 'short' }),
      JSON.stringify({ ...good, i: '../../etc/passwd-xxxxxxxx' }),
      JSON.stringify({ ...good, d: [1, 2] }),
      JSON.stringify({ ...good, d: null }),
      JSON.stringify({ ...good, d: 'text' }),
      JSON.stringify({ ...good, c: '0' }),
      JSON.stringify({ ...good, e: 1e400 }),
      JSON.stringify({ ...good, e: -5 }),
      JSON.stringify({ ...good, e: null }),
      JSON.stringify({ ...good, c: undefined }),
      JSON.stringify({ ...good, u: 42 }),
      JSON.stringify({ ...good, e: now - 1 }), // authentic but expired
    ]
    for (const payload of payloads) await expectFresh(sessions, `sid=${await sealer.seal(payload)}`)
  })

  it('oversized: a huge single cookie, huge chunk sets, an authentic seal past 64 KiB', async () => {
    const { sessions, value } = await validCookie()
    await expectFresh(sessions, `sid=${value}${'A'.repeat(70_000)}`)
    await expectFresh(sessions, `sid=${'A'.repeat(200_000)}`)
    await expectFresh(sessions, cookieHeader(Array.from({ length: 40 }, (_, i) => [`sid.${i}`, filler(4000, i + 1)] as const)))
    const sealer = new Sealer([SECRET_A])
    const now = Date.now()
    const huge = await sealer.seal(JSON.stringify({ v: 1, i: ID, d: { blob: filler(50_000) }, c: now, e: now + 60_000 }))
    expect(huge.length).toBeGreaterThan(64 * 1024)
    await expectFresh(sessions, `sid=${huge}`)
  })

  it('duplicated cookies: the first `sid` counts and a bad first one is not skipped for a good second', async () => {
    const { sessions, value } = await validCookie()
    await expectFresh(sessions, `sid=junk; sid=${value}`)
    await expectFresh(sessions, `sid=; sid=${value}`)
    await expectFresh(sessions, `sid=${value}${value}`)
    await expectFresh(sessions, `sid=${value},${value}`)
    await expectFresh(sessions, `sid="${value}`)
    // Two authentic cookies (e.g. two paths): exactly the first opens, never a mix.
    const other = (await webRequest(sessions, undefined, (s) => void (s.data.other = true))).setCookies
    const otherValue = setPairs(other).get('sid')!
    expect((await webRequest(sessions, `sid=${otherValue}; sid=${value}`)).session.data).toEqual({ other: true })
  })

  it('junk of every kind; an invalid-signature event is reported', async () => {
    const events: SessionEvent[] = []
    const { sessions } = cookieSessions({ onEvent: (event) => events.push(event) })
    for (const junk of ['%', '%E0%A4%A', '%00', 'Fe26.2*', 't1....', 't1.AAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA.AAAA', '\\u0000', 'undefined', '{}', '=====']) {
      await expectFresh(sessions, `sid=${junk}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(events.some((event) => event.type === 'invalid-signature')).toBe(true)
  })

  it('over node:http too: tampered, truncated, duplicated and broken chunk sets never fail the request', async () => {
    const { sessions, value } = await validCookie()
    const server = await nodeApp(sessions as never)
    running.push(server)
    const headers = [
      `sid=${value.slice(0, 50)}`,
      `sid=${value.slice(0, -3)}AAA`,
      `sid=x; sid=${value}`,
      `sid.0=${value.slice(0, 40)}; sid.2=${value.slice(40)}`,
      `sid.1=${value.slice(40)}; sid.0=${value.slice(0, 40)}x`,
      `sid=%E0%A4%A`,
    ]
    for (const cookie of headers) {
      const response = await fetch(server.url, { headers: { cookie } })
      expect(response.status, cookie).toBe(200)
      expect(((await response.json()) as Described).isNew).toBe(true)
    }
    // Control: the intact value, and its split into chunks, open.
    const ok = new Jar()
    ok.cookies.set('sid.0', value.slice(0, 40))
    ok.cookies.set('sid.1', value.slice(40))
    expect(((await (await ok.fetch(server.url)).json()) as Described).data).toEqual({ secret: 'must never leak' })
  })
})

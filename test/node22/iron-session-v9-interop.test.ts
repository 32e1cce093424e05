// tessera/compat/iron-session/v9 against the real iron-session 9.0.1 (installed as the npm alias
// iron-session-9; it needs Node 22.13+, so this file runs in the `node22` vitest project only, see
// vitest.config.ts and scripts/test.mjs). Both ways, chunked cookies included: a fleet half on
// iron-session 9 and half on Tessera, or a rollback, keeps every user logged in.
import type { IncomingMessage, ServerResponse } from 'node:http'
import * as real from 'iron-session-9'
import * as realV8 from 'iron-session'
import { afterEach, describe, expect, it } from 'vitest'
import * as ours from '../../src/compat/iron-session-v9.js'
import { Jar, serve, type Running } from '../helpers.js'

const password = 'complex_password_at_least_32_characters_long'
type Data = { user?: { id: number; name: string }; blob?: string }

const running: Running[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()))
})

type Get = (req: IncomingMessage, res: ServerResponse) => Promise<Partial<Data> & { save(): Promise<void>; destroy(): void }>

/** /login saves a user (and /big a blob past one cookie), /logout destroys, any path answers the session. */
async function app(get: Get): Promise<string> {
  const server = await serve(async (req, res) => {
    const session = await get(req, res)
    if (req.url === '/login') {
      session.user = { id: 1, name: 'Alice' }
      delete session.blob
      await session.save()
    } else if (req.url === '/big') {
      session.blob = 'x'.repeat(9000)
      await session.save()
    } else if (req.url === '/logout') {
      session.destroy()
    }
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ user: session.user ?? null, blob: session.blob?.length ?? 0 }))
  })
  running.push(server)
  return server.url
}

const options = { cookieName: 'app', password, cookieOptions: { secure: false } }
const chunked = { ...options, chunk: true }
const oursOn = (o: ours.SessionOptions): Get => (req, res) => ours.getIronSession<Data>(req, res, o) as never
const theirsOn = (o: real.SessionOptions): Get => (req, res) => real.getIronSession<Data>(req, res, o) as never

const names = (jar: Jar) => [...jar.cookies.keys()].sort()
const attributes = (line: string) => line.slice(line.indexOf(';'))
const body = async (response: Response) => (await response.json()) as { user: Data['user'] | null; blob: number }

describe('sealData / unsealData with the real iron-session 9', () => {
  it('each opens what the other sealed', async () => {
    const data = { user: { id: 1, name: 'Alice' } }
    expect(await real.unsealData(await ours.sealData(data, { password }), { password })).toEqual(data)
    expect(await ours.unsealData(await real.sealData(data, { password }), { password })).toEqual(data)
  })

  it('both refuse a Date with the same message, naming the field', async () => {
    const data = { user: { lastSeen: new Date() } }
    const theirs = await real.sealData(data, { password }).then(() => '', (error: Error) => error.message)
    const mine = await ours.sealData(data, { password }).then(() => '', (error: Error) => error.message)
    expect(mine).toContain('session.user.lastSeen is a Date')
    expect(mine).toBe(theirs)
  })

  it('onUnsealError gives the same reason for an expired seal, an unknown password and a tampered one', async () => {
    const reasons = async (unseal: typeof real.unsealData, seal: string, opts: { password: string | Record<string, string> }) => {
      const seen: string[] = []
      await unseal(seal, { ...opts, onUnsealError: (reason) => seen.push(reason) })
      return seen
    }
    const expired = await real.sealData({ a: 1 }, { password, ttl: 1 })
    const now = Date.now
    Date.now = () => now() + 120_000
    try {
      expect(await reasons(ours.unsealData as never, expired, { password })).toEqual(await reasons(real.unsealData, expired, { password }))
    } finally {
      Date.now = now
    }
    const sealed = await real.sealData({ a: 1 }, { password: { 7: password } })
    const rotatedAway = { password: { 8: 'another_password_at_least_32_characters!' } }
    expect(await reasons(ours.unsealData as never, sealed, rotatedAway)).toEqual(['unknown-password'])
    expect(await reasons(real.unsealData, sealed, rotatedAway)).toEqual(['unknown-password'])
    const tampered = sealed.replace(/\*([^*]{4})([^*]*~2)$/, '*AAAA$2')
    expect(await reasons(ours.unsealData as never, tampered, { password: { 7: password } })).toEqual(['invalid'])
    expect(await reasons(real.unsealData, tampered, { password: { 7: password } })).toEqual(['invalid'])
  })
})

describe('getIronSession: a fleet half on iron-session 9, half on Tessera', () => {
  it('writes the same Set-Cookie attributes as iron-session 9 (the value aside)', async () => {
    const lines = async (get: typeof real.getIronSession, jar: typeof real.webCookies) => {
      const saved = new Headers()
      const destroyed = new Headers()
      const session = await get<Data>(jar(new Request('https://example.com/'), saved), { cookieName: 'app', password })
      session.user = { id: 1, name: 'Alice' }
      await session.save()
      const again = await get<Data>(jar(new Request('https://example.com/', { headers: { cookie: saved.getSetCookie()[0]!.split(';')[0]! } }), destroyed), { cookieName: 'app', password })
      again.destroy()
      return [...saved.getSetCookie(), ...destroyed.getSetCookie()]
    }
    const mine = await lines(ours.getIronSession as never, ours.webCookies as never)
    const theirs = await lines(real.getIronSession, real.webCookies)
    expect(mine.map(attributes)).toEqual(theirs.map(attributes))
    expect(mine[0]).toMatch(/^app=Fe26\.2\*1\*[^;]+~2; Max-Age=1209540; Path=\/; HttpOnly; Secure; SameSite=Lax$/)
    expect(mine[1]).toBe('app=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax')
  })

  it('a user logged in on either server stays logged in on the other, and a logout on either holds', async () => {
    const tessera = await app(oursOn(options))
    const iron = await app(theirsOn(options))
    const jar = new Jar()
    expect((await body(await jar.fetch(`${tessera}/login`))).user).toEqual({ id: 1, name: 'Alice' })
    expect((await body(await jar.fetch(`${iron}/`))).user).toEqual({ id: 1, name: 'Alice' })
    await jar.fetch(`${iron}/logout`)
    expect((await body(await jar.fetch(`${tessera}/`))).user).toBeNull()

    await jar.fetch(`${iron}/login`)
    expect((await body(await jar.fetch(`${tessera}/`))).user).toEqual({ id: 1, name: 'Alice' })
    await jar.fetch(`${tessera}/logout`)
    expect(jar.cookies.size).toBe(0)
    expect((await body(await jar.fetch(`${iron}/`))).user).toBeNull()
  })

  it('iron-session 8 reads what this entry seals, and this entry reads what 8 sealed (a rollback to v8)', async () => {
    const tessera = await app(oursOn(options))
    const v8 = await app((req, res) => realV8.getIronSession<Data>(req, res, options) as never)
    const jar = new Jar()
    await jar.fetch(`${tessera}/login`)
    expect((await body(await jar.fetch(`${v8}/`))).user).toEqual({ id: 1, name: 'Alice' })
    jar.cookies.clear()
    await jar.fetch(`${v8}/login`)
    expect((await body(await jar.fetch(`${tessera}/`))).user).toEqual({ id: 1, name: 'Alice' })
  })
})

describe('chunk: true, both ways', () => {
  it('chunks this entry writes (app.0 … app.3) open in iron-session 9, and the other way round', async () => {
    const tessera = await app(oursOn(chunked))
    const iron = await app(theirsOn(chunked))
    const jar = new Jar()
    await jar.fetch(`${tessera}/big`)
    expect(names(jar)).toEqual(['app.0', 'app.1', 'app.2', 'app.3'])
    expect(await body(await jar.fetch(`${iron}/`))).toEqual({ user: null, blob: 9000 })

    jar.cookies.clear()
    await jar.fetch(`${iron}/big`)
    expect(names(jar)).toEqual(['app.0', 'app.1', 'app.2', 'app.3'])
    expect(await body(await jar.fetch(`${tessera}/`))).toEqual({ user: null, blob: 9000 })
  })

  it('shrinking back to one cookie expires the chunks, whichever side wrote them', async () => {
    const tessera = await app(oursOn(chunked))
    const iron = await app(theirsOn(chunked))
    const jar = new Jar()
    await jar.fetch(`${iron}/big`)
    await jar.fetch(`${tessera}/login`) // deletes the blob: one cookie again
    expect(names(jar)).toEqual(['app'])
    expect(await body(await jar.fetch(`${iron}/`))).toEqual({ user: { id: 1, name: 'Alice' }, blob: 0 })

    await jar.fetch(`${tessera}/big`)
    await jar.fetch(`${iron}/login`)
    expect(names(jar)).toEqual(['app'])
    expect(await body(await jar.fetch(`${tessera}/`))).toEqual({ user: { id: 1, name: 'Alice' }, blob: 0 })
  })

  it('destroy() expires every chunk, on either side', async () => {
    const tessera = await app(oursOn(chunked))
    const iron = await app(theirsOn(chunked))
    const jar = new Jar()
    await jar.fetch(`${iron}/big`)
    await jar.fetch(`${tessera}/logout`)
    expect(jar.cookies.size).toBe(0)
    await jar.fetch(`${tessera}/big`)
    await jar.fetch(`${iron}/logout`)
    expect(jar.cookies.size).toBe(0)
  })

  it('past 4 cookies both refuse the save, and send nothing', async () => {
    for (const get of [ours.getIronSession, real.getIronSession]) {
      const headers = new Headers()
      const session = await (get as typeof real.getIronSession)<Data>(ours.webCookies(new Request('https://example.com/'), headers), chunked)
      session.blob = 'x'.repeat(14_000)
      await expect(session.save()).rejects.toThrow(/iron-session: .*(cookies|too big)/)
      expect(headers.getSetCookie()).toEqual([])
    }
  })
})

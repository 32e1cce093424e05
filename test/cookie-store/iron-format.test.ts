// CookieStore({ format: 'iron' }), chunk: false, the 4-chunk cap and cookie.maxAgeOffset, through
// the native API: what tessera/compat/iron-session is built from.
import { sealData, unsealData } from 'iron-session'
import { describe, expect, it } from 'vitest'
import { createSessions, SessionError } from '../../src/index.js'
import { CookieStore } from '../../src/stores/cookie-store.js'
import { IRON_PASSWORD, SECRET_A, type AnyData } from './helpers.js'

const request = (cookie?: string) => new Request('https://app.test/', cookie ? { headers: { cookie } } : {})
const valueOf = (line: string) => line.split(';')[0]!.slice(line.indexOf('=') + 1)

function ironFormat(options: { chunk?: boolean; maxAgeOffset?: number; ttl?: number } = {}) {
  return createSessions<AnyData>({
    name: 'sid',
    secrets: SECRET_A,
    store: new CookieStore({ format: 'iron', iron: { password: IRON_PASSWORD }, chunk: options.chunk }),
    ttl: options.ttl ?? 3600,
    cookie: { maxAgeOffset: options.maxAgeOffset },
  })
}

async function save(sessions: ReturnType<typeof ironFormat>, data: AnyData, cookie?: string): Promise<string[]> {
  const response = new Response('ok')
  const session = await sessions.get(request(cookie), response)
  Object.assign(session.data, data)
  await session.commit()
  return response.headers.getSetCookie()
}

describe("CookieStore format: 'iron'", () => {
  it('seals what the real iron-session opens, and opens what it seals', async () => {
    const [line] = await save(ironFormat(), { user: { id: 1 } })
    expect(valueOf(line!)).toMatch(/^Fe26\.2\*1\*.*~2$/)
    expect(await unsealData(valueOf(line!), { password: IRON_PASSWORD })).toEqual({ user: { id: 1 } })

    const theirs = await sealData({ user: { id: 2 } }, { password: IRON_PASSWORD })
    const session = await ironFormat().get(request(`sid=${theirs}`))
    expect(session.isNew).toBe(false)
    expect(session.data).toEqual({ user: { id: 2 } })
  })

  it("still opens Tessera's own seals, so switching formats logs no one out", async () => {
    const tessera = createSessions<AnyData>({ name: 'sid', secrets: SECRET_A, store: new CookieStore({ iron: { password: IRON_PASSWORD } }) })
    const [line] = await save(tessera as never, { n: 1 })
    expect(valueOf(line!)).toMatch(/^t2\./)
    expect((await ironFormat().get(request(`sid=${valueOf(line!)}`))).data).toEqual({ n: 1 })
  })

  it('cookie.maxAgeOffset takes seconds off Max-Age; the seal keeps the full ttl', async () => {
    const [line] = await save(ironFormat({ maxAgeOffset: 60 }), { n: 1 })
    expect(line).toMatch(/; Max-Age=3540;/)
    const expiration = Number(valueOf(line!).split('*')[5])
    expect(expiration - Date.now()).toBeGreaterThan(3590_000)
    expect(() => ironFormat({ maxAgeOffset: 3600 })).toThrow(/cookie\.maxAgeOffset/)
    expect(() => ironFormat({ maxAgeOffset: -1 })).toThrow(/cookie\.maxAgeOffset/)
  })

  it('a seal holds the data alone: bindUser fails the commit, revokedBefore is refused at construction', async () => {
    const session = await ironFormat().get(request(), new Response(''))
    session.bindUser('u1')
    await expect(session.commit()).rejects.toThrow(/format 'iron' cannot carry bindUser/)
    expect(() => new CookieStore({ format: 'iron', iron: { password: IRON_PASSWORD }, revokedBefore: () => undefined })).toThrow(TypeError)
    expect(() => new CookieStore({ format: 'iron' })).toThrow(/needs iron: \{ password \}/)
    expect(() => new CookieStore({ format: 'jwt' as never })).toThrow(/format/)
  })

  it('iron.legacySeals: false refuses seals without the ~2 marker (iron-session 6/7)', async () => {
    const v6 = (await sealData({ persistent: { n: 6 } }, { password: IRON_PASSWORD })).replace(/~2$/, '')
    const legacy = createSessions<AnyData>({ name: 'sid', secrets: SECRET_A, store: new CookieStore({ iron: { password: IRON_PASSWORD } }) })
    expect((await legacy.get(request(`sid=${v6}`))).data).toEqual({ n: 6 })
    const strict = createSessions<AnyData>({ name: 'sid', secrets: SECRET_A, store: new CookieStore({ iron: { password: IRON_PASSWORD, legacySeals: false } }) })
    expect((await strict.get(request(`sid=${v6}`))).isNew).toBe(true)
  })
})

describe('CookieStore chunk option and cap', () => {
  it('chunk: false: past one cookie the commit fails TOO_LARGE and sends nothing', async () => {
    expect(new CookieStore({ chunk: false }).maxSize).toBe(4096)
    expect(() => new CookieStore({ chunk: false, maxSize: 5000 })).toThrow(/maxSize/)
    const response = new Response('ok')
    const session = await ironFormat({ chunk: false }).get(request(), response)
    session.data.blob = 'x'.repeat(3000)
    await expect(session.commit()).rejects.toSatisfy((error) => error instanceof SessionError && error.code === 'TOO_LARGE')
    expect(response.headers.getSetCookie()).toEqual([])
  })

  it('chunked: at most 4 cookies; maxSize at most 16384', async () => {
    expect(() => new CookieStore({ maxSize: 16_385 })).toThrow(/maxSize/)
    const sessions = createSessions<AnyData>({ name: 'sid', secrets: SECRET_A, store: new CookieStore({ maxSize: 16_384 }) })
    const fits = new Response('ok')
    const ok = await sessions.get(request(), fits)
    ok.data.blob = 'y'.repeat(8000)
    await ok.commit()
    expect(fits.headers.getSetCookie().map((line) => line.split('=')[0])).toEqual(['sid.0', 'sid.1', 'sid.2'])

    const response = new Response('ok')
    const session = await sessions.get(request(), response)
    session.data.blob = Array.from({ length: 11_700 }, (_, i) => String.fromCharCode(33 + ((i * 7919) % 90))).join('')
    await expect(session.commit()).rejects.toThrow(/needs 5 cookies; the cookie store writes at most 4/)
    expect(response.headers.getSetCookie()).toEqual([])
  })
})

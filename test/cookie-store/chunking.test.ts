// Sessions past 4096 bytes: split into name.0..n, read back whole, stale chunks expired in the
// same response, broken chunk sets refused, and maxSize enforced before anything is sent.
import { afterEach, describe, expect, it } from 'vitest'
import { SessionError } from '../../src/index.js'
import { Jar, type Running } from '../helpers.js'
import { cookieHeader, cookieSessions, expiredNames, filler, nodeApp, setPairs, webRequest, type Described } from './helpers.js'

const running: Running[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()))
})

async function start(maxSize = 16_384): Promise<{ url: string; jar: Jar }> {
  const { sessions } = cookieSessions({ storeOptions: { maxSize } })
  const server = await nodeApp(sessions as never)
  running.push(server)
  return { url: server.url, jar: new Jar() }
}

async function json(response: Response): Promise<Described> {
  expect(response.status).toBe(200)
  return (await response.json()) as Described
}

function post(jar: Jar, url: string, body: unknown): Promise<Response> {
  return jar.fetch(url, { method: 'POST', body: JSON.stringify(body) })
}

const names = (jar: Jar) => [...jar.cookies.keys()].sort()

describe('CookieStore chunking (node:http)', () => {
  it('a session over 4096 bytes splits into sid.0, sid.1, ...; every Set-Cookie ≤ 4096 bytes; reads back whole', async () => {
    const { url, jar } = await start()
    const blob = filler(8000)
    const response = await post(jar, `${url}/set`, { blob, n: 1 })
    const lines = response.headers.getSetCookie()
    expect(lines.map((line) => line.slice(0, line.indexOf('=')))).toEqual(['sid.0', 'sid.1', 'sid.2'])
    for (const line of lines) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(4096)
    // Every chunk carries the same attributes as a single cookie would.
    for (const line of lines) expect(line).toMatch(/; Max-Age=\d+; Expires=[^;]+; Path=\/; HttpOnly; SameSite=Lax$/)
    expect(names(jar)).toEqual(['sid.0', 'sid.1', 'sid.2'])
    expect(jar.cookies.get('sid.0')).toMatch(/^t2\./)

    const back = await json(await jar.fetch(url))
    expect(back).toMatchObject({ isNew: false, data: { blob, n: 1 } })
  })

  it('growing from one cookie to chunks expires the single cookie in the same response', async () => {
    const { url, jar } = await start()
    await post(jar, `${url}/set`, { small: true })
    expect(names(jar)).toEqual(['sid'])
    const response = await post(jar, `${url}/set`, { blob: filler(5000) })
    expect(expiredNames(response.headers.getSetCookie())).toEqual(['sid'])
    expect(names(jar)).toEqual(['sid.0', 'sid.1'])
    expect((await json(await jar.fetch(url))).data).toMatchObject({ small: true, blob: filler(5000) })
  })

  it('shrinking back expires the stale chunks in the same response', async () => {
    const { url, jar } = await start()
    await post(jar, `${url}/set`, { blob: filler(8000) })
    expect(names(jar)).toEqual(['sid.0', 'sid.1', 'sid.2'])

    // Three chunks to two: sid.2 expires.
    const fewer = await post(jar, `${url}/replace`, { blob: filler(5000, 2) })
    expect(expiredNames(fewer.headers.getSetCookie())).toEqual(['sid.2'])
    expect(names(jar)).toEqual(['sid.0', 'sid.1'])
    expect((await json(await jar.fetch(url))).data).toEqual({ blob: filler(5000, 2) })

    // Two chunks to one cookie: both chunks expire, `sid` is set, all in one response.
    const single = await post(jar, `${url}/replace`, { small: 1 })
    const lines = single.headers.getSetCookie()
    expect([...setPairs(lines).keys()]).toEqual(['sid'])
    expect(expiredNames(lines).sort()).toEqual(['sid.0', 'sid.1'])
    expect(names(jar)).toEqual(['sid'])
    expect((await json(await jar.fetch(url))).data).toEqual({ small: 1 })
  })

  it('destroying a chunked session expires every chunk', async () => {
    const { url, jar } = await start()
    await post(jar, `${url}/set`, { blob: filler(8000) })
    const out = await jar.fetch(`${url}/logout`, { method: 'POST' })
    expect(expiredNames(out.headers.getSetCookie()).sort()).toEqual(['sid', 'sid.0', 'sid.1', 'sid.2'])
    expect(jar.cookies.size).toBe(0)
  })

  it('over maxSize: the commit rejects with SessionError TOO_LARGE, no Set-Cookie is sent, the previous cookie stays', async () => {
    const { url, jar } = await start(3000)
    await post(jar, `${url}/set`, { keep: 'me' })
    const before = jar.cookies.get('sid')!

    const refused = await post(jar, `${url}/set`, { blob: filler(4000) })
    // session.commit() rejected with TOO_LARGE inside the handler...
    expect(refused.headers.get('x-commit-error')).toBe('TOO_LARGE')
    // ...and the app's own answer stands: autoCommit does not retry it at res.end.
    expect(refused.status).toBe(409)
    expect(await refused.json()).toEqual({ error: 'TOO_LARGE' })
    expect(refused.headers.getSetCookie()).toEqual([])
    expect(jar.cookies.get('sid')).toBe(before)
    expect((await json(await jar.fetch(url))).data).toEqual({ keep: 'me' })

    // The same through autoCommit (res.end): a 500 naming the code, still no Set-Cookie.
    const auto = await post(jar, `${url}/set?auto`, { blob: filler(4000) })
    expect(auto.status).toBe(500)
    expect(await auto.text()).toContain('TOO_LARGE')
    expect(auto.headers.getSetCookie()).toEqual([])
    expect((await json(await jar.fetch(url))).data).toEqual({ keep: 'me' })
  })
})

describe('CookieStore chunking (Web)', () => {
  async function chunked(blobLength = 8000) {
    const { sessions } = cookieSessions({ storeOptions: { maxSize: 16_384 } })
    const { setCookies } = await webRequest(sessions, undefined, (s) => void (s.data.blob = filler(blobLength)))
    const pairs = setPairs(setCookies)
    expect([...pairs.keys()]).toEqual(['sid.0', 'sid.1', 'sid.2'])
    return { sessions, pairs }
  }

  it('reads back whole, whatever order the browser lists the chunks in', async () => {
    const { sessions, pairs } = await chunked()
    const back = await webRequest(sessions, cookieHeader([...pairs].reverse()))
    expect(back.session).toMatchObject({ isNew: false, data: { blob: filler(8000) } })
  })

  it('a missing chunk gives a fresh session', async () => {
    const { sessions, pairs } = await chunked()
    for (const dropped of ['sid.0', 'sid.1', 'sid.2']) {
      const rest = [...pairs].filter(([name]) => name !== dropped)
      expect((await webRequest(sessions, cookieHeader(rest))).session).toMatchObject({ isNew: true, data: {} })
    }
  })

  it('chunk values in the wrong order give a fresh session', async () => {
    const { sessions, pairs } = await chunked()
    const [a, b, c] = [...pairs.values()] as [string, string, string]
    for (const order of [[b, a, c], [a, c, b], [c, b, a]]) {
      const header = cookieHeader(order.map((value, i) => [`sid.${i}`, value] as const))
      expect((await webRequest(sessions, header)).session.isNew).toBe(true)
    }
  })

  it('an extra chunk, a duplicated chunk or a chunk from another session gives a fresh session', async () => {
    const { sessions, pairs } = await chunked()
    const other = (await chunked()).pairs
    const [a, b, c] = [...pairs.values()] as [string, string, string]
    const cases = [
      cookieHeader([...pairs, ['sid.3', 'AAAA']]),
      cookieHeader([...pairs, ['sid.3', c]]),
      cookieHeader([['sid.0', a], ['sid.1', b], ['sid.2', b]]),
      cookieHeader([['sid.0', a], ['sid.1', other.get('sid.1')!], ['sid.2', c]]),
      cookieHeader([['sid.1', b], ['sid.2', c]]),
      cookieHeader([['sid.0', a + b + c], ['sid.1', b], ['sid.2', c]]), // the whole value in chunk 0, the rest again
    ]
    for (const header of cases) expect((await webRequest(sessions, header)).session.isNew).toBe(true)
    // Control: the intact set opens.
    expect((await webRequest(sessions, cookieHeader(pairs))).session.isNew).toBe(false)
  })

  it('a single `sid` cookie wins over chunks; a bad one does not fall back to them', async () => {
    const { sessions, pairs } = await chunked()
    expect((await webRequest(sessions, cookieHeader([['sid', 'junk'], ...pairs]))).session.isNew).toBe(true)
  })

  it('over maxSize on the Web path: commit rejects TOO_LARGE and the response gets no Set-Cookie', async () => {
    const { sessions } = cookieSessions({ storeOptions: { maxSize: 2048 } })
    const result = await webRequest(sessions, undefined, (s) => void (s.data.blob = filler(3000)))
    expect(result.error).toBeInstanceOf(SessionError)
    expect((result.error as SessionError).code).toBe('TOO_LARGE')
    expect(result.setCookies).toEqual([])
  })
})

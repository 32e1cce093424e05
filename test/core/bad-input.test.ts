// Whatever arrives in a Cookie header or comes back from a store, the answer is a fresh session,
// never an exception, never a polluted prototype.
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { parseCookies, readCookie, serializeCookie } from '../../src/core/cookie.js'
import { createSessions, type Sessions } from '../../src/index.js'
import type { SessionRecord, SessionStore } from '../../src/core/types.js'
import { MemoryStore } from '../../src/stores/memory-store.js'
import { Jar, serve, type Running } from '../helpers.js'
import { named, rawRequest, spiedStore, valueOf, webRequest, webRound, type AnyData, nodeReq } from './support.js'

const running: Running[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()))
})

const ID = /^[A-Za-z0-9_-]{43}$/
const SECRET = 'a-secret-that-is-at-least-32-characters-long-AAAA'

function prototypeIsClean(): void {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  expect(Object.prototype).not.toHaveProperty('polluted')
  expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('polluted')
}

/** A node:http app that records each request's session and stores a marker in it. */
async function recordingApp(sessions: Sessions<AnyData>) {
  const seen: { isNew: boolean; id: string; data: AnyData }[] = []
  const server = await serve(async (req, res) => {
    const session = await sessions.get(nodeReq(req), res)
    seen.push({ isNew: session.isNew, id: session.id, data: JSON.parse(JSON.stringify(session.data)) as AnyData })
    session.data.seen = true
    res.end('ok')
  })
  running.push(server)
  return { url: server.url, seen }
}

describe('malformed Cookie headers over node:http', () => {
  const headers = [
    '',
    ';;;',
    '=',
    '==; ==',
    'sid',
    'sid=',
    '=sid',
    'sid==',
    'sid=;sid=',
    ' ; sid ; = ;',
    'sid="',
    'sid=""',
    'sid="unterminated',
    'sid=%',
    'sid=%E0%A4%A',
    'sid=%ZZ%ZZ%ZZ%ZZ%ZZ%ZZ%ZZ%ZZ',
    'sid=%C0%AF%C0%AF%C0%AF%C0%AF%C0%AF%C0%AF',
    '__proto__=x',
    '__proto__=x; sid=aaaaaaaaaaaaaaaaaaaaaaaaaaaa',
    'constructor=x; toString=y; hasOwnProperty=z; sid=__proto__',
    'sid=__proto__',
    'sid=constructor',
    `sid=${'a'.repeat(200)}`,
    `sid=${'.'.repeat(60)}`,
    'sid=\t\t\t',
    'sid=\u00ff\u00fe\u00fd\u00fc\u00fb\u00fa\u00f9\u00f8\u00f7\u00f6\u00f5\u00f4\u00f3\u00f2\u00f1\u00f0',
    `${'x'.repeat(4000)}=${'y'.repeat(4000)}`,
  ]

  it.each(headers.map((header) => [JSON.stringify(header).slice(0, 60), header]))('gives a fresh session and no error for Cookie: %s', async (_, header) => {
    const store = new MemoryStore()
    const sessions = createSessions<AnyData>({ store })
    const { url, seen } = await recordingApp(sessions)
    const response = await fetch(url, { headers: header ? { cookie: header } : {} })
    expect(response.status).toBe(200)
    expect(await response.text()).toBe('ok')
    expect(seen).toHaveLength(1)
    expect(seen[0]!.isNew).toBe(true)
    expect(seen[0]!.data).toEqual({})
    const lines = named(response.headers.getSetCookie())
    expect(lines).toHaveLength(1)
    expect(valueOf(lines[0]!)).toMatch(ID)
    expect(store.size).toBe(1)
    prototypeIsClean()
  })

  it('gives a fresh session for duplicated Cookie headers full of junk', async () => {
    const sessions = createSessions<AnyData>({ store: new MemoryStore() })
    const { url, seen } = await recordingApp(sessions)
    const { port } = new URL(url)
    const response = await rawRequest(
      url,
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nCookie: sid=%E0%A4%A\r\nCookie: sid=../../x; __proto__=y\r\nCookie: ;;;\r\nConnection: close\r\n\r\n`,
    )
    expect(response.status).toBe(200)
    expect(seen[0]?.isNew).toBe(true)
    expect(response.headers.filter((h) => /^set-cookie: sid=/i.test(h))).toHaveLength(1)
  })

  it('still finds a valid session cookie sent in a second Cookie header', async () => {
    const sessions = createSessions<AnyData>({ store: new MemoryStore() })
    const { url, seen } = await recordingApp(sessions)
    const jar = new Jar()
    await jar.fetch(url)
    const id = jar.cookies.get('sid')!
    const { port } = new URL(url)
    const response = await rawRequest(url, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nCookie: theme=dark\r\nCookie: sid=${id}\r\nConnection: close\r\n\r\n`)
    expect(response.status).toBe(200)
    expect(seen[1]).toEqual({ isNew: false, id, data: { seen: true } })
  })
})

describe('an oversized Cookie header over node:http', () => {
  it('is refused by Node itself (431, above its 16 KB header limit) before any session code runs, and the server keeps serving', async () => {
    const sessions = createSessions<AnyData>({ store: new MemoryStore() })
    const { url, seen } = await recordingApp(sessions)
    const response = await fetch(url, { headers: { cookie: `sid=${'a'.repeat(100_000)}` } })
    expect(response.status).toBe(431)
    await response.arrayBuffer()
    expect(seen).toHaveLength(0)
    expect((await fetch(url)).status).toBe(200)
  })
})

describe('malformed Cookie headers on the Web path', () => {
  it('gives a fresh session for a 100 KB Cookie header', async () => {
    const spied = spiedStore()
    const sessions = createSessions<AnyData>({ store: spied.store })
    for (const header of [`sid=${'a'.repeat(100_000)}`, `${'k'.repeat(50_000)}=${'v'.repeat(50_000)}`, Array.from({ length: 5000 }, (_, i) => `c${i}=${'x'.repeat(15)}`).join('; ')]) {
      const session = await sessions.get(webRequest(header))
      expect(session.isNew).toBe(true)
      expect(session.data).toEqual({})
    }
    expect(spied.get).not.toHaveBeenCalled()
  })

  it('still finds the session cookie at the end of a 100 KB Cookie header', async () => {
    const sessions = createSessions<AnyData>({ store: new MemoryStore() })
    const jar = new Jar()
    await webRound(sessions, jar, (s) => void (s.data.a = 1))
    const session = await sessions.get(webRequest(`junk=${'x'.repeat(100_000)}; ${jar.header}`))
    expect(session.isNew).toBe(false)
    expect(session.data.a).toBe(1)
  })

  it('gives a fresh session for bad percent-encoding (sid=%E0%A4%A), with and without secrets', async () => {
    for (const secrets of [undefined, SECRET]) {
      const spied = spiedStore()
      const sessions = createSessions<AnyData>({ store: spied.store, secrets })
      const session = await sessions.get(webRequest('sid=%E0%A4%A'))
      expect(session.isNew).toBe(true)
      expect(spied.get).not.toHaveBeenCalled()
    }
  })

  it('gives a fresh session for __proto__ cookies and leaves Object.prototype alone', async () => {
    const sessions = createSessions<AnyData>({ store: new MemoryStore(), name: '__proto__' })
    const plain = createSessions<AnyData>({ store: new MemoryStore() })
    for (const header of ['__proto__=x', '__proto__=%7B%22polluted%22%3Atrue%7D', 'sid=1; __proto__=x; __proto__=y']) {
      expect((await sessions.get(webRequest(header))).isNew).toBe(true)
      expect((await plain.get(webRequest(header))).isNew).toBe(true)
      const parsed = parseCookies(header)
      expect(Object.getPrototypeOf(parsed)).toBeNull()
    }
    prototypeIsClean()
  })
})

describe('a store that returns something that is not a record', () => {
  const answers: [string, unknown][] = [
    ['a string', 'x'],
    ['an empty object', {}],
    ['null', null],
    ['{ data: "x" }', { data: 'x' }],
    ['a number', 42],
    ['an array', []],
    ['data null', { data: null, createdAt: Date.now(), expiresAt: Date.now() + 60_000 }],
    ['createdAt as text', { data: {}, createdAt: '2030-01-01', expiresAt: Date.now() + 60_000 }],
    ['no expiresAt', { data: { a: 1 }, createdAt: Date.now() }],
    ['NaN expiresAt', { data: { a: 1 }, createdAt: Date.now(), expiresAt: Number.NaN }],
  ]

  it.each(answers)('gives a fresh session, not the id it asked for, when get() returns %s', async (_, answer) => {
    const inner = new MemoryStore()
    const store: SessionStore = {
      get: async () => answer as SessionRecord,
      set: (id, record) => inner.set(id, record),
      destroy: (id) => inner.destroy(id),
    }
    const sessions = createSessions<AnyData>({ store })
    const asked = 'A'.repeat(43)
    const { session, setCookies } = await webRound(sessions, new Jar(), (s) => void (s.data.a = 1), {
      headers: { cookie: `sid=${asked}` },
    })
    expect(session.isNew).toBe(true)
    expect(session.id).not.toBe(asked)
    expect(valueOf(named(setCookies)[0]!)).toBe(session.id)
    expect(await inner.get(asked)).toBeUndefined()
    expect((await inner.get(session.id))?.data).toEqual({ a: 1 })
  })
})

describe('prototype pollution through session.data', () => {
  it('session.data.__proto__ = { polluted: true } changes neither Object.prototype nor the data’s prototype', async () => {
    const store = new MemoryStore()
    const sessions = createSessions<AnyData>({ store })
    const jar = new Jar()
    const { session } = await webRound(sessions, jar, (s) => {
      ;(s.data as Record<string, unknown>)['__proto__'] = { polluted: true }
      expect(Object.getPrototypeOf(s.data)).toBe(Object.prototype)
      expect((s.data as Record<string, unknown>).polluted).toBeUndefined()
      prototypeIsClean()
    })
    expect(Object.getPrototypeOf(session.data)).toBe(Object.prototype)
    prototypeIsClean()

    // And after the round trip through the store.
    const loaded = await sessions.get(webRequest(jar))
    expect(loaded.isNew).toBe(false)
    expect((loaded.data as Record<string, unknown>).polluted).toBeUndefined()
    const proto = Object.getPrototypeOf(loaded.data) as unknown
    expect(proto === Object.prototype || proto === null).toBe(true)
    prototypeIsClean()
  })

  it('nested __proto__ writes, JSON-parsed payloads, Object.assign and merge() pollute nothing', async () => {
    const sessions = createSessions<AnyData>({ store: new MemoryStore() })
    const payload = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as AnyData
    const jar = new Jar()
    await webRound(sessions, jar, (s) => {
      s.data.nested = { list: [{}] }
      const nested = s.data.nested as { list: Record<string, unknown>[] } & Record<string, unknown>
      nested['__proto__'] = { polluted: true }
      nested.list[0]!['__proto__'] = { polluted: true }
      Object.assign(s.data, payload)
      s.data.copy = payload
      expect(s.data.ok).toBe(1)
      expect((s.data as Record<string, unknown>).polluted).toBeUndefined()
      expect((s.data.nested as Record<string, unknown>).polluted).toBeUndefined()
    })
    prototypeIsClean()
    const response = new Response()
    await sessions.merge({ request: webRequest(jar), response }, payload)
    await sessions.replace({ request: webRequest(jar), response: new Response() }, payload)
    prototypeIsClean()
    const data = await sessions.read(webRequest(jar))
    expect(data?.ok).toBe(1)
    expect((data as Record<string, unknown>).polluted).toBeUndefined()
    prototypeIsClean()
  })
})

// Characters a Headers object accepts are checked by building one; the rest are not a Cookie header.
function validHeader(value: string): boolean {
  try {
    new Headers({ cookie: value })
    return true
  } catch {
    return false
  }
}

const latin1 = fc.string({ unit: fc.integer({ min: 0, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 120 })
const cookieish = fc.string({
  unit: fc.constantFrom(...'abcXYZ019_-.%;= "\t,/\\:+', '%E0', '%A4', '%00', '%zz', '__proto__', 's:', 'sid'),
  maxLength: 80,
})
const junk = fc.oneof(latin1, cookieish, fc.string({ unit: 'binary', maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 40 }))
const header = fc.oneof(
  junk,
  fc.tuple(junk, junk).map(([a, b]) => `sid=${a}; other=${b}`),
  fc.tuple(junk, junk).map(([a, b]) => `other=${b}; sid=${a}`),
  fc.tuple(fc.stringMatching(/^[A-Za-z0-9_-]{10,140}$/), junk).map(([id, tail]) => `sid=${id}${tail}`),
  fc.tuple(fc.stringMatching(/^[A-Za-z0-9_-]{16,64}$/), fc.stringMatching(/^[A-Za-z0-9_+/=-]{0,50}$/)).map(([id, mac]) => `sid=${id}.${mac}`),
  fc.tuple(fc.stringMatching(/^[A-Za-z0-9_-]{16,64}$/), fc.stringMatching(/^[A-Za-z0-9+/]{40,46}$/)).map(([id, mac]) => `sid=s%3A${id}.${mac}`),
)

describe('property: any Cookie header gives a new empty session and never throws', () => {
  for (const secrets of [undefined, SECRET]) {
    it(`holds for 10,000 arbitrary headers${secrets ? ' (with secrets)' : ''}`, async () => {
      const sessions = createSessions<AnyData>({ store: new MemoryStore(), secrets })
      let tried = 0
      await fc.assert(
        fc.asyncProperty(header, async (cookie) => {
          if (!validHeader(cookie)) return
          tried++
          const session = await sessions.get(new Request('http://x/', { headers: { cookie } }))
          if (!session.isNew) throw new Error(`not new for ${JSON.stringify(cookie)}`)
          if (Object.keys(session.data).length !== 0) throw new Error(`data not empty for ${JSON.stringify(cookie)}`)
          if (!ID.test(session.id)) throw new Error(`odd id ${session.id}`)
        }),
        { numRuns: 10_000 },
      )
      expect(tried).toBeGreaterThan(5_000) // most inputs really reached sessions.get
      prototypeIsClean()
    })
  }
})

describe('property: the cookie parser never throws', () => {
  const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), latin1, cookieish)

  it('readCookie and parseCookies return strings (or undefined) for any input, with a prototype-free record', () => {
    fc.assert(
      fc.property(anyText, anyText, (text, name) => {
        const value = readCookie(text, name)
        if (value !== undefined && typeof value !== 'string') throw new Error('readCookie returned a non-string')
        const all = parseCookies(text)
        if (Object.getPrototypeOf(all) !== null) throw new Error('parseCookies returned a record with a prototype')
        for (const key of Object.keys(all)) if (typeof all[key] !== 'string') throw new Error('parseCookies value not a string')
        readCookie(text, 'sid')
        readCookie(text, '__proto__')
      }),
      { numRuns: 10_000 },
    )
    expect(readCookie(null, 'sid')).toBeUndefined()
    expect(readCookie(undefined, 'sid')).toBeUndefined()
    expect(Object.keys(parseCookies(null))).toEqual([])
    prototypeIsClean()
  })

  it('reads back what serializeCookie wrote, first occurrence winning, for any token name and cookie-octet value', () => {
    const token = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$&\'*+-.^_`|~'), minLength: 1, maxLength: 20 })
    // cookie-octets without '"' (quotes are unwrapped) and '%' (percent-decoding)
    const octets = fc.string({ unit: fc.constantFrom(...'abcXYZ019!#$&\'()*+-./:<=>?@[]^_`{|}~'), maxLength: 60 })
    fc.assert(
      fc.property(token, octets, fc.array(fc.tuple(token, octets), { maxLength: 5 }), (name, value, others) => {
        const line = serializeCookie({ name, value, attributes: { path: '/', httpOnly: true } })
        const pair = line.split(';')[0]!
        const before = others.filter(([n]) => n !== name).map(([n, v]) => `${n}=${v}`)
        const header = [...before, pair, `${name}=shadowed`].join('; ')
        if (readCookie(header, name) !== value) throw new Error(`readCookie(${JSON.stringify(header)}) !== ${JSON.stringify(value)}`)
        if (parseCookies(header)[name] !== value) throw new Error(`parseCookies(${JSON.stringify(header)}) !== ${JSON.stringify(value)}`)
      }),
      { numRuns: 5_000 },
    )
  })
})

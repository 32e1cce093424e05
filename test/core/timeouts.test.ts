// Expiry and id acceptance: the server decides what a cookie is worth, never the cookie.
import { createHmac, randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createSessions } from '../../src/index.js'
import type { SessionRecord, SessionStore } from '../../src/core/types.js'
import { MemoryStore } from '../../src/stores/memory-store.js'
import { Jar } from '../helpers.js'
import { named, spiedStore, valueOf, webRequest, webRound, type AnyData } from './support.js'

afterEach(() => {
  vi.useRealTimers()
})

const SECRET_A = 'a-secret-that-is-at-least-32-characters-long-AAAA'
const SECRET_B = 'b-secret-that-is-at-least-32-characters-long-BBBB'
const START = new Date('2030-01-01T00:00:00Z').getTime()

function freezeClock() {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(START)
  return (seconds: number) => vi.setSystemTime(START + seconds * 1000)
}

/** A store that ignores expiry entirely: shows the core enforces timeouts itself. */
class ForgetfulStore implements SessionStore {
  readonly records = new Map<string, SessionRecord>()
  async get(id: string) {
    const record = this.records.get(id)
    return record && structuredClone(record)
  }
  async set(id: string, record: SessionRecord) {
    this.records.set(id, structuredClone(record))
  }
  async destroy(id: string) {
    this.records.delete(id)
  }
  async touch(id: string, expiresAt: number) {
    const record = this.records.get(id)
    if (record) record.expiresAt = expiresAt
  }
}

const randomId = () => randomBytes(32).toString('base64url')

describe('the idle timeout', () => {
  it.each([
    ['MemoryStore', () => new MemoryStore()],
    ['a store that never expires anything', () => new ForgetfulStore()],
  ] as const)('is enforced whatever the cookie says: replaying the old cookie after ttl gives a fresh session (%s)', async (_, makeStore) => {
    const at = freezeClock()
    const store = makeStore()
    const sessions = createSessions<AnyData>({ store, ttl: 60 })
    const jar = new Jar()
    const first = await webRound(sessions, jar, (session) => void (session.data.user = 'ada'))
    const oldCookie = jar.cookies.get('sid')!

    at(59) // one second before the end: still the same session
    const alive = await sessions.get(webRequest(`sid=${oldCookie}`))
    expect(alive.isNew).toBe(false)
    expect(alive.data.user).toBe('ada')

    at(61) // a client that ignores Max-Age sends the cookie anyway
    const late = await sessions.get(webRequest(`sid=${oldCookie}`))
    expect(late.isNew).toBe(true)
    expect(late.id).not.toBe(first.session.id)
    expect(late.data).toEqual({})
  })
})

describe('the absolute timeout', () => {
  it('ends an active, often-touched session after absoluteTtl, and createdAt never moves', async () => {
    const at = freezeClock()
    const store = new ForgetfulStore()
    const destroy = vi.spyOn(store, 'destroy')
    const sessions = createSessions<AnyData>({ store, ttl: 5, absoluteTtl: 10, touchAfter: 1 })
    const jar = new Jar()
    const first = await webRound(sessions, jar, (session) => void (session.data.user = 'ada'))
    const id = first.session.id
    const createdAt = first.session.createdAt.getTime()
    expect(createdAt).toBe(START)

    for (const second of [2, 4, 6, 8]) {
      at(second)
      const round = await webRound(sessions, jar, () => undefined)
      expect(round.session.isNew).toBe(false)
      expect(round.session.id).toBe(id)
      expect(round.session.createdAt.getTime()).toBe(createdAt)
      const lines = named(round.setCookies)
      if (second < 6) {
        expect(lines, `t=${second}`).toHaveLength(1) // a due touch re-sends the cookie...
        const maxAge = Number(/Max-Age=(\d+)/.exec(lines[0]!)![1])
        expect(maxAge).toBe(5)
      } else if (second === 6) {
        // ...whose lifetime never reaches past the absolute end (6 + 4 = 10)
        expect(lines, `t=${second}`).toHaveLength(1)
        expect(Number(/Max-Age=(\d+)/.exec(lines[0]!)![1])).toBe(4)
      } else {
        expect(lines, `t=${second}: the expiry cannot move past the absolute end, so no touch`).toHaveLength(0)
      }
      expect(round.session.expiresAt.getTime()).toBeLessThanOrEqual(START + 10_000)
      expect((await store.get(id))?.createdAt).toBe(createdAt)
    }

    at(9.5)
    expect((await sessions.get(webRequest(jar))).isNew).toBe(false)

    at(10)
    const ended = await webRound(sessions, jar, () => undefined)
    expect(ended.session.isNew).toBe(true)
    expect(ended.session.id).not.toBe(id)
    expect(ended.session.data).toEqual({})
    expect(destroy).toHaveBeenCalledWith(id) // the core removed what the store kept
    expect(store.records.has(id)).toBe(false)
  })

  it('keeps createdAt through changes; regenerate() starts the absolute clock again (decisions/regenerate-resets-created-at.md)', async () => {
    const at = freezeClock()
    const sessions = createSessions<AnyData>({ store: new MemoryStore(), ttl: 100, absoluteTtl: 30 })
    const jar = new Jar()
    await webRound(sessions, jar, (session) => void (session.data.n = 1))
    at(10)
    const changed = await webRound(sessions, jar, (session) => void (session.data.n = 2))
    expect(changed.session.createdAt.getTime()).toBe(START)
    at(20)
    const regenerated = await webRound(sessions, jar, (session) => session.regenerate())
    expect(regenerated.session.createdAt.getTime()).toBe(START + 20_000)
    at(49)
    const before = await sessions.get(webRequest(jar))
    expect(before.isNew).toBe(false)
    expect(before.data.n).toBe(2)
    at(50)
    expect((await sessions.get(webRequest(jar))).isNew).toBe(true)
  })
})

describe('which ids are accepted', () => {
  it('never adopts an unknown but well-formed id', async () => {
    const spied = spiedStore()
    const sessions = createSessions<AnyData>({ store: spied.store })
    const unknown = randomId()
    const jar = new Jar()
    jar.cookies.set('sid', unknown)
    const { session, setCookies } = await webRound(sessions, jar, (s) => void (s.data.a = 1))
    expect(spied.get).toHaveBeenCalledWith(unknown)
    expect(session.isNew).toBe(true)
    expect(session.id).not.toBe(unknown)
    const lines = named(setCookies)
    expect(lines).toHaveLength(1)
    expect(valueOf(lines[0]!)).not.toBe(unknown)
    expect(valueOf(lines[0]!)).toBe(session.id)
    expect(await spied.store.get(unknown)).toBeUndefined()
  })

  it.each([
    ['too short', 'abc123'],
    ['15 characters', 'a'.repeat(15)],
    ['129 characters', 'a'.repeat(129)],
    ['a path', '../../../../etc/passwd'],
    ['an encoded path', '..%2F..%2F..%2Fetc%2Fpasswd'],
    ['dots', 'aaaaaaaa.bbbbbbbb.cccccccc'],
    ['spaces', 'aaaaaaaa bbbbbbbb cccccccc'],
    ['a slash', 'aaaaaaaaaaaaaaaaaaaa/bbbb'],
    ['a NUL', 'aaaaaaaaaaaaaaaaaaaa%00bbbb'],
    ['a quoted path', '"../../aaaaaaaaaaaaaaaa"'],
  ])('never passes a malformed id (%s) to store.get', async (_, value) => {
    const spied = spiedStore()
    const sessions = createSessions<AnyData>({ store: spied.store })
    const session = await sessions.get(webRequest(`sid=${value}`))
    expect(spied.get).not.toHaveBeenCalled()
    expect(session.isNew).toBe(true)
    expect(session.id).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  it('with secrets, never passes a badly signed cookie to store.get', async () => {
    const spied = spiedStore()
    const sessions = createSessions<AnyData>({ store: spied.store, secrets: SECRET_A })
    const other = createSessions<AnyData>({ store: new MemoryStore(), secrets: SECRET_B })
    const jar = new Jar()
    await webRound(sessions, jar, (s) => void (s.data.a = 1))
    const good = jar.cookies.get('sid')!
    const [id, mac] = good.split('.') as [string, string]
    const foreign = await webRound(other, new Jar(), (s) => void (s.data.a = 1))
    spied.reset()

    const flipped = (mac[0] === 'A' ? 'B' : 'A') + mac.slice(1)
    const bad = [
      id, // unsigned
      `${id}.${flipped}`, // one character of the MAC changed
      `${id}.${'A'.repeat(43)}`, // a MAC of the right length
      `${id}.`, // empty MAC
      `${randomId()}.${mac}`, // another id with this MAC
      valueOf(named(foreign.setCookies)[0]!), // signed with another secret
      `${id}.${mac}.${mac}`, // two MACs
      `s:${id}.${flipped}`, // express-session form, bad MAC
    ]
    for (const value of bad) {
      const session = await sessions.get(webRequest(`sid=${value}`))
      expect(session.isNew, value).toBe(true)
    }
    expect(spied.get).not.toHaveBeenCalled()

    const control = await sessions.get(webRequest(`sid=${good}`))
    expect(control.isNew).toBe(false)
    expect(spied.get).toHaveBeenCalledTimes(1)
  })

  it('keeps loading cookies signed with an old secret while it is listed second, and not once it is removed', async () => {
    const store = new MemoryStore()
    const before = createSessions<AnyData>({ store, secrets: [SECRET_A] })
    const jar = new Jar()
    await webRound(before, jar, (s) => void (s.data.user = 'ada'))
    const oldCookie = jar.cookies.get('sid')!

    const rotated = createSessions<AnyData>({ store, secrets: [SECRET_B, SECRET_A] })
    const during = await sessions(rotated, oldCookie)
    expect(during.isNew).toBe(false)
    expect(during.data.user).toBe('ada')

    const after = createSessions<AnyData>({ store, secrets: [SECRET_B] })
    const gone = await sessions(after, oldCookie)
    expect(gone.isNew).toBe(true)
    expect(gone.data).toEqual({})

    async function sessions(s: typeof before, cookie: string) {
      return s.get(webRequest(`sid=${cookie}`))
    }
  })

  it('signs new cookies with the first secret', async () => {
    const store = new MemoryStore()
    const rotated = createSessions<AnyData>({ store, secrets: [SECRET_B, SECRET_A] })
    const jar = new Jar()
    await webRound(rotated, jar, (s) => void (s.data.a = 1))
    const onlyNew = createSessions<AnyData>({ store, secrets: [SECRET_B] })
    expect((await onlyNew.get(webRequest(jar))).isNew).toBe(false)
    const onlyOld = createSessions<AnyData>({ store, secrets: [SECRET_A] })
    expect((await onlyOld.get(webRequest(jar))).isNew).toBe(true)
  })

  it('loads an express-session style s:<id>.<sig> cookie signed with the same secret', async () => {
    const store = new MemoryStore()
    const sessions = createSessions<AnyData>({ store, secrets: SECRET_A })
    const sign = (id: string, secret = SECRET_A) => createHmac('sha256', secret).update(id).digest('base64').replace(/=+$/, '')
    let sawPlusOrSlash = false
    for (let i = 0; i < 12; i++) {
      const id = randomBytes(24).toString('base64url') // express-session's uid-safe(24): 32 characters
      const sig = sign(id)
      if (/[+/]/.test(sig)) sawPlusOrSlash = true
      const now = Date.now()
      await store.set(id, { data: { legacy: i }, createdAt: now, expiresAt: now + 60_000 })
      const cookie = `sid=${encodeURIComponent(`s:${id}.${sig}`)}`
      const session = await sessions.get(webRequest(cookie))
      expect(session.isNew, cookie).toBe(false)
      expect(session.id).toBe(id)
      expect(session.data.legacy).toBe(i)

      const forged = `sid=${encodeURIComponent(`s:${id}.${sign(id, SECRET_B)}`)}`
      expect((await sessions.get(webRequest(forged))).isNew).toBe(true)
    }
    expect(sawPlusOrSlash).toBe(true) // standard-base64 signatures were exercised
  })
})

// Golden vectors: cookies made by Tessera as it was on 2026-12-08 (src/ as of fac6d73, before the
// crypto refactor of issue 13) must keep opening, with the same id, data and user, through the public API
// only. Browsers hold these cookies: a change of the KDF salt or info, the key-id prefix, the seal
// layout, the payload keys, the id MAC or the hashIds key logs every user out, and every other
// test (which seals and opens with the same new code) stays green. This one does not.
//
// How vectors.json was made: `npm run build`, then `node test/golden/generate.mjs`, which drives
// the built package (createSessions, CookieStore, MemoryStore) with the fixed secrets recorded in
// the file; the iron-session seal comes from iron-session 8's sealData and the express-session
// cookie from cookie-signature (express-session's signer). Never regenerate to make this pass.
//
// The clock is frozen a minute after the vectors were made (Date only), so their expiry (14 days
// later) never passes and the test does not rot.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { CookieStore, createSessions, MemoryStore, type SessionRecord, type SessionsOptions } from '../../src/index.js'
import vectors from './vectors.json' with { type: 'json' }

type Data = Record<string, unknown>
const { current, old } = vectors.secrets

beforeAll(() => {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(vectors.generatedAt + 60_000)
})
afterAll(() => {
  vi.useRealTimers()
})

async function load(options: SessionsOptions, cookie: string) {
  const sessions = createSessions<Data>(options)
  return sessions.get(new Request('https://app.test/', { headers: { cookie } }))
}

/** A MemoryStore holding `record` under `key`, as the server that set the cookie had it. */
async function storeWith(key: string, record: SessionRecord): Promise<MemoryStore> {
  const store = new MemoryStore()
  await store.set(key, structuredClone(record))
  return store
}

describe('golden vectors: sealed cookies (CookieStore, t1.)', () => {
  it('a t1 seal made with today’s code opens with its id, data, user and times', async () => {
    const vector = vectors.cookieStore.current
    expect(vector.cookie).toMatch(/^sid=t1\./)
    const session = await load({ store: new CookieStore(), secrets: [current] }, vector.cookie)
    expect(session.isNew).toBe(false)
    expect(session.id).toBe(vector.id)
    expect(session.data).toEqual(vector.data)
    expect(session.userId).toBe('user-7')
    expect(session.createdAt.getTime()).toBe(vector.createdAt)
    expect(session.expiresAt.getTime()).toBe(vector.expiresAt)
  })

  it('a t1 seal made under a secret since rotated to second place still opens', async () => {
    const vector = vectors.cookieStore.rotated
    const session = await load({ store: new CookieStore(), secrets: [current, old] }, vector.cookie)
    expect(session.isNew).toBe(false)
    expect(session.id).toBe(vector.id)
    expect(session.data).toEqual(vector.data)
  })

  it('the rotated seal gives a fresh session once its secret is dropped (the vectors are checked, not just accepted)', async () => {
    const session = await load({ store: new CookieStore(), secrets: [current] }, vectors.cookieStore.rotated.cookie)
    expect(session.isNew).toBe(true)
    expect(session.data).toEqual({})
  })

  it('a t1 seal split over sid.0 and sid.1 opens whole', async () => {
    const vector = vectors.cookieStore.chunked
    expect(vector.cookie).toMatch(/^sid\.0=t1\.[^;]+; sid\.1=[^;]+$/)
    const session = await load({ store: new CookieStore({ maxSize: 8192 }), secrets: [current] }, vector.cookie)
    expect(session.isNew).toBe(false)
    expect(session.id).toBe(vector.id)
    expect(session.data).toEqual(vector.data)
  })

  it('an iron-session 8 seal (Fe26.2) opens with its data when CookieStore has the iron password', async () => {
    const vector = vectors.cookieStore.iron
    expect(vector.cookie).toMatch(/^sid=Fe26\.2\*/)
    const session = await load({ store: new CookieStore({ iron: { password: vectors.ironPassword } }), secrets: [current] }, vector.cookie)
    expect(session.isNew).toBe(false)
    expect(session.data).toEqual(vector.data)
  })
})

describe('golden vectors: signed ids (server-side stores with secrets)', () => {
  it('an id signed as <id>.<HMAC> with today’s code loads its record', async () => {
    const vector = vectors.signedId.plain
    expect(vector.cookie).toBe(`sid=${vector.id}.${vector.cookie.split('.')[1]}`)
    const store = await storeWith(vector.storeKey, vector.record)
    const session = await load({ store, secrets: [current] }, vector.cookie)
    expect(session.isNew).toBe(false)
    expect(session.id).toBe(vector.id)
    expect(session.data).toEqual(vector.record.data)
  })

  it('with hashIds the record is found under the SHA-256 of the id it was stored under', async () => {
    const vector = vectors.signedId.hashIds
    expect(vector.storeKey).not.toBe(vector.id)
    const store = await storeWith(vector.storeKey, vector.record)
    const session = await load({ store, secrets: [current], hashIds: true }, vector.cookie)
    expect(session.isNew).toBe(false)
    expect(session.id).toBe(vector.id)
    expect(session.data).toEqual(vector.record.data)
  })

  it('an express-session cookie (s:<id>.<base64 HMAC>, URI-encoded) loads its record', async () => {
    const vector = vectors.signedId.expressSession
    expect(vector.cookie).toMatch(/^sid=s%3A/)
    const store = await storeWith(vector.id, vectors.signedId.plain.record)
    const session = await load({ store, secrets: [current] }, vector.cookie)
    expect(session.isNew).toBe(false)
    expect(session.id).toBe(vector.id)
    expect(session.data).toEqual(vectors.signedId.plain.record.data)
  })

  it('a signed id gives a fresh session under another secret (the MAC is checked)', async () => {
    const vector = vectors.signedId.plain
    const store = await storeWith(vector.storeKey, vector.record)
    const session = await load({ store, secrets: ['another-secret-0123456789-abcdefghijklmnop'] }, vector.cookie)
    expect(session.isNew).toBe(true)
  })
})

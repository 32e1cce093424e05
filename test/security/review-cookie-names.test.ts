// The outside security review (issue 15): review 4 (a cookie is bound to its name) and review 8
// (a cookie verified by an older secret is re-issued under the first one at once). Each test failed
// before its fix. docs/security.md ("The outside review") says what changed.
import { createHmac } from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Sealer } from '../../src/core/seal.js'
import { CookieStore, createSessions, MemoryStore, type Sessions, type SessionsOptions } from '../../src/index.js'

type Data = Record<string, unknown>
const SECRET = 'review-names-secret-at-least-32-characters-0'
const OLD_SECRET = 'review-names-old-secret-at-least-32-chars-0'

/** One request: the session seen and the `name=value` pairs the response set. */
async function request(sessions: Sessions<Data>, cookie: string | undefined, change?: (data: Data) => void) {
  const response = new Response('ok')
  const session = await sessions.get(new Request('https://app.test/', { headers: cookie === undefined ? {} : { cookie } }), response)
  change?.(session.data)
  await session.commit()
  const set = new Map<string, string>()
  for (const line of response.headers.getSetCookie()) {
    if (/max-age=0/i.test(line)) continue
    const pair = line.split(';')[0]!
    set.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1))
  }
  return { session, set }
}

/** A signed id as Tessera wrote it before review 4: `<id>.<HMAC-SHA-256(secret, id)>`. */
function unboundSignedId(id: string, secret = SECRET): string {
  return `${id}.${createHmac('sha256', secret).update(id).digest('base64url')}`
}

/** A `t1.` seal as Tessera wrote it before review 4 (not bound to a cookie name). */
async function unboundSeal(data: Data, secret = SECRET): Promise<string> {
  const now = Date.now()
  return new Sealer([secret]).seal(JSON.stringify({ v: 1, i: 'A'.repeat(43), d: data, c: now, e: now + 3600_000 }))
}

afterEach(() => void vi.useRealTimers())

describe('review 4: a cookie is bound to its name', () => {
  it('review 4: a prefs seal (keys the visitor chose) sent as the auth cookie is refused (two CookieStores, one secret)', async () => {
    const prefs = createSessions<Data>({ name: 'prefs', secrets: SECRET, store: new CookieStore() })
    const auth = createSessions<Data>({ name: 'auth', secrets: SECRET, store: new CookieStore() })
    const { set } = await request(prefs, undefined, (data) => void (data.user = 'admin'))
    const value = set.get('prefs')!
    expect((await request(prefs, `prefs=${value}`)).session.data).toEqual({ user: 'admin' }) // control
    const forged = await request(auth, `auth=${value}`)
    expect(forged.session.isNew).toBe(true)
    expect(forged.session.data).toEqual({})
  })

  it('review 4: a prefs signed id sent as the auth cookie is refused (the process-wide default MemoryStore)', async () => {
    const prefs = createSessions<Data>({ name: 'prefs', secrets: SECRET })
    const auth = createSessions<Data>({ name: 'auth', secrets: SECRET })
    const { set } = await request(prefs, undefined, (data) => void (data.user = 'admin'))
    const forged = await request(auth, `auth=${set.get('prefs')!}`)
    expect(forged.session.isNew).toBe(true)
    expect(forged.session.data).toEqual({})
  })

  it('review 4: the id’s MAC names the cookie: two names over one shared store do not accept each other’s ids', async () => {
    const store = new MemoryStore()
    const events: string[] = []
    const prefs = createSessions<Data>({ name: 'prefs', secrets: SECRET, store })
    const auth = createSessions<Data>({ name: 'auth', secrets: SECRET, store, onEvent: (event) => void events.push(event.type) })
    const { set } = await request(prefs, undefined, (data) => void (data.user = 'admin'))
    expect((await request(auth, `auth=${set.get('prefs')!}`)).session.isNew).toBe(true)
    expect(events).toContain('invalid-signature')
  })

  it('review 4: old cookies (unbound MAC, t1. seal) still open and are re-issued bound at once, then only until acceptUnboundUntil', async () => {
    const store = new MemoryStore()
    const id = 'B'.repeat(43)
    const now = Date.now()
    await store.set(id, { data: { user: 'ana' }, createdAt: now, expiresAt: now + 3600_000 })
    const signed = createSessions<Data>({ name: 'auth', secrets: SECRET, store, rolling: false })
    const old = await request(signed, `auth=${unboundSignedId(id)}`)
    expect(old.session.data).toEqual({ user: 'ana' })
    const reissued = old.set.get('auth')!
    expect(reissued).toBeDefined()
    expect(reissued).not.toBe(unboundSignedId(id))
    expect((await request(signed, `auth=${reissued}`)).set.size).toBe(0) // once

    const sealed = createSessions<Data>({ name: 'auth', secrets: SECRET, store: new CookieStore(), rolling: false })
    const seal = await unboundSeal({ user: 'ana' })
    const opened = await request(sealed, `auth=${seal}`)
    expect(opened.session.data).toEqual({ user: 'ana' })
    expect(opened.set.get('auth')).toMatch(/^t2\./)
    expect((await request(sealed, `auth=${opened.set.get('auth')!}`)).set.size).toBe(0)

    // After acceptUnboundUntil, old formats no longer open; the bound ones still do.
    const strictSigned = createSessions<Data>({ name: 'auth', secrets: SECRET, store, acceptUnboundUntil: now - 1 })
    expect((await request(strictSigned, `auth=${unboundSignedId(id)}`)).session.isNew).toBe(true)
    expect((await request(strictSigned, `auth=s:${unboundSignedId(id).replace(/-/g, '+').replace(/_/g, '/')}`)).session.isNew).toBe(true)
    expect((await request(strictSigned, `auth=${reissued}`)).session.data).toEqual({ user: 'ana' })
    const strictSealed = createSessions<Data>({ name: 'auth', secrets: SECRET, store: new CookieStore(), acceptUnboundUntil: new Date(now - 1) })
    expect((await request(strictSealed, `auth=${seal}`)).session.isNew).toBe(true)
    expect((await request(strictSealed, `auth=${opened.set.get('auth')!}`)).session.data).toEqual({ user: 'ana' })
    expect(() => createSessions({ acceptUnboundUntil: 'soon' } as unknown as SessionsOptions)).toThrow(/acceptUnboundUntil/)
  })
})

describe('review 8: secret rotation finishes on the response that verified the old secret', () => {
  it('review 8: a signed id verified by an older secret is re-signed with the first one on that response, once', async () => {
    const store = new MemoryStore()
    const before = createSessions<Data>({ secrets: [OLD_SECRET], store, rolling: false })
    const first = await request(before, undefined, (data) => void (data.n = 1))
    const oldCookie = first.set.get('sid')!
    const rotated = createSessions<Data>({ secrets: [SECRET, OLD_SECRET], store, rolling: false })
    const read = await request(rotated, `sid=${oldCookie}`)
    expect(read.session.data).toEqual({ n: 1 })
    const reissued = read.set.get('sid')!
    expect(reissued).toBeDefined()
    expect(reissued).not.toBe(oldCookie)
    // Signed with the first secret alone: a server that dropped the old one opens it.
    const newOnly = createSessions<Data>({ secrets: [SECRET], store })
    expect((await request(newOnly, `sid=${reissued}`)).session.data).toEqual({ n: 1 })
    // Once: the re-issued cookie is current, nothing more is sent.
    expect((await request(rotated, `sid=${reissued}`)).set.size).toBe(0)
  })

  it('review 8: a seal opened by an older secret is re-sealed with the first one on that response (rolling: false)', async () => {
    const old = createSessions<Data>({ secrets: [OLD_SECRET], store: new CookieStore() })
    const oldCookie = (await request(old, undefined, (data) => void (data.n = 1))).set.get('sid')!
    const rotated = createSessions<Data>({ secrets: [SECRET, OLD_SECRET], store: new CookieStore(), rolling: false })
    const read = await request(rotated, `sid=${oldCookie}`)
    const reissued = read.set.get('sid')!
    expect(reissued).toBeDefined()
    const newOnly = createSessions<Data>({ secrets: [SECRET], store: new CookieStore() })
    expect((await request(newOnly, `sid=${reissued}`)).session.data).toEqual({ n: 1 })
    expect((await request(rotated, `sid=${reissued}`)).set.size).toBe(0)
  })
})

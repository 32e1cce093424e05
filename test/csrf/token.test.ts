// Synchronizer tokens (kept in the session), signed double-submit tokens (bound to the session
// id), and the constant-time comparison under both.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createSessions } from '../../src/index.js'
import { CookieStore } from '../../src/stores/cookie-store.js'
import { MemoryStore } from '../../src/stores/memory-store.js'
import {
  constantTimeEqual,
  createCsrfToken,
  CSRF_SESSION_KEY,
  csrfField,
  csrfToken,
  verifyCsrfToken,
  verifySignedCsrfToken,
} from '../../src/csrf.js'

const SECRET = 'a-csrf-secret-of-at-least-thirty-two-characters'
const OLD_SECRET = 'an-older-secret-still-accepted-for-verification'

function setup(options: { hashIds?: boolean } = {}) {
  const sessions = createSessions({ store: new MemoryStore(), ...options })
  /** A fresh session, or the one the cookie header names. */
  const session = (cookie?: string) => sessions.get(new Request('http://app.test/', cookie ? { headers: { cookie } } : {}))
  return { sessions, session }
}

/** `name=value` of the first Set-Cookie, as a browser would send it back. */
const cookieOf = (setCookies: string[]) => setCookies[0]!.split(';')[0]!

describe('synchronizer token', () => {
  it('is 32 random bytes in base64url, created once and kept in the session', async () => {
    const { session } = setup()
    const s = await session()
    const token = csrfToken(s)
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(csrfToken(s)).toBe(token)
    expect(csrfField(s)).toEqual({ name: 'csrf_token', value: token })
    expect(Object.keys(s.data)).toEqual([CSRF_SESSION_KEY])
    const other = await session()
    expect(csrfToken(other)).not.toBe(token)
  })

  it('survives a round trip through the store and verifies on the next request', async () => {
    const { session } = setup()
    const first = await session()
    const token = csrfToken(first)
    const cookie = cookieOf(await first.commit())
    const second = await session(cookie)
    expect(second.isNew).toBe(false)
    expect(csrfToken(second)).toBe(token)
    expect(verifyCsrfToken(second, token)).toEqual({ ok: true })
  })

  it('checklist 40: a missing token is missing-token, a wrong one invalid-token', async () => {
    const { session } = setup()
    const s = await session()
    const token = csrfToken(s)
    expect(verifyCsrfToken(s, undefined)).toEqual({ ok: false, reason: 'missing-token' })
    expect(verifyCsrfToken(s, '')).toEqual({ ok: false, reason: 'missing-token' })
    expect(verifyCsrfToken(s, null)).toEqual({ ok: false, reason: 'missing-token' })
    expect(verifyCsrfToken(s, [token])).toEqual({ ok: false, reason: 'invalid-token' })
    expect(verifyCsrfToken(s, token.slice(0, -1))).toEqual({ ok: false, reason: 'invalid-token' })
    expect(verifyCsrfToken(s, `${token.slice(0, -1)}${token.endsWith('A') ? 'Q' : 'A'}`)).toEqual({ ok: false, reason: 'invalid-token' })
    expect(verifyCsrfToken(s, `${token}=`)).toEqual({ ok: false, reason: 'invalid-token' })
    expect(verifyCsrfToken(s, token)).toEqual({ ok: true })
  })

  it('fails for a session that has no token yet, without creating one', async () => {
    const { session } = setup()
    const s = await session()
    const foreign = csrfToken(await session())
    expect(verifyCsrfToken(s, foreign)).toEqual({ ok: false, reason: 'invalid-token' })
    expect(s.data).toEqual({})
  })

  it('checklist 41: a token minted for session A fails for session B', async () => {
    const { session } = setup()
    const a = await session()
    const b = await session()
    const tokenA = csrfToken(a)
    csrfToken(b)
    expect(verifyCsrfToken(b, tokenA)).toEqual({ ok: false, reason: 'invalid-token' })
    expect(verifyCsrfToken(a, tokenA)).toEqual({ ok: true })
  })

  it('checklist 42: after regenerate() the pre-login token fails and a new one is minted', async () => {
    const { session } = setup()
    const s = await session()
    const before = csrfToken(s)
    await s.regenerate()
    expect(verifyCsrfToken(s, before)).toEqual({ ok: false, reason: 'invalid-token' })
    const after = csrfToken(s)
    expect(after).not.toBe(before)
    expect(verifyCsrfToken(s, after)).toEqual({ ok: true })
    expect(verifyCsrfToken(s, before)).toEqual({ ok: false, reason: 'invalid-token' })
  })

  it('checklist 42: a token copied into another session’s data does not validate there', async () => {
    // What an attacker who plants a session would try: same data, different id.
    const { session } = setup()
    const a = await session()
    const token = csrfToken(a)
    const b = await session()
    ;(b.data as Record<string, unknown>)[CSRF_SESSION_KEY] = JSON.parse(JSON.stringify((a.data as Record<string, unknown>)[CSRF_SESSION_KEY]))
    expect(verifyCsrfToken(b, token)).toEqual({ ok: false, reason: 'invalid-token' })
  })

  it('keeps no session id in the session data (hashIds stays meaningful)', async () => {
    const { session } = setup({ hashIds: true })
    const s = await session()
    csrfToken(s)
    expect(JSON.stringify(s.data)).not.toContain(s.id)
  })

  it('a wrong guess does not burn the real token', async () => {
    const { session } = setup()
    const s = await session()
    const token = csrfToken(s)
    const guesses = [csrfToken(await session()), `${token}x`, token.toUpperCase(), 'A'.repeat(43)]
    for (const guess of guesses) expect(verifyCsrfToken(s, guess, { singleUse: true }).ok).toBe(false)
    expect(csrfToken(s)).toBe(token)
    expect(verifyCsrfToken(s, token)).toEqual({ ok: true })
  })

  it('singleUse rotates the token after a success, so it works once', async () => {
    const { session } = setup()
    const s = await session()
    const token = csrfToken(s)
    expect(verifyCsrfToken(s, token, { singleUse: true })).toEqual({ ok: true })
    expect(verifyCsrfToken(s, token, { singleUse: true })).toEqual({ ok: false, reason: 'invalid-token' })
    const next = csrfToken(s)
    expect(next).not.toBe(token)
    expect(verifyCsrfToken(s, next)).toEqual({ ok: true })
  })

  it('ignores a malformed value under the reserved key and mints over it', async () => {
    const { session } = setup()
    const s = await session()
    ;(s.data as Record<string, unknown>)[CSRF_SESSION_KEY] = { token: 42, sid: null }
    expect(verifyCsrfToken(s, 'A'.repeat(43))).toEqual({ ok: false, reason: 'invalid-token' })
    const token = csrfToken(s)
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(verifyCsrfToken(s, token)).toEqual({ ok: true })
  })
})

describe('signed double-submit token', () => {
  const idA = 'session-a-0123456789abcdefghijklmnop'
  const idB = 'session-b-0123456789abcdefghijklmnop'

  it('has the shape <random>.<mac> and verifies for its session', async () => {
    const token = await createCsrfToken(SECRET, idA)
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/)
    expect(await createCsrfToken(SECRET, idA)).not.toBe(token)
    expect(await verifySignedCsrfToken(SECRET, idA, token)).toEqual({ ok: true })
  })

  it('checklist 41: a token minted for session A fails for session B', async () => {
    const token = await createCsrfToken([SECRET], idA)
    expect(await verifySignedCsrfToken([SECRET], idB, token)).toEqual({ ok: false, reason: 'invalid-token' })
  })

  it('checklist 42: a token minted before regenerate() fails for the new id', async () => {
    const { session } = setup()
    const s = await session()
    const before = await createCsrfToken(SECRET, s.id)
    await s.regenerate()
    expect(await verifySignedCsrfToken(SECRET, s.id, before)).toEqual({ ok: false, reason: 'invalid-token' })
    expect(await verifySignedCsrfToken(SECRET, s.id, await createCsrfToken(SECRET, s.id))).toEqual({ ok: true })
  })

  it('rotates secrets: the first signs, every one verifies, a dropped one fails', async () => {
    const old = await createCsrfToken(OLD_SECRET, idA)
    expect(await verifySignedCsrfToken([SECRET, OLD_SECRET], idA, old)).toEqual({ ok: true })
    expect(await verifySignedCsrfToken([SECRET], idA, old)).toEqual({ ok: false, reason: 'invalid-token' })
    const fresh = await createCsrfToken([SECRET, OLD_SECRET], idA)
    expect(await verifySignedCsrfToken([SECRET], idA, fresh)).toEqual({ ok: true })
  })

  it('checklist 40: rejects missing, tampered and malformed tokens', async () => {
    const token = await createCsrfToken(SECRET, idA)
    const [random, mac] = token.split('.') as [string, string]
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'Q' : 'A') + s.slice(i + 1)
    expect(await verifySignedCsrfToken(SECRET, idA, undefined)).toEqual({ ok: false, reason: 'missing-token' })
    expect(await verifySignedCsrfToken(SECRET, idA, '')).toEqual({ ok: false, reason: 'missing-token' })
    for (const bad of [flip(token, 0), `${random}.${flip(mac, 5)}`, `${mac}.${random}`, random, `${token}.`, token.replace('.', '_'), 42]) {
      expect(await verifySignedCsrfToken(SECRET, idA, bad)).toEqual({ ok: false, reason: 'invalid-token' })
    }
    expect(await verifySignedCsrfToken(SECRET, '', token)).toEqual({ ok: false, reason: 'invalid-token' })
  })

  it('is not a session-cookie signature made with the same secret', async () => {
    // The core signs `id` alone; the token's MAC covers a label too, so neither stands in for the other.
    const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
    const random = 'B'.repeat(43)
    const plain = Buffer.from(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(idA + random))).toString('base64url')
    expect(await verifySignedCsrfToken(SECRET, idA, `${random}.${plain}`)).toEqual({ ok: false, reason: 'invalid-token' })
  })

  it('rejects short or missing secrets with a TypeError', async () => {
    await expect(createCsrfToken('short', idA)).rejects.toThrow(TypeError)
    await expect(createCsrfToken([], idA)).rejects.toThrow(TypeError)
    await expect(verifySignedCsrfToken(['x'.repeat(31)], idA, 'a.b')).rejects.toThrow(TypeError)
    await expect(createCsrfToken(SECRET, '')).rejects.toThrow(TypeError)
  })

  it('names SESSION_SECRET when the secrets are missing: sessions created with secrets: undefined hand on none', async () => {
    const sessions = createSessions({ secrets: process.env.TESSERA_TEST_UNSET_SECRET, store: new MemoryStore() })
    await expect(createCsrfToken(sessions.config.secrets, idA)).rejects.toThrow(/got none \(is SESSION_SECRET set\?/)
    await expect(createCsrfToken('short', idA)).rejects.not.toThrow(/SESSION_SECRET/)
  })
})

describe('with the cookie store (nothing kept server-side)', () => {
  const store = new CookieStore()
  // createSessions hands the secrets over through init() once the core wires it; calling it first
  // with the same secrets is a no-op then, and makes the test independent of that wiring.
  store.init({ secrets: [SECRET] })
  const sessions = createSessions({ store, secrets: SECRET })
  const session = (cookie?: string) => sessions.get(new Request('http://app.test/', cookie ? { headers: { cookie } } : {}))

  it('checklist 41: the synchronizer token travels sealed in the cookie and binds to that session', async () => {
    const a = await session()
    const token = csrfToken(a)
    const cookie = cookieOf(await a.commit())
    expect(cookie).not.toContain(token) // sealed, not readable
    const again = await session(cookie)
    expect(verifyCsrfToken(again, token)).toEqual({ ok: true })
    const b = await session()
    csrfToken(b)
    const cookieB = cookieOf(await b.commit())
    expect(verifyCsrfToken(await session(cookieB), token)).toEqual({ ok: false, reason: 'invalid-token' })
  })

  it('checklist 41, 42: a signed token is bound to the sealed session id, which regenerate() replaces', async () => {
    const s = await session()
    ;(s.data as Record<string, unknown>).user = 'ada'
    const cookie = cookieOf(await s.commit())
    const token = await createCsrfToken(SECRET, s.id)
    const loaded = await session(cookie)
    expect(loaded.id).toBe(s.id)
    expect(await verifySignedCsrfToken(SECRET, loaded.id, token)).toEqual({ ok: true })
    await loaded.regenerate()
    expect(await verifySignedCsrfToken(SECRET, loaded.id, token)).toEqual({ ok: false, reason: 'invalid-token' })
  })
})

describe('constantTimeEqual', () => {
  it('checklist 40: compares strings and bytes correctly', () => {
    expect(constantTimeEqual('', '')).toBe(true)
    expect(constantTimeEqual('abc', 'abc')).toBe(true)
    expect(constantTimeEqual('abc', 'abd')).toBe(false)
    expect(constantTimeEqual('abc', 'bbc')).toBe(false)
    expect(constantTimeEqual('abc', 'ab')).toBe(false)
    expect(constantTimeEqual('ab', 'abc')).toBe(false)
    expect(constantTimeEqual('abc\0', 'abc')).toBe(false)
    expect(constantTimeEqual('é', 'e\u0301')).toBe(false)
    expect(constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(true)
    expect(constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4]))).toBe(false)
    expect(constantTimeEqual('AB', new Uint8Array([65, 66]))).toBe(true)
  })

  it('checklist 40: agrees with plain equality on arbitrary inputs', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), (a, b) => {
        expect(constantTimeEqual(a, b)).toBe(Buffer.from(a).equals(Buffer.from(b)))
        expect(constantTimeEqual(a, a.slice())).toBe(true)
      }),
    )
  })

  it('checklist 40: reads every byte whether the first or the last one differs (no early exit)', () => {
    const reads = (a: Uint8Array, b: Uint8Array) => {
      let count = 0
      const counted = (bytes: Uint8Array) =>
        new Proxy(bytes, {
          get(target, key) {
            if (typeof key === 'string' && /^\d+$/.test(key)) count++
            const value = Reflect.get(target, key, target) as unknown
            return typeof value === 'function' ? value.bind(target) : value
          },
        })
      constantTimeEqual(counted(a), counted(b))
      return count
    }
    const base = new Uint8Array(32).fill(7)
    const firstDiffers = base.slice()
    firstDiffers[0] = 8
    const lastDiffers = base.slice()
    lastDiffers[31] = 8
    expect(reads(base, firstDiffers)).toBe(64)
    expect(reads(base, lastDiffers)).toBe(64)
    expect(reads(base, base.slice())).toBe(64)
  })
})

describe('never throws', () => {
  it('verifyCsrfToken and verifySignedCsrfToken answer a CsrfResult for any token', async () => {
    const { session } = setup()
    const s = await session()
    const real = csrfToken(s)
    const anyToken = fc.oneof(fc.anything(), fc.string(), fc.stringMatching(/^[A-Za-z0-9_.=-]{0,100}$/), fc.string({ unit: 'binary', maxLength: 100 }))
    fc.assert(
      fc.property(anyToken, fc.boolean(), (token, singleUse) => {
        const result = verifyCsrfToken(s, token, { singleUse })
        expect(result.ok).toBe(false)
        expect(['missing-token', 'invalid-token']).toContain((result as { reason: string }).reason)
      }),
      { numRuns: 500 },
    )
    expect(csrfToken(s)).toBe(real)
    await fc.assert(
      fc.asyncProperty(anyToken, fc.string(), async (token, sessionId) => {
        const result = await verifySignedCsrfToken(SECRET, sessionId, token)
        expect(result.ok).toBe(false)
      }),
      { numRuns: 300 },
    )
  })
})

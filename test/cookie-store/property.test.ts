// Property tests: random and mutated cookie values never throw and never open.
import { sealData } from 'iron-session'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import type { CookieStore } from '../../src/stores/cookie-store.js'
import { cookieSessions, IRON_PASSWORD, SECRET_A, SECRET_B, webRequest } from './helpers.js'

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const RUNS = 10_000

let store: CookieStore
const seals: string[] = []
const ironSeals: string[] = []

beforeAll(async () => {
  // Rotation on and iron on: every way of opening a value is in play.
  store = cookieSessions({ secrets: [SECRET_A, SECRET_B], storeOptions: { iron: { password: IRON_PASSWORD } } }).store
  const other = cookieSessions({ secrets: [SECRET_B] }).store
  const now = Date.now()
  for (let i = 0; i < 6; i++) {
    const record = { data: { i, user: { name: 'n'.repeat(i * 7) }, list: Array.from({ length: i }, (_, k) => k) }, createdAt: now, expiresAt: now + 3600_000 }
    seals.push(await (i % 2 ? other : store).seal(`id-${'x'.repeat(20)}-${i}`, i % 3 === 2 ? { ...record, userId: `u${i}` } : record))
    ironSeals.push(await sealData({ user: i, flag: i % 2 === 0 }, { password: IRON_PASSWORD }))
  }
  // Control: every base value opens, so a mutation that still opened would be noticed.
  for (const value of [...seals, ...ironSeals]) expect(await store.unseal(value)).toBeDefined()
})

/** A mutation of `value` (mutations chain, so `value` may already be short or empty). */
function mutation(alphabet: string): fc.Arbitrary<(value: string) => string> {
  const op = baseMutation(alphabet)
  return op.map((mutate) => (v: string) => (v.length === 0 ? 'A' : mutate(v)))
}

function baseMutation(alphabet: string): fc.Arbitrary<(value: string) => string> {
  const char = fc.constantFrom(...alphabet.split(''))
  const text = fc.string({ unit: char, minLength: 1, maxLength: 8 })
  return fc.oneof(
    // Replace one character by another.
    fc.tuple(fc.nat(), char).map(([at, c]) => (v: string) => {
      const i = at % v.length
      const replacement = c === v[i] ? (c === 'A' ? 'B' : 'A') : c
      return v.slice(0, i) + replacement + v.slice(i + 1)
    }),
    // Delete a range.
    fc.tuple(fc.nat(), fc.integer({ min: 1, max: 40 })).map(([at, n]) => (v: string) => {
      const i = at % v.length
      return v.slice(0, i) + v.slice(i + n)
    }),
    // Insert text.
    fc.tuple(fc.nat(), text).map(([at, t]) => (v: string) => {
      const i = at % (v.length + 1)
      return v.slice(0, i) + t + v.slice(i)
    }),
    // Truncate.
    fc.nat().map((at) => (v: string) => v.slice(0, at % v.length)),
    // Swap two characters that differ.
    fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => (v: string) => {
      const i = a % v.length
      let j = b % v.length
      for (let k = 0; k < v.length && v[j] === v[i]; k++) j = (j + 1) % v.length
      if (v[i] === v[j]) return v + 'A'
      const chars = v.split('')
      ;[chars[i], chars[j]] = [chars[j]!, chars[i]!]
      return chars.join('')
    }),
    // Swap two segments around a separator.
    fc.nat().map((at) => (v: string) => {
      const sep = v.startsWith('Fe26') ? '*' : '.'
      const parts = v.split(sep)
      const i = at % parts.length
      const j = (i + 1) % parts.length
      if (parts[i] === parts[j]) return v + 'A'
      ;[parts[i], parts[j]] = [parts[j]!, parts[i]!]
      return parts.join(sep)
    }),
    // Repeat a slice (duplicated cookie contents).
    fc.tuple(fc.nat(), fc.integer({ min: 1, max: 30 })).map(([at, n]) => (v: string) => {
      const i = at % v.length
      return v.slice(0, i + n) + v.slice(i)
    }),
    // Flip the case of a letter.
    fc.nat().map((at) => (v: string) => {
      for (let k = 0; k < v.length; k++) {
        const i = (at + k) % v.length
        const c = v[i]!
        const flipped = c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()
        if (flipped !== c) return v.slice(0, i) + flipped + v.slice(i + 1)
      }
      return v + 'A'
    }),
  )
}

async function neverOpens(value: string): Promise<boolean> {
  // unseal must resolve (a rejection fails the property) and find nothing.
  return (await store.unseal(value)) === undefined
}

describe('CookieStore properties', () => {
  it(`${RUNS} random values never throw and never open`, async () => {
    const structured = fc
      .tuple(fc.constantFrom('t1', 't2', 'Fe26.2', ''), fc.array(fc.string({ unit: fc.constantFrom(...`${B64URL}.*~%`.split('')), maxLength: 40 }), { maxLength: 8 }))
      .map(([head, parts]) => [head, ...parts].join(head.startsWith('Fe') ? '*' : '.'))
    const anything = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 100 }), structured)
    await fc.assert(fc.asyncProperty(anything, neverOpens), { numRuns: RUNS })
  })

  it(`${RUNS} mutations of valid Tessera seals never throw and never open`, async () => {
    const arbitrary = fc.tuple(fc.nat({ max: seals.length - 1 }), fc.array(mutation(`${B64URL}.`), { minLength: 1, maxLength: 3 }))
    await fc.assert(
      fc.asyncProperty(arbitrary, async ([which, mutations]) => {
        const original = seals[which]!
        const mutated = mutations.reduce((v, m) => m(v), original)
        fc.pre(mutated !== original)
        return neverOpens(mutated)
      }),
      { numRuns: RUNS },
    )
  })

  it('3000 mutations of valid iron-session seals never throw and never open', async () => {
    const arbitrary = fc.tuple(fc.nat({ max: ironSeals.length - 1 }), fc.array(mutation(`${B64URL}*~`), { minLength: 1, maxLength: 2 }))
    await fc.assert(
      fc.asyncProperty(arbitrary, async ([which, mutations]) => {
        const original = ironSeals[which]!
        const mutated = mutations.reduce((v, m) => m(v), original)
        fc.pre(mutated !== original)
        return neverOpens(mutated)
      }),
      { numRuns: 3000 },
    )
  })

  it('500 random Cookie headers through sessions.get never throw and give fresh, empty sessions', async () => {
    const { sessions } = cookieSessions({ storeOptions: { iron: { password: IRON_PASSWORD } } })
    const name = fc.constantFrom('sid', 'sid.0', 'sid.1', 'sid.2', 'other')
    const pair = fc.tuple(name, fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom(...seals.map((s) => s.slice(0, 50))))).map(([n, v]) => `${n}=${v}`)
    const header = fc.array(pair, { maxLength: 6 }).map((pairs) => pairs.join('; ').replace(/[\r\n\0]/g, ''))
    await fc.assert(
      fc.asyncProperty(header, async (cookie) => {
        const result = await webRequest(sessions, cookie)
        return result.error === undefined && result.session.isNew && Object.keys(result.session.data).length === 0
      }),
      { numRuns: 500 },
    )
  })
})

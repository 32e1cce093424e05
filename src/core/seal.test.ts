import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { Sealer } from './seal.js'
import { base64urlDecode, base64urlEncode } from './encoding.js'

const OLD = 'old-secret-old-secret-old-secret-0001'
const NEW = 'new-secret-new-secret-new-secret-0002'
const OTHER = 'other-secret-other-secret-other-secret-3'
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.'

describe('Sealer', () => {
  it('round-trips strings, including empty and non-ASCII ones', async () => {
    const sealer = new Sealer([NEW])
    for (const payload of ['', 'hello', '{"user":"ana","n":1}', 'ünïcødé 🍪 \u0000', 'x'.repeat(3000)]) {
      const sealed = await sealer.seal(payload)
      expect(sealed).toMatch(/^t1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/)
      expect(await sealer.unseal(sealed)).toBe(payload)
    }
  })

  it('uses a fresh IV for every seal', async () => {
    const sealer = new Sealer([NEW])
    const a = await sealer.seal('same')
    const b = await sealer.seal('same')
    expect(a).not.toBe(b)
    expect(a.split('.')[1]).toBe(b.split('.')[1])
    expect(a.split('.')[2]).not.toBe(b.split('.')[2])
  })

  it('does not carry the plaintext in the sealed value', async () => {
    const payload = 'top-secret-session-payload'
    const sealed = await new Sealer([NEW]).seal(payload)
    expect(sealed).not.toContain(payload)
    expect(sealed).not.toContain(base64urlEncode(new TextEncoder().encode(payload)).slice(0, 12))
    const ciphertext = base64urlDecode(sealed.split('.')[3]!)!
    expect(new TextDecoder().decode(ciphertext)).not.toContain(payload)
  })

  it('rotates: old seals open while the old secret is listed, not after', async () => {
    const sealedWithOld = await new Sealer([OLD]).seal('from before')
    const rotated = new Sealer([NEW, OLD])
    expect(await rotated.unseal(sealedWithOld)).toBe('from before')
    const sealedWithNew = await rotated.seal('after')
    expect(sealedWithNew.split('.')[1]).not.toBe(sealedWithOld.split('.')[1])
    expect(await new Sealer([NEW]).unseal(sealedWithNew)).toBe('after')
    expect(await new Sealer([NEW]).unseal(sealedWithOld)).toBeUndefined()
    expect(await new Sealer([OTHER]).unseal(sealedWithNew)).toBeUndefined()
  })

  it('gives undefined for every single-character change, deletion and insertion', async () => {
    const sealer = new Sealer([NEW, OLD])
    // 17 and 28 ciphertext bytes: the last base64url character has unused bits, the case where
    // a lenient decoder would accept a second spelling.
    for (const payload of ['h', 'hello, world']) {
      const sealed = await sealer.seal(payload)
      const mutants = new Set<string>()
      for (let i = 0; i < sealed.length; i++) {
        mutants.add(sealed.slice(0, i) + sealed.slice(i + 1))
        for (const c of ALPHABET) {
          mutants.add(sealed.slice(0, i) + c + sealed.slice(i + 1))
          mutants.add(sealed.slice(0, i) + c + sealed.slice(i))
        }
      }
      for (const c of ALPHABET) mutants.add(sealed + c)
      mutants.delete(sealed)
      const results = await Promise.all([...mutants].map((m) => sealer.unseal(m)))
      const opened = [...mutants].filter((_, i) => results[i] !== undefined)
      expect(opened).toEqual([])
    }
  })

  it('rejects a wrong version, a swapped or unknown kid, truncation, empty and huge input', async () => {
    const sealer = new Sealer([NEW, OLD])
    const sealed = await sealer.seal('payload')
    const [, kid, iv, ct] = sealed.split('.') as [string, string, string, string]
    const oldKid = (await new Sealer([OLD]).seal('x')).split('.')[1]!

    expect(await sealer.unseal(`t2.${kid}.${iv}.${ct}`)).toBeUndefined()
    expect(await sealer.unseal(`T1.${kid}.${iv}.${ct}`)).toBeUndefined()
    expect(await sealer.unseal(`${kid}.${iv}.${ct}`)).toBeUndefined()
    // The other key is known to this Sealer, but the kid is bound into the associated data.
    expect(await sealer.unseal(`t1.${oldKid}.${iv}.${ct}`)).toBeUndefined()
    expect(await sealer.unseal(`t1.AAAAAAAA.${iv}.${ct}`)).toBeUndefined()
    expect(await sealer.unseal(`t1.${kid}.${iv}.${ct}.`)).toBeUndefined()
    expect(await sealer.unseal(`t1.${kid}.${iv}.${ct}.${ct}`)).toBeUndefined()
    expect(await sealer.unseal(`t1.${kid}.${iv}.`)).toBeUndefined()
    expect(await sealer.unseal(`t1.${kid}.${iv}.${ct.slice(0, 20)}`)).toBeUndefined()
    expect(await sealer.unseal(`t1.${kid}.${iv.slice(0, 12)}.${ct}`)).toBeUndefined()
    for (let n = 0; n < sealed.length; n++) expect(await sealer.unseal(sealed.slice(0, n))).toBeUndefined()
    expect(await sealer.unseal('')).toBeUndefined()
    expect(await sealer.unseal('...')).toBeUndefined()
    expect(await sealer.unseal(`t1.${kid}.${iv}.${'A'.repeat(70_000)}`)).toBeUndefined()
    expect(await sealer.unseal('t1.' + '.'.repeat(1_000_000))).toBeUndefined()
    expect(await sealer.unseal(sealed + 'A'.repeat(65_536))).toBeUndefined()
    // Not a string at all (a caller without types): still no throw.
    expect(await sealer.unseal(undefined as unknown as string)).toBeUndefined()
    expect(await sealer.unseal({} as unknown as string)).toBeUndefined()
  })

  it('needs at least one secret', () => {
    expect(() => new Sealer([])).toThrow(TypeError)
  })

  it('never throws and never opens arbitrary or mutated input to anything but the original', async () => {
    const sealer = new Sealer([NEW, OLD])
    const payloads = ['', 'a', '{"id":"abc","n":42}', 'ünïcødé 🍪', 'p'.repeat(200)]
    const seals = await Promise.all([
      ...payloads.map((p) => sealer.seal(p)),
      ...payloads.map((p) => new Sealer([OLD]).seal(p)),
    ])
    const original = new Map(seals.map((s, i) => [s, payloads[i % payloads.length]!]))

    const sealIndex = fc.nat({ max: seals.length - 1 })
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), text: fc.string({ minLength: 1, maxLength: 3 }) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.constantFrom(...ALPHABET) }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), text: fc.nat({ max: 5 }).map(String) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(), text: fc.constant('') }),
    )
    const mutated = fc.tuple(sealIndex, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([i, edits]) => {
      let s = seals[i]!
      for (const { kind, at, text } of edits) {
        const p = s.length === 0 ? 0 : at % (s.length + 1)
        if (kind === 'replace') s = s.slice(0, p) + text + s.slice(p + text.length)
        else if (kind === 'insert') s = s.slice(0, p) + text + s.slice(p)
        else if (kind === 'delete') s = s.slice(0, p) + s.slice(p + Number(text) + 1)
        else s = s.slice(0, p)
      }
      return s
    })
    const arbitrary = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.stringMatching(/^t1\.[A-Za-z0-9_-]{0,10}\.[A-Za-z0-9_-]{0,20}\.[A-Za-z0-9_-]{0,60}$/),
      mutated,
    )

    await fc.assert(
      fc.asyncProperty(arbitrary, async (input) => {
        const result = await sealer.unseal(input)
        if (result === undefined) return true
        return original.get(input) === result
      }),
      { numRuns: 10_000 },
    )
  }, 20_000)
})

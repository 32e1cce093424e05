// The sealed-cookie format and the signed ids are produced by two implementations: node:crypto
// (synchronous, where `process.getBuiltinModule` reaches it) and Web Crypto (Edge, workers,
// browsers). A cookie written by one must open with the other, bit for bit the same format.
import { webcrypto } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { base64urlDecode, base64urlEncode, isCanonicalBase64url } from '../../src/core/encoding.js'
import { nodeCrypto, nodeSealBackend, Sealer, webBackend, type SealBackend } from '../../src/core/seal.js'
import { sha256, Signer } from '../../src/core/sign.js'

const A = 'backend-secret-A-0123456789abcdefghijklmnop'
const B = 'backend-secret-B-0123456789abcdefghijklmnop'
const PAYLOADS = ['', 'x', '{"v":1,"i":"abc","d":{"n":1}}', 'ünïcødé 🍪 \u0000', 'lone \ud800 surrogate', 'p'.repeat(5000)]

const node = nodeSealBackend!
const backends: [string, SealBackend][] = [
  ['node', node],
  ['web', webBackend],
]

describe('crypto backends', () => {
  it('node:crypto is reachable here (Node ≥ 20.16), so the fast path is the default', () => {
    expect(nodeCrypto).toBeDefined()
    expect(nodeSealBackend).toBeDefined()
    expect(new Sealer([A]).backend).toBe('node')
    expect(new Sealer([A], webBackend).backend).toBe('web')
  })

  for (const [sealName, sealWith] of backends) {
    for (const [openName, openWith] of backends) {
      it(`a value sealed on ${sealName} opens on ${openName}`, async () => {
        const sealer = new Sealer([A], sealWith)
        const opener = new Sealer([B, A], openWith)
        for (const payload of PAYLOADS) {
          const sealed = await sealer.seal(payload)
          expect(sealed).toMatch(/^t1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/)
          // A lone surrogate is written as U+FFFD by both, as TextEncoder does.
          const expected = new TextDecoder().decode(new TextEncoder().encode(payload))
          expect(await opener.unseal(sealed)).toBe(expected)
          expect(await opener.open(sealed)).toEqual({ payload: expected, current: false })
          expect(await new Sealer([A], openWith).open(sealed)).toEqual({ payload: expected, current: true })
          expect(await new Sealer([B], openWith).unseal(sealed)).toBeUndefined()
        }
      })
    }
  }

  it('both derive the same key id and the same ciphertext for the same IV', async () => {
    const kids = await Promise.all(backends.map(async ([, b]) => (await new Sealer([A], b).seal('')).split('.')[1]))
    expect(kids[0]).toBe(kids[1])
    const secret = new TextEncoder().encode(A)
    const iv = new Uint8Array(12).fill(7)
    const aad = new TextEncoder().encode(`t1.${kids[0]}`)
    for (const payload of PAYLOADS) {
      const fromNode = await node.encrypt(node.deriveKey(secret), iv, aad, payload)
      const fromWeb = await webBackend.encrypt(webBackend.deriveKey(secret), iv, aad, payload)
      expect(fromNode).toBe(fromWeb)
    }
  })

  it('the key is HKDF-SHA-256(secret, "tessera/seal/v1", "tessera/seal/v1 aes-256-gcm"), 32 bytes', async () => {
    const secret = new TextEncoder().encode(A)
    const base = await webcrypto.subtle.importKey('raw', secret, 'HKDF', false, ['deriveBits'])
    const bits = await webcrypto.subtle.deriveBits(
      { name: 'HKDF', hash: 'SHA-256', salt: new TextEncoder().encode('tessera/seal/v1'), info: new TextEncoder().encode('tessera/seal/v1 aes-256-gcm') },
      base,
      256,
    )
    expect(Buffer.from(node.deriveKey(secret) as Uint8Array).toString('hex')).toBe(Buffer.from(bits).toString('hex'))
  })

  it('every single-character change of a seal is refused, on both backends', async () => {
    for (const [, backend] of backends) {
      const sealer = new Sealer([A, B], backend)
      const sealed = await sealer.seal('hello, world')
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.'
      const mutants = new Set<string>()
      for (let i = 0; i < sealed.length; i++) {
        mutants.add(sealed.slice(0, i) + sealed.slice(i + 1))
        for (const c of alphabet) mutants.add(sealed.slice(0, i) + c + sealed.slice(i + 1))
      }
      mutants.delete(sealed)
      const opened = await Promise.all([...mutants].map((m) => sealer.open(m)))
      expect(opened.filter((o) => o !== undefined)).toEqual([])
    }
  })

  it('the node path answers open() synchronously; Web Crypto with a promise', async () => {
    const sealed = await new Sealer([A]).seal('sync')
    expect(new Sealer([A]).open(sealed)).toEqual({ payload: 'sync', current: true })
    expect(new Sealer([A]).open('garbage')).toBeUndefined()
    const web = new Sealer([A], webBackend).open(sealed)
    expect(web).toBeInstanceOf(Promise)
    expect(await web).toEqual({ payload: 'sync', current: true })
  })

  it('never hands out the same IV twice (the pool is refilled, not reused)', async () => {
    for (const [, backend] of backends) {
      const sealer = new Sealer([A], backend)
      const ivs = new Set<string>()
      for (let i = 0; i < 600; i++) ivs.add((await sealer.seal('same')).split('.')[2]!)
      expect(ivs.size).toBe(600)
    }
  })
})

describe('Sealer: remembered values', () => {
  function counting(backend: SealBackend): SealBackend & { decrypts: number } {
    const counted = { ...backend, decrypts: 0 }
    counted.decrypt = (...args) => {
      counted.decrypts++
      return backend.decrypt(...args)
    }
    return counted
  }

  for (const [name, backend] of backends) {
    it(`${name}: a value it sealed or opened opens again without decrypting, to the same answer`, async () => {
      const b = counting(backend)
      const sealer = new Sealer([A, B], b)
      const own = await sealer.seal('{"n":1}')
      for (let i = 0; i < 3; i++) expect(await sealer.open(own)).toEqual({ payload: '{"n":1}', current: true })
      expect(b.decrypts).toBe(0)

      const foreign = await new Sealer([B], backend).seal('from another process')
      for (let i = 0; i < 3; i++) expect(await sealer.open(foreign)).toEqual({ payload: 'from another process', current: false })
      expect(b.decrypts).toBe(1)

      // A lone surrogate does not survive UTF-8: not remembered as sealed, opened as U+FFFD.
      const lone = await sealer.seal('a\ud800b')
      expect(await sealer.unseal(lone)).toBe('a\ufffdb')
      expect(b.decrypts).toBe(2)

      // Refused values are never remembered, and a remembered value's mutants are still refused.
      const flipped = own.slice(0, -3) + (own.at(-3) === 'A' ? 'B' : 'A') + own.slice(-2)
      expect(await sealer.open(flipped)).toBeUndefined()
      expect(await sealer.open(flipped)).toBeUndefined()
      expect(b.decrypts).toBe(4)
    })
  }

  it('forgets the oldest values past its bound, and they still open by decrypting', async () => {
    const b = counting(node)
    const sealer = new Sealer([A], b)
    const first = await sealer.seal('first')
    for (let i = 0; i < 1100; i++) await sealer.seal(`filler ${i}`)
    expect(await sealer.unseal(first)).toBe('first')
    expect(b.decrypts).toBe(1)
    expect(await sealer.unseal(first)).toBe('first')
    expect(b.decrypts).toBe(1)
  })

  it('does not remember values longer than 8192 characters', async () => {
    const b = counting(node)
    const sealer = new Sealer([A], b)
    const long = await sealer.seal('L'.repeat(7000))
    expect(long.length).toBeGreaterThan(8192)
    expect(await sealer.unseal(long)).toBe('L'.repeat(7000))
    expect(await sealer.unseal(long)).toBe('L'.repeat(7000))
    expect(b.decrypts).toBe(2)
  })
})

describe('Signer on node:crypto and Web Crypto', () => {
  it('gives the same signatures, and each verifies the other’s', async () => {
    const onNode = new Signer([A, B])
    const onWeb = new Signer([A, B], null)
    const ids = ['abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG', 'short-id-0123456789abcdef']
    for (const id of ids) {
      const a = await onNode.sign(id)
      const b = await onWeb.sign(id)
      expect(a).toBe(b)
      // Fresh signers: no verified-value cache in between.
      expect(await new Signer([B, A]).unsign(b)).toBe(id)
      expect(await new Signer([B, A], null).unsign(a)).toBe(id)
      expect(await new Signer([B]).unsign(a)).toBeUndefined()
      expect(await new Signer([B], null).unsign(a)).toBeUndefined()
      const forged = a.slice(0, -2) + (a.endsWith('AA') ? 'BA' : 'AA')
      expect(await new Signer([A]).unsign(forged)).toBeUndefined()
      // express-session's `s:<id>.<standard base64 mac>`
      const legacy = `s:${id}.${Buffer.from(base64urlDecode(a.split('.').pop()!)!).toString('base64').replace(/=+$/, '')}`
      expect(await new Signer([A]).unsign(legacy)).toBe(id)
      expect(await new Signer([A], null).unsign(legacy)).toBe(id)
    }
  })

  it('sha256 matches Web Crypto, lone surrogates included', async () => {
    for (const text of ['', 'id', 'ünïcødé 🍪', 'lone \udc00 surrogate']) {
      const digest = await webcrypto.subtle.digest('SHA-256', new TextEncoder().encode(text))
      expect(await sha256(text)).toBe(Buffer.from(digest).toString('base64url'))
    }
  })
})

describe('base64url', () => {
  it('encodes as Node does', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const expected = Buffer.from(bytes).toString('base64url')
        return base64urlEncode(bytes) === expected && node.encode(bytes) === expected
      }),
      { numRuns: 2000 },
    )
  })

  it('decodes exactly the canonical spellings, on both paths', () => {
    const text = fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9_-]{0,40}$/),
      fc.string({ maxLength: 40 }),
      fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('base64url')),
    )
    fc.assert(
      fc.property(text, (t) => {
        const canonical = /^[A-Za-z0-9_-]*$/.test(t) && t.length % 4 !== 1 && Buffer.from(t, 'base64url').toString('base64url') === t
        expect(isCanonicalBase64url(t)).toBe(canonical)
        for (const decoded of [base64urlDecode(t), node.decode(t)]) {
          if (!canonical) expect(decoded).toBeUndefined()
          else expect(Buffer.from(decoded!).equals(Buffer.from(t, 'base64url'))).toBe(true)
        }
      }),
      { numRuns: 5000 },
    )
    for (const bad of ['A', 'AB', 'AAB', 'AA==', 'A+/A', 'AA.A', undefined as unknown as string]) {
      expect(base64urlDecode(bad)).toBeUndefined()
      expect(node.decode(bad)).toBeUndefined()
    }
  })
})

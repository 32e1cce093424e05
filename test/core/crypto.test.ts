// The crypto module (src/core/crypto.ts and the formats beside it) on both of its backends:
// node:crypto (synchronous, where `process.getBuiltinModule` reaches it) and Web Crypto (Edge,
// workers, browsers). A value written by one must open with the other. node:crypto imported here
// also serves as an independent oracle: a `t1` seal, a signed id and a hashed id are what a second
// implementation of the written formula computes, bit for bit, so a change of format (KDF salt,
// key id, associated data, MAC input) fails here even if both backends agree.
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync } from 'node:crypto'
import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { nodeBackend } from '../../src/adapters/node-crypto.js'
import { backend, cachedKey, hmacKey, hmacSign, hmacVerify, sha256, webBackend, type Backend } from '../../src/core/crypto.js'
import '../../src/index.js' // the Node build installs the node backend
import { base64urlDecode, base64urlEncode, isCanonicalBase64url } from '../../src/core/encoding.js'
import { Sealer } from '../../src/core/seal.js'
import { Signer } from '../../src/core/sign.js'

const A = 'crypto-secret-A-0123456789abcdefghijklmnop'
const B = 'crypto-secret-B-0123456789abcdefghijklmnop'
const PAYLOADS = ['', 'x', '{"v":1,"i":"abc","d":{"n":1}}', 'ünïcødé 🍪 \u0000', 'p'.repeat(5000)]

const backends: [string, Backend][] = [
  ['node', nodeBackend!],
  ['web', webBackend],
]

afterEach(() => {
  vi.restoreAllMocks()
})

it('node:crypto is reachable here (Node ≥ 20.16), so it is the default backend', () => {
  expect(nodeBackend).toBeDefined()
  expect(backend.name).toBe('node')
  expect(new Sealer([A]).backend).toBe('node')
  expect(new Sealer([A], webBackend).backend).toBe('web')
})

/** The `t1` formula, written again on node:crypto. */
const t1 = {
  key: (secret: string) => Buffer.from(hkdfSync('sha256', secret, 'tessera/seal/v1', 'tessera/seal/v1 aes-256-gcm', 32)),
  kid: (secret: string) => createHash('sha256').update(`tessera/seal/v1 kid\0${secret}`).digest('base64url').slice(0, 8),
  seal(secret: string, iv: Buffer, payload: string): string {
    const kid = t1.kid(secret)
    const cipher = createCipheriv('aes-256-gcm', t1.key(secret), iv, { authTagLength: 16 })
    cipher.setAAD(Buffer.from(`t1.${kid}`))
    const body = Buffer.concat([cipher.update(payload, 'utf8'), cipher.final(), cipher.getAuthTag()])
    return `t1.${kid}.${iv.toString('base64url')}.${body.toString('base64url')}`
  },
  open(secret: string, value: string): string {
    const [version, kid, iv, body] = value.split('.') as [string, string, string, string]
    const bytes = Buffer.from(body, 'base64url')
    const decipher = createDecipheriv('aes-256-gcm', t1.key(secret), Buffer.from(iv, 'base64url'), { authTagLength: 16 })
    decipher.setAAD(Buffer.from(`${version}.${kid}`))
    decipher.setAuthTag(bytes.subarray(-16))
    return Buffer.concat([decipher.update(bytes.subarray(0, -16)), decipher.final()]).toString('utf8')
  },
}

describe('t1 seals', () => {
  for (const [name, on] of backends) {
    it(`${name}: AES-256-GCM under HKDF-SHA-256(secret, "tessera/seal/v1", "tessera/seal/v1 aes-256-gcm"), as node:crypto opens them`, async () => {
      const sealer = new Sealer([A], on)
      for (const payload of PAYLOADS) {
        const sealed = await sealer.seal(payload)
        expect(sealed).toMatch(/^t1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/)
        expect(sealed.split('.')[1]).toBe(t1.kid(A))
        // A lone surrogate is written as U+FFFD, as TextEncoder does.
        expect(t1.open(A, sealed)).toBe(Buffer.from(payload, 'utf8').toString('utf8'))
      }
    })

    it(`${name}: values written by node:crypto to the formula open, under the current or an older secret`, async () => {
      for (const payload of PAYLOADS) {
        const iv = Buffer.alloc(12, 7)
        expect(await new Sealer([A], on).open(t1.seal(A, iv, payload))).toEqual({ payload, current: true })
        expect(await new Sealer([B, A], on).open(t1.seal(A, iv, payload))).toEqual({ payload, current: false })
        expect(await new Sealer([B], on).open(t1.seal(A, iv, payload))).toBeUndefined()
      }
    })

    it(`${name}: never reuses an IV`, async () => {
      const sealer = new Sealer([A], on)
      const ivs = new Set<string>()
      for (let i = 0; i < 600; i++) ivs.add((await sealer.seal('same')).split('.')[2]!)
      expect(ivs.size).toBe(600)
    })
  }

  for (const [sealName, sealWith] of backends) {
    for (const [openName, openWith] of backends) {
      it(`sealed on ${sealName}, opened on ${openName}`, async () => {
        const sealed = await new Sealer([A], sealWith).seal('{"n":1}')
        expect(await new Sealer([B, A], openWith).open(sealed)).toEqual({ payload: '{"n":1}', current: false })
      })
    }
  }

  it('node:crypto answers open() synchronously; Web Crypto with a promise unless it remembers the value', async () => {
    const sealed = await new Sealer([A]).seal('sync')
    expect(new Sealer([A]).open(sealed)).toEqual({ payload: 'sync', current: true })
    expect(new Sealer([A]).open('garbage')).toBeUndefined()
    const web = new Sealer([A], webBackend)
    await web.seal('warm')
    const first = web.open(sealed)
    expect(first).toBeInstanceOf(Promise)
    expect(await first).toEqual({ payload: 'sync', current: true })
    expect(web.open(sealed)).toEqual({ payload: 'sync', current: true })
  })
})

describe('Sealer: remembered values', () => {
  function counting(on: Backend): Backend & { decrypts: number } {
    const counted = { ...on, decrypts: 0 }
    counted.decrypt = (...args) => {
      counted.decrypts++
      return on.decrypt(...args)
    }
    return counted
  }

  for (const [name, on] of backends) {
    it(`${name}: a value it sealed or opened opens again synchronously without decrypting, to the same answer`, async () => {
      const b = counting(on)
      const sealer = new Sealer([A, B], b)
      const own = await sealer.seal('{"n":1}')
      for (let i = 0; i < 3; i++) expect(sealer.open(own)).toEqual({ payload: '{"n":1}', current: true })
      expect(b.decrypts).toBe(0)

      const foreign = await new Sealer([B], on).seal('from another process')
      expect(await sealer.open(foreign)).toEqual({ payload: 'from another process', current: false })
      for (let i = 0; i < 3; i++) expect(sealer.open(foreign)).toEqual({ payload: 'from another process', current: false })
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
    const b = counting(backend)
    const sealer = new Sealer([A], b)
    const first = await sealer.seal('first')
    for (let i = 0; i < 1100; i++) await sealer.seal(`filler ${i}`)
    expect(await sealer.unseal(first)).toBe('first')
    expect(b.decrypts).toBe(1)
    expect(await sealer.unseal(first)).toBe('first')
    expect(b.decrypts).toBe(1)
  })

  it('does not remember values longer than 8192 characters', async () => {
    const b = counting(backend)
    const sealer = new Sealer([A], b)
    const long = await sealer.seal('L'.repeat(7000))
    expect(long.length).toBeGreaterThan(8192)
    expect(await sealer.unseal(long)).toBe('L'.repeat(7000))
    expect(await sealer.unseal(long)).toBe('L'.repeat(7000))
    expect(b.decrypts).toBe(2)
  })
})

describe('signed ids', () => {
  const ids = ['abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG', 'short-id-0123456789abcdef']

  for (const [name, on] of backends) {
    it(`${name}: <id>.<base64url HMAC-SHA-256(secret, id)>, as node:crypto computes it`, async () => {
      for (const id of ids) {
        const signed = await new Signer([A, B], on).sign(id)
        expect(signed).toBe(`${id}.${createHmac('sha256', A).update(id).digest('base64url')}`)
      }
    })

    it(`${name}: verify under any listed secret, in Tessera’s and express-session’s spelling, and nothing else`, async () => {
      for (const id of ids) {
        const mac = createHmac('sha256', A).update(id).digest()
        // Fresh signers: no verified-value cache in between.
        expect(await new Signer([B, A], on).unsign(`${id}.${mac.toString('base64url')}`)).toBe(id)
        expect(await new Signer([B], on).unsign(`${id}.${mac.toString('base64url')}`)).toBeUndefined()
        expect(await new Signer([A], on).unsign(`s:${id}.${mac.toString('base64').replace(/=+$/, '')}`)).toBe(id)
        const forged = `${id}.${Buffer.from(mac.map((b, i) => (i === 31 ? b ^ 1 : b))).toString('base64url')}`
        expect(await new Signer([A], on).unsign(forged)).toBeUndefined()
        expect(await new Signer([A], on).unsign(`${id}.${mac.subarray(1).toString('base64url')}`)).toBeUndefined()
      }
    })
  }

  it('sha256 (hashIds) matches node:crypto on both backends, lone surrogates included', async () => {
    for (const text of ['', 'id', 'ünïcødé 🍪', 'lone \udc00 surrogate']) {
      const expected = createHash('sha256').update(text, 'utf8').digest('base64url')
      expect(await sha256(text)).toBe(expected)
      expect(Buffer.from(await webBackend.sha256(new TextEncoder().encode(text))).toString('base64url')).toBe(expected)
    }
  })
})

describe('HMAC helpers (signed ids, CSRF tokens)', () => {
  for (const [name, on] of backends) {
    it(`${name}: hmacSign is HMAC-SHA-256 of the UTF-8 text or the bytes; hmacVerify names the secret that verifies`, async () => {
      const message = 'tessera-csrf.v1\nsession\nrandom ü'
      const mac = new Uint8Array(await hmacSign(A, message, on))
      expect(Buffer.from(mac).toString('hex')).toBe(createHmac('sha256', A).update(message, 'utf8').digest('hex'))
      expect(Buffer.from(await hmacSign(A, new TextEncoder().encode(message), on)).equals(Buffer.from(mac))).toBe(true)
      expect(await hmacVerify([A], message, mac, on)).toBe(0)
      expect(await hmacVerify([B, A], message, mac, on)).toBe(1)
      expect(await hmacVerify([B], message, mac, on)).toBe(-1)
      expect(await hmacVerify([A], `${message}.`, mac, on)).toBe(-1)
      expect(await hmacVerify([A], message, mac.subarray(0, 31), on)).toBe(-1)
    })
  }
})

describe('the key cache', () => {
  it('imports a secret’s HMAC key once for every signer and every CSRF helper', async () => {
    const secret = `import-once-${'s'.repeat(40)}`
    const imports = vi.spyOn(crypto.subtle, 'importKey')
    const signed = await new Signer([secret], webBackend).sign('abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG')
    expect(await new Signer([secret], webBackend).unsign(signed)).toBe('abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG')
    await hmacVerify([secret], 'x', new Uint8Array(await hmacSign(secret, 'x', webBackend)), webBackend)
    expect(imports).toHaveBeenCalledTimes(1)
    expect(hmacKey(secret, webBackend)).toBe(hmacKey(secret, webBackend))
    expect(hmacKey(secret)).toBe(hmacKey(secret))
  })

  it('derives a secret’s seal key once for every Sealer', async () => {
    const secret = `derive-once-${'s'.repeat(40)}`
    const imports = vi.spyOn(crypto.subtle, 'importKey')
    const sealed = await new Sealer([secret], webBackend).seal('x')
    expect(await new Sealer([secret], webBackend).unseal(sealed)).toBe('x')
    expect(await new Sealer([A, secret], webBackend).unseal(sealed)).toBe('x')
    expect(imports.mock.calls.filter(([, bytes]) => Buffer.from(bytes as Uint8Array).toString() === secret)).toHaveLength(1)
  })

  it('keeps keys apart by purpose', async () => {
    const a = await cachedKey('purpose one', 'same secret', async () => 'one')
    const b = await cachedKey('purpose two', 'same secret', async () => 'two')
    expect([a, b]).toEqual(['one', 'two'])
  })

  it('stays bounded when flooded with junk, keeping a key in steady use', async () => {
    const derived: string[] = []
    const derive = (secret: string) => async () => {
      derived.push(secret)
      return secret
    }
    await cachedKey('flood', 'in use', derive('in use'))
    for (let i = 0; i < 5000; i++) {
      await cachedKey('flood', `junk ${i}`, derive(`junk ${i}`))
      if (i % 100 === 0) await cachedKey('flood', 'in use', derive('in use'))
    }
    expect(derived.filter((s) => s === 'in use')).toHaveLength(1)
    // Junk seen long ago was dropped: asking again derives again.
    await cachedKey('flood', 'junk 0', derive('junk 0'))
    expect(derived.filter((s) => s === 'junk 0')).toHaveLength(2)
  })

  it('does not keep a derivation that failed', async () => {
    let attempts = 0
    const derive = async () => {
      attempts++
      if (attempts === 1) throw new Error('no Web Crypto')
      return 'key'
    }
    await expect(cachedKey('failing', 'secret', derive)).rejects.toThrow('no Web Crypto')
    expect(() => cachedKey('throwing', 'secret', () => { throw new Error('no node:crypto') })).toThrow('no node:crypto')
    expect(cachedKey('throwing', 'secret', () => 'key')).toBe('key')
    expect(await cachedKey('failing', 'secret', derive)).toBe('key')
    expect(await cachedKey('failing', 'secret', derive)).toBe('key')
    expect(attempts).toBe(2)
  })
})

describe('base64url', () => {
  it('encodes as Node does, on both backends', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const expected = Buffer.from(bytes).toString('base64url')
        return base64urlEncode(bytes) === expected && backends.every(([, on]) => on.encode(bytes) === expected)
      }),
      { numRuns: 2000 },
    )
  })

  it('decodes exactly the canonical spellings, on both backends', () => {
    const text = fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9_-]{0,40}$/),
      fc.string({ maxLength: 40 }),
      fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('base64url')),
    )
    fc.assert(
      fc.property(text, (t) => {
        const canonical = /^[A-Za-z0-9_-]*$/.test(t) && t.length % 4 !== 1 && Buffer.from(t, 'base64url').toString('base64url') === t
        expect(isCanonicalBase64url(t)).toBe(canonical)
        for (const decoded of [base64urlDecode(t), ...backends.map(([, on]) => on.decode(t))]) {
          if (!canonical) expect(decoded).toBeUndefined()
          else expect(Buffer.from(decoded!).equals(Buffer.from(t, 'base64url'))).toBe(true)
        }
      }),
      { numRuns: 5000 },
    )
    for (const bad of ['A', 'AB', 'AAB', 'AA==', 'A+/A', 'AA.A', undefined as unknown as string]) {
      expect(base64urlDecode(bad)).toBeUndefined()
      for (const [, on] of backends) expect(on.decode(bad)).toBeUndefined()
    }
  })
})

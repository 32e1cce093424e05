// The crypto backend on `node:crypto`: synchronous AES-256-GCM, HMAC, SHA-256 and native
// base64url, with no thread pool and no promise per request. decisions/crypto.md has the figures
// that keep it (17–38 µs of CPU saved per seal, signature or hash on Node 20). The Node build of
// the `tessera` entry installs it (core/crypto.ts `useBackend`); Edge bundles never see it.
// `node:crypto` is reached through process.getBuiltinModule, so no bundler follows an import.
import { isCanonicalBase64url } from '../core/encoding.js'
import { TAG_BYTES, type Backend } from '../core/crypto.js'

/** The part of `node:crypto` the node backend uses. */
interface NodeCrypto {
  createCipheriv(algorithm: 'aes-256-gcm', key: Uint8Array, iv: Uint8Array, options: { authTagLength: number }): NodeCipher
  createDecipheriv(algorithm: 'aes-256-gcm', key: Uint8Array, iv: Uint8Array, options: { authTagLength: number }): NodeDecipher
  hkdfSync(digest: 'sha256', key: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): ArrayBuffer
  createHash(algorithm: 'sha256'): { update(data: Uint8Array): { digest(): Uint8Array } }
  createHmac(algorithm: 'sha256', key: Uint8Array): { update(data: Uint8Array): { digest(): Uint8Array } }
  timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean
}
interface NodeCipher {
  setAAD(aad: Uint8Array): unknown
  update(text: string, encoding: 'utf8'): Uint8Array
  final(): Uint8Array
  getAuthTag(): Uint8Array
}
interface NodeDecipher {
  setAAD(aad: Uint8Array): unknown
  setAuthTag(tag: Uint8Array): unknown
  update(data: Uint8Array): Uint8Array
  final(): Uint8Array
}

/** The part of `node:buffer`'s Buffer the node backend uses. */
interface NodeBuffer {
  concat(list: Uint8Array[]): Uint8Array
  from(buffer: ArrayBufferLike, byteOffset: number, length: number): { toString(encoding: 'base64url'): string }
  from(text: string, encoding: 'base64url'): Uint8Array
}

/** Synchronous primitives on `node:crypto`: no thread pool, no promise per request. */
function nodeBackendOf(node: NodeCrypto, Buffer: NodeBuffer): Backend {
  const concat = (parts: Uint8Array[]): Uint8Array => Buffer.concat(parts)
  return {
    name: 'node',
    aesGcmKey: (secret, salt, info) => new Uint8Array(node.hkdfSync('sha256', secret, salt, info, 32)),
    encrypt(key, iv, aad, plaintext) {
      const cipher = node.createCipheriv('aes-256-gcm', key as Uint8Array, iv, { authTagLength: TAG_BYTES })
      cipher.setAAD(aad)
      const body = cipher.update(plaintext, 'utf8')
      const rest = cipher.final()
      return concat(rest.length === 0 ? [body, cipher.getAuthTag()] : [body, rest, cipher.getAuthTag()])
    },
    decrypt(key, iv, aad, sealed) {
      const decipher = node.createDecipheriv('aes-256-gcm', key as Uint8Array, iv, { authTagLength: TAG_BYTES })
      decipher.setAAD(aad)
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES))
      const body = decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES))
      // Throws when the tag does not verify; nothing of `body` is used before that.
      const rest = decipher.final()
      return rest.length === 0 ? body : concat([body, rest])
    },
    hmacKey: (secret) => secret,
    hmac: (key, data) => node.createHmac('sha256', key as Uint8Array).update(data).digest(),
    verify(key, data, mac) {
      const expected = node.createHmac('sha256', key as Uint8Array).update(data).digest()
      return expected.length === mac.length && node.timingSafeEqual(expected, mac)
    },
    sha256: (data) => node.createHash('sha256').update(data).digest(),
    encode: (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url'),
    decode(text) {
      if (!isCanonicalBase64url(text)) return undefined
      const bytes = Buffer.from(text, 'base64url')
      return new Uint8Array(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength)
    },
  }
}

const NODE_FUNCTIONS = ['createCipheriv', 'createDecipheriv', 'hkdfSync', 'createHash', 'createHmac', 'timingSafeEqual'] as const

/**
 * The node backend where `node:crypto` is reachable without an import (`process.getBuiltinModule`:
 * Node ≥ 20.16 and ≥ 22.3, Bun, Deno); undefined elsewhere.
 * @internal exported for tests
 */
export const nodeBackend: Backend | undefined = (() => {
  try {
    const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule
    if (typeof get !== 'function') return undefined
    const node = get('node:crypto') as Record<string, unknown> | undefined
    const Buffer = (get('node:buffer') as { Buffer?: NodeBuffer } | undefined)?.Buffer
    if (!node || NODE_FUNCTIONS.some((name) => typeof node[name] !== 'function') || typeof Buffer?.from !== 'function') return undefined
    const backend = nodeBackendOf(node as unknown as NodeCrypto, Buffer)
    // Trusted only if its base64url is Node's (a polyfilled Buffer might differ).
    const bytes = new Uint8Array([251, 255, 191, 0, 16])
    if (backend.encode(bytes) !== '-_-_ABA' || backend.decode('-_-_ABA')?.join() !== bytes.join()) return undefined
    return backend
  } catch {
    return undefined
  }
})()


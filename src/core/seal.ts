import { base64urlDecode, base64urlEncode, isCanonicalBase64url, utf8 } from './encoding.js'

/** Format tag of the sealed-cookie format: `t1.<kid>.<iv>.<ciphertext>`. */
const VERSION = 't1'
const KDF_SALT = utf8.encode('tessera/seal/v1')
const KDF_INFO = utf8.encode('tessera/seal/v1 aes-256-gcm')
const KID_PREFIX = 'tessera/seal/v1 kid\0'
const KID_LENGTH = 8
const KEY_BYTES = 32
const IV_BYTES = 12
const TAG_BYTES = 16
/** IVs drawn from the system's CSPRNG at once, then handed out one by one (never twice). */
const IV_POOL = 128
/**
 * Values opened or sealed recently are remembered, so a returning visitor costs a Map lookup
 * instead of a decryption. Two generations: when the newer one holds CACHE_ENTRIES values or
 * CACHE_CHARS characters, it becomes the older one and the older one is dropped.
 */
const CACHE_ENTRIES = 512
const CACHE_CHARS = 1 << 20
/**
 * Remembered values are found by their last characters (the end of the GCM tag: random to whoever
 * lacks the key), then compared whole; hashing a short key is cheaper than hashing the value.
 */
const CACHE_KEY_CHARS = 16
/** Longer values are not remembered. */
const CACHE_VALUE_MAX = 8192
/** Longest value `unseal` looks at; cookies are at most ~4 KiB, so this is generous. */
export const MAX_SEALED_LENGTH = 64 * 1024

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true })

type Bytes = Uint8Array<ArrayBuffer>

/**
 * The AES-256-GCM primitives a Sealer runs on. Both produce and open the same values: the key is
 * HKDF-SHA-256(secret, KDF_SALT, KDF_INFO) and the ciphertext is AES-GCM's ciphertext followed by
 * its 16-byte tag, with `t1.<kid>` as associated data.
 * @internal exported for tests
 */
export interface SealBackend {
  readonly name: 'node' | 'web'
  /** The AES key of a secret (derived once per secret). */
  deriveKey(secret: Bytes): unknown
  /** base64url of ciphertext ‖ tag. */
  encrypt(key: unknown, iv: Bytes, aad: Bytes, plaintext: string): string | Promise<string>
  /** The plaintext bytes; throws (or rejects) when the tag does not verify. */
  decrypt(key: unknown, iv: Bytes, aad: Bytes, sealed: Bytes): Uint8Array | Promise<Uint8Array>
  /** SHA-256 of the bytes. */
  sha256(bytes: Bytes): Uint8Array | Promise<Uint8Array>
  /** Fills `bytes` from a CSPRNG. */
  random(bytes: Bytes): void
  /** Unpadded base64url. */
  encode(bytes: Uint8Array): string
  /** Canonical unpadded base64url only (see isCanonicalBase64url); undefined for anything else. */
  decode(text: string): Bytes | undefined
  /**
   * A copy of an ASCII string that holds no reference to a larger one (a cookie value sliced
   * from its header), so remembering it keeps only its own characters.
   */
  own(text: string): string
}

/**
 * A Node built-in module, reached at run time (`process.getBuiltinModule`: Node ≥ 20.16 and
 * ≥ 22.3, Bun, Deno) so that no bundler sees an import of it: the core still bundles for Edge
 * runtimes. Undefined where there is none (Edge, workers, browsers, older Node).
 */
function nodeBuiltin<T>(id: string): T | undefined {
  try {
    const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule
    return typeof get === 'function' ? ((get(id) ?? undefined) as T | undefined) : undefined
  } catch {
    return undefined
  }
}

/** The part of `node:crypto` used by Tessera's core. */
export interface NodeCrypto {
  createCipheriv(algorithm: 'aes-256-gcm', key: Uint8Array, iv: Uint8Array, options?: { authTagLength: number }): NodeCipher
  createDecipheriv(algorithm: 'aes-256-gcm', key: Uint8Array, iv: Uint8Array, options?: { authTagLength: number }): NodeDecipher
  hkdfSync(digest: 'sha256', key: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): ArrayBuffer
  createHash(algorithm: 'sha256'): { update(data: Uint8Array | string, encoding?: 'utf8'): { digest(): Uint8Array } }
  createHmac(algorithm: 'sha256', key: Uint8Array): { update(data: string, encoding: 'utf8'): { digest(): Uint8Array } }
  timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean
  randomFillSync<T extends Uint8Array>(bytes: T): T
}
interface NodeCipher {
  setAAD(aad: Uint8Array): unknown
  update(text: string, encoding: 'utf8'): Uint8Array & { toString(encoding: 'base64url'): string }
  final(): Uint8Array
  getAuthTag(): Uint8Array
}
interface NodeDecipher {
  setAAD(aad: Uint8Array): unknown
  setAuthTag(tag: Uint8Array): unknown
  update(data: Uint8Array): Uint8Array
  final(): Uint8Array
}
interface NodeBufferClass {
  concat(list: Uint8Array[], totalLength?: number): { toString(encoding: 'base64url'): string }
  from(buffer: ArrayBufferLike, byteOffset: number, length: number): { toString(encoding: 'base64url'): string }
  from(text: string, encoding: 'base64url' | 'latin1'): Uint8Array & { toString(encoding: 'latin1'): string }
}

const REQUIRED = ['createCipheriv', 'createDecipheriv', 'hkdfSync', 'createHash', 'createHmac', 'timingSafeEqual', 'randomFillSync'] as const

/**
 * `node:crypto` where the runtime has it (Node ≥ 20.16 / 22.3, Bun, Deno), reached without an
 * import so the core still bundles for Edge runtimes; undefined elsewhere.
 * @internal
 */
export const nodeCrypto: NodeCrypto | undefined = (() => {
  const crypto = nodeBuiltin<Record<string, unknown>>('node:crypto')
  if (!crypto || REQUIRED.some((name) => typeof crypto[name] !== 'function')) return undefined
  return crypto as unknown as NodeCrypto
})()

/** Synchronous AES-GCM through `node:crypto`: no thread pool, no promise per request. */
function nodeBackend(crypto: NodeCrypto, Buffer: NodeBufferClass): SealBackend {
  return {
    name: 'node',
    deriveKey: (secret) => new Uint8Array(crypto.hkdfSync('sha256', secret, KDF_SALT, KDF_INFO, KEY_BYTES)),
    encrypt(key, iv, aad, plaintext) {
      const cipher = crypto.createCipheriv('aes-256-gcm', key as Uint8Array, iv, { authTagLength: TAG_BYTES })
      cipher.setAAD(aad)
      const body = cipher.update(plaintext, 'utf8')
      const rest = cipher.final()
      return Buffer.concat(rest.length === 0 ? [body, cipher.getAuthTag()] : [body, rest, cipher.getAuthTag()]).toString('base64url')
    },
    decrypt(key, iv, aad, sealed) {
      const decipher = crypto.createDecipheriv('aes-256-gcm', key as Uint8Array, iv, { authTagLength: TAG_BYTES })
      decipher.setAAD(aad)
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES))
      const body = decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES))
      // Throws when the tag does not verify; nothing of `body` is used before that.
      const rest = decipher.final()
      return rest.length === 0 ? body : concatBytes(body, rest)
    },
    sha256: (bytes) => crypto.createHash('sha256').update(bytes).digest(),
    random: (bytes) => void crypto.randomFillSync(bytes),
    encode: (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url'),
    decode(text) {
      if (!isCanonicalBase64url(text)) return undefined
      const bytes = Buffer.from(text, 'base64url')
      return new Uint8Array(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength)
    },
    own: (text) => Buffer.from(text, 'latin1').toString('latin1'),
  }
}

/** Web Crypto (`crypto.subtle`): Edge runtimes, workers, browsers, older Node. */
export const webBackend: SealBackend = {
  name: 'web',
  deriveKey(secret) {
    const key = (async () => {
      const base = await crypto.subtle.importKey('raw', secret, 'HKDF', false, ['deriveKey'])
      return crypto.subtle.deriveKey(
        { name: 'HKDF', hash: 'SHA-256', salt: KDF_SALT, info: KDF_INFO },
        base,
        { name: 'AES-GCM', length: 256 },
        false,
        ['encrypt', 'decrypt'],
      )
    })()
    // A failing derivation (no Web Crypto) is reported where the key is awaited, not as an
    // unhandled rejection before first use.
    key.catch(() => undefined)
    return key
  },
  async encrypt(key, iv, aad, plaintext) {
    const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad }, await (key as Promise<CryptoKey>), utf8.encode(plaintext))
    return base64urlEncode(new Uint8Array(sealed))
  },
  async decrypt(key, iv, aad, sealed) {
    return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData: aad }, await (key as Promise<CryptoKey>), sealed))
  },
  sha256: async (bytes) => new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)),
  random: (bytes) => void crypto.getRandomValues(bytes),
  encode: base64urlEncode,
  decode: base64urlDecode,
  // No cheap portable copy; at worst a remembered value keeps its request's Cookie header alive.
  own: (text) => text,
}

/** @internal the node backend where `node:crypto` is reachable, else undefined. */
export const nodeSealBackend: SealBackend | undefined = (() => {
  const Buffer = nodeBuiltin<{ Buffer?: NodeBufferClass }>('node:buffer')?.Buffer
  if (!nodeCrypto || typeof Buffer?.concat !== 'function' || typeof Buffer.from !== 'function') return undefined
  const backend = nodeBackend(nodeCrypto, Buffer)
  // Trusted only if its base64url is Node's (a polyfilled Buffer might differ).
  try {
    const bytes = new Uint8Array([251, 255, 191, 0, 16])
    if (backend.encode(bytes) !== '-_-_ABA' || backend.decode('-_-_ABA')?.join() !== bytes.join()) return undefined
  } catch {
    return undefined
  }
  return backend
})()

const wellFormed = (String.prototype as { isWellFormed?: () => boolean }).isWellFormed
/** String.prototype.isWellFormed where it exists (ES2024); false elsewhere, which only costs a cache entry. */
function isWellFormed(text: string): boolean {
  return wellFormed !== undefined && wellFormed.call(text)
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

interface SealKey {
  readonly kid: string
  /** `t1.<kid>` as bytes: the associated data. */
  readonly aad: Bytes
  readonly key: unknown
}

interface Remembered {
  readonly value: string
  readonly opened: Opened
}

/** What {@link Sealer.open} found in a sealed value. */
export interface Opened {
  readonly payload: string
  /** Sealed under the first secret (the one that seals now). */
  readonly current: boolean
}

/**
 * Seals and opens strings with AES-256-GCM under Tessera's own format
 * `t1.<kid>.<iv>.<ciphertext+tag>` (each part base64url, unpadded). The first secret seals, every
 * secret opens (rotation). One AES key is derived per secret (HKDF-SHA-256) when the Sealer is
 * built and kept; nothing is derived per request. Runs synchronously on `node:crypto` where the
 * runtime has it, on Web Crypto elsewhere; the two write and open the same values.
 */
export class Sealer {
  readonly #backend: SealBackend
  /** The keys once known; until then (Web Crypto computes kids asynchronously) `#pending`. */
  #keys: { current: SealKey; byKid: Map<string, SealKey> } | undefined
  readonly #pending: Promise<void> | undefined
  #ivs: Bytes = new Uint8Array(0)
  #ivAt = 0
  /** Values this Sealer sealed or opened, and what they open to (see CACHE_ENTRIES). */
  #recent = new Map<string, Remembered>()
  #older = new Map<string, Remembered>()
  #recentChars = 0

  /**
   * @param secrets already validated (≥ 32 characters each); the first one seals.
   * @param backend internal: the crypto to run on (tests); by default `node:crypto` if reachable.
   */
  constructor(secrets: readonly string[], backend: SealBackend = nodeSealBackend ?? webBackend) {
    if (secrets.length === 0) throw new TypeError('Sealer needs at least one secret')
    this.#backend = backend
    const derived = secrets.map((secret) => {
      const bytes = utf8.encode(secret)
      return { kid: backend.sha256(utf8.encode(KID_PREFIX + secret)), key: backend.deriveKey(bytes) }
    })
    const build = (kids: Uint8Array[]): void => {
      const byKid = new Map<string, SealKey>()
      const keys = derived.map(({ key }, i) => {
        const kid = base64urlEncode(kids[i]!).slice(0, KID_LENGTH)
        return { kid, aad: utf8.encode(`${VERSION}.${kid}`), key }
      })
      // Identical secrets share a kid; the first one wins, they hold the same key anyway.
      for (const key of keys) if (!byKid.has(key.kid)) byKid.set(key.kid, key)
      this.#keys = { current: keys[0]!, byKid }
    }
    if (derived.every(({ kid }) => kid instanceof Uint8Array)) {
      build(derived.map(({ kid }) => kid as Uint8Array))
    } else {
      this.#pending = Promise.all(derived.map(({ kid }) => kid)).then(build)
      // seal() still rejects with the error and unseal() answers undefined.
      this.#pending.catch(() => undefined)
    }
  }

  /** Which backend this Sealer runs on. @internal */
  get backend(): 'node' | 'web' {
    return this.#backend.name
  }

  /** Encrypts `payload` (as UTF-8) under the first secret with a fresh random IV. */
  async seal(payload: string): Promise<string> {
    if (!this.#keys) await this.#pending
    const { kid, aad, key } = this.#keys!.current
    const iv = this.#nextIv()
    const sealed = this.#backend.encrypt(key, iv, aad, payload)
    const value = `${VERSION}.${kid}.${this.#backend.encode(iv)}.${typeof sealed === 'string' ? sealed : await sealed}`
    // It opens to `payload` exactly when that is well-formed UTF-16 (a lone surrogate comes back
    // as U+FFFD); anything else is simply not remembered.
    if (isWellFormed(payload)) this.#remember(value, { payload, current: true })
    return value
  }

  /**
   * The payload inside a sealed value, or undefined when the value is malformed, truncated,
   * tampered with, of another version, sealed under a secret this Sealer does not hold, or longer
   * than {@link MAX_SEALED_LENGTH}. Never throws, never rejects.
   */
  async unseal(value: string): Promise<string | undefined> {
    return (await this.open(value))?.payload
  }

  /**
   * Like {@link unseal}, and tells whether the value was sealed under the current secret. Answers
   * synchronously when it can (node:crypto, keys ready); never throws, never rejects.
   */
  open(value: string): Opened | undefined | Promise<Opened | undefined> {
    try {
      if (typeof value !== 'string' || value.length > MAX_SEALED_LENGTH) return undefined
      if (!this.#keys) return this.#pending!.then(() => this.open(value), () => undefined)
      // Only values that opened (or were sealed) under this Sealer's keys are remembered: the
      // answer cannot differ.
      const cacheKey = value.slice(-CACHE_KEY_CHARS)
      const known = this.#recent.get(cacheKey)
      if (known !== undefined && known.value === value) return known.opened
      const older = this.#older.get(cacheKey)
      if (older !== undefined && older.value === value) {
        this.#remember(older.value, older.opened)
        return older.opened
      }
      // t1.<kid 8>.<iv 16>.<ct>
      if (value.charCodeAt(2) !== 46 || !value.startsWith(VERSION)) return undefined
      const kidEnd = 3 + KID_LENGTH
      const ivEnd = kidEnd + 1 + 16
      if (value.charCodeAt(kidEnd) !== 46 || value.charCodeAt(ivEnd) !== 46) return undefined
      const keys = this.#keys
      const key = keys.byKid.get(value.slice(3, kidEnd))
      if (!key) return undefined
      const ciphertextText = value.slice(ivEnd + 1)
      const backend = this.#backend
      const iv = backend.decode(value.slice(kidEnd + 1, ivEnd))
      if (!iv || iv.length !== IV_BYTES) return undefined
      // The decoder refuses '.', so a fifth part fails here.
      const sealed = backend.decode(ciphertextText)
      if (!sealed || sealed.length < TAG_BYTES) return undefined
      const current = key === keys.current
      const plaintext = backend.decrypt(key.key, iv, key.aad, sealed)
      const opened = (bytes: Uint8Array): Opened => {
        const result = { payload: fatalUtf8.decode(bytes), current }
        if (value.length <= CACHE_VALUE_MAX) this.#remember(backend.own(value), result)
        return result
      }
      if (plaintext instanceof Uint8Array) return opened(plaintext)
      return plaintext.then(opened).catch(() => undefined)
    } catch {
      return undefined
    }
  }

  #remember(value: string, opened: Opened): void {
    const chars = value.length + opened.payload.length
    if (value.length > CACHE_VALUE_MAX) return
    if (this.#recent.size >= CACHE_ENTRIES || this.#recentChars + chars > CACHE_CHARS) {
      this.#older = this.#recent
      this.#recent = new Map()
      this.#recentChars = 0
    }
    this.#recent.set(value.slice(-CACHE_KEY_CHARS), { value, opened })
    this.#recentChars += chars
  }

  /** A fresh 12-byte IV: CSPRNG output drawn IV_POOL at a time, each handed out once. */
  #nextIv(): Bytes {
    if (this.#ivAt === this.#ivs.length) {
      this.#ivs = new Uint8Array(IV_BYTES * IV_POOL)
      this.#backend.random(this.#ivs)
      this.#ivAt = 0
    }
    const iv = this.#ivs.subarray(this.#ivAt, this.#ivAt + IV_BYTES)
    this.#ivAt += IV_BYTES
    return iv
  }
}

// The sealed-cookie format `t1.<kid>.<iv>.<ciphertext+tag>` (each part unpadded base64url):
//   key         HKDF-SHA-256(secret, salt "tessera/seal/v1", info "tessera/seal/v1 aes-256-gcm"), 32 bytes
//   kid         the first 8 characters of base64url(SHA-256("tessera/seal/v1 kid\0" + secret))
//   iv          12 random bytes
//   ciphertext  AES-256-GCM of the UTF-8 payload with its 16-byte tag, `t1.<kid>` as associated data
// `t2.<kid>.<iv>.<ciphertext+tag>` (review 4) is the same with `t2.<kid>.<cookie name>` as
// associated data: the seal opens only under the cookie name it was made for. A Sealer given a
// name seals t2 and still opens t1 (reported as unbound, to be re-sealed); one without seals t1.
// Every cookie ever written must keep opening: nothing here may change without a new version tag.
import { backend as defaultBackend, cachedKey, randomBytes, sha256Bytes, type Backend, type Bytes } from './crypto.js'
import { base64urlEncode, utf8 } from './encoding.js'

const VERSION = 't1'
const BOUND_VERSION = 't2'
const KDF_SALT = utf8.encode('tessera/seal/v1')
const KDF_INFO = utf8.encode('tessera/seal/v1 aes-256-gcm')
const KID_PREFIX = 'tessera/seal/v1 kid\0'
const KID_LENGTH = 8
const IV_BYTES = 12
/** base64url characters of a 12-byte IV. */
const IV_CHARS = 16
const TAG_BYTES = 16
/**
 * IVs drawn from the CSPRNG IV_POOL at a time, then handed out one by one (never twice): one
 * getRandomValues call per seal costs about 2 µs, 2 % of a cookie-store commit (bench/crypto.mjs).
 */
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

interface SealKey {
  readonly kid: string
  /** `t1.<kid>` as bytes: the associated data. */
  readonly aad: Bytes
  /** The backend's key handle. */
  readonly key: unknown
}

interface SealKeys {
  readonly current: SealKey
  readonly byKid: ReadonlyMap<string, SealKey>
}

/**
 * The AES key and key id of a secret on `on`, from the shared key cache: synchronous on
 * node:crypto, a promise on Web Crypto.
 */
function sealKey(secret: string, on: Backend): SealKey | Promise<SealKey> {
  return cachedKey(`${on.name} seal t1`, secret, () => {
    const key = on.aesGcmKey(utf8.encode(secret), KDF_SALT, KDF_INFO)
    const withKid = (digest: Uint8Array): SealKey => {
      const kid = base64urlEncode(digest).slice(0, KID_LENGTH)
      return { kid, aad: utf8.encode(`${VERSION}.${kid}`), key }
    }
    const digest = sha256Bytes(KID_PREFIX + secret, on)
    if (digest instanceof Uint8Array && !(key instanceof Promise)) return withKid(digest)
    // The key must derive before the Sealer counts as ready: a failure shows at the first seal.
    return Promise.all([digest, key]).then(([bytes]) => withKid(bytes))
  })
}

const wellFormed = (String.prototype as { isWellFormed?: () => boolean }).isWellFormed
/** String.prototype.isWellFormed where it exists (ES2024); false elsewhere, which only costs a cache entry. */
function isWellFormed(text: string): boolean {
  return wellFormed !== undefined && wellFormed.call(text)
}

/**
 * A copy of an ASCII string that holds no reference to a larger one (a cookie value sliced from
 * its request's Cookie header), so remembering it keeps only its own characters. Slicing a
 * concatenation makes the engine (V8, JSC) copy it flat first; elsewhere it is merely a string.
 */
function own(text: string): string {
  return (' ' + text).slice(1)
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
  /** A `t2.` seal, bound to this Sealer's cookie name; absent for a `t1.` one (written before review 4). */
  readonly bound?: true
}

/**
 * Seals and opens strings in the `t1` format (see the top of this file). The first secret seals,
 * every secret opens (rotation). Keys come from the shared key cache (derived once per secret);
 * nothing is derived per request. Synchronous primitives on node:crypto where the runtime has
 * it, Web Crypto elsewhere (crypto.ts); both write and open the same values.
 */
export class Sealer {
  readonly #backend: Backend
  /** The keys once derived; until then (Web Crypto derives asynchronously) `#ready`. */
  #keys: SealKeys | undefined
  readonly #ready: Promise<SealKeys> | undefined
  /** Values this Sealer sealed or opened, and what they open to (see CACHE_ENTRIES). */
  #recent = new Map<string, Remembered>()
  #older = new Map<string, Remembered>()
  #recentChars = 0
  #ivs: Bytes = new Uint8Array(0)
  #ivAt = 0
  /** The cookie name seals are bound to (t2), or undefined (t1). */
  readonly #name: string | undefined
  /** `t2.<kid>.<name>` per key: the associated data of bound seals. */
  readonly #boundAad = new Map<SealKey, Bytes>()

  /**
   * @param secrets already validated (≥ 32 characters each); the first one seals.
   * @param backend internal (tests): the primitives to run on; by default the crypto module's switch.
   * @param name the cookie name to bind seals to (`t2.`, review 4); without it, `t1.` seals.
   */
  constructor(secrets: readonly string[], backend: Backend = defaultBackend, name?: string) {
    if (secrets.length === 0) throw new TypeError('Sealer needs at least one secret')
    this.#backend = backend
    this.#name = name
    const build = (keys: SealKey[]): SealKeys => {
      const byKid = new Map<string, SealKey>()
      // Identical secrets share a kid; the first one wins, they hold the same key anyway.
      for (const key of keys) if (!byKid.has(key.kid)) byKid.set(key.kid, key)
      return (this.#keys = { current: keys[0]!, byKid })
    }
    const keys = secrets.map((secret) => sealKey(secret, backend))
    if (keys.every((key) => !(key instanceof Promise))) {
      build(keys as SealKey[])
    } else {
      this.#ready = Promise.all(keys).then(build)
      // A failed derivation (no Web Crypto) rejects seal() and makes open() answer undefined;
      // it is not an unhandled rejection before first use.
      this.#ready.catch(() => undefined)
    }
  }

  /** Which backend this Sealer runs on. @internal */
  get backend(): 'node' | 'web' {
    return this.#backend.name
  }

  /** Encrypts `payload` (as UTF-8) under the first secret with a fresh random IV. */
  async seal(payload: string): Promise<string> {
    const current = (this.#keys ?? (await this.#ready!)).current
    const { kid, key } = current
    const bound = this.#name !== undefined
    const aad = bound ? this.#aadOf(current) : current.aad
    const iv = this.#nextIv()
    const backend = this.#backend
    const sealed = backend.encrypt(key, iv, aad, payload)
    const value = `${bound ? BOUND_VERSION : VERSION}.${kid}.${backend.encode(iv)}.${backend.encode(sealed instanceof Uint8Array ? sealed : await sealed)}`
    // It opens to `payload` exactly when that is well-formed UTF-16 (a lone surrogate comes back
    // as U+FFFD); anything else is simply not remembered.
    if (isWellFormed(payload)) this.#remember(value, bound ? { payload, current: true, bound } : { payload, current: true })
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
   * Like {@link unseal}, and tells whether the value was sealed under the current secret.
   * Answers synchronously when it can (a value it remembers, or node:crypto with the keys
   * ready), with a promise otherwise; never throws, never rejects.
   */
  open(value: string): Opened | undefined | Promise<Opened | undefined> {
    try {
      if (typeof value !== 'string' || value.length > MAX_SEALED_LENGTH) return undefined
      const keys = this.#keys
      if (!keys) return this.#ready!.then(() => this.open(value), () => undefined)
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
      // t1.<kid 8>.<iv 16>.<ct>, or t2 (bound to the name) when this Sealer has one
      if (value.charCodeAt(2) !== 46) return undefined
      const bound = this.#name !== undefined && value.startsWith(BOUND_VERSION)
      if (!bound && !value.startsWith(VERSION)) return undefined
      const kidEnd = 3 + KID_LENGTH
      const ivEnd = kidEnd + 1 + IV_CHARS
      if (value.charCodeAt(kidEnd) !== 46 || value.charCodeAt(ivEnd) !== 46) return undefined
      const key = keys.byKid.get(value.slice(3, kidEnd))
      if (!key) return undefined
      const backend = this.#backend
      const iv = backend.decode(value.slice(kidEnd + 1, ivEnd))
      if (!iv || iv.length !== IV_BYTES) return undefined
      // The decoder refuses '.', so a fifth part fails here.
      const sealed = backend.decode(value.slice(ivEnd + 1))
      if (!sealed || sealed.length < TAG_BYTES) return undefined
      const current = key === keys.current
      const opened = (plaintext: Uint8Array): Opened => {
        const result: Opened = bound ? { payload: fatalUtf8.decode(plaintext), current, bound } : { payload: fatalUtf8.decode(plaintext), current }
        if (value.length <= CACHE_VALUE_MAX) this.#remember(own(value), result)
        return result
      }
      // Throws or rejects when the tag does not verify; nothing is decoded before that.
      const plaintext = backend.decrypt(key.key, iv, bound ? this.#aadOf(key) : key.aad, sealed)
      if (plaintext instanceof Uint8Array) return opened(plaintext)
      return plaintext.then(opened).catch(() => undefined)
    } catch {
      return undefined
    }
  }

  /** The associated data of a bound seal under `key`: `t2.<kid>.<name>`, made once per key. */
  #aadOf(key: SealKey): Bytes {
    let aad = this.#boundAad.get(key)
    if (aad === undefined) this.#boundAad.set(key, (aad = utf8.encode(`${BOUND_VERSION}.${key.kid}.${this.#name!}`)))
    return aad
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
      this.#ivs = randomBytes(IV_BYTES * IV_POOL)
      this.#ivAt = 0
    }
    const iv = this.#ivs.subarray(this.#ivAt, this.#ivAt + IV_BYTES)
    this.#ivAt += IV_BYTES
    return iv
  }
}

import { base64urlDecode, base64urlEncode, utf8 } from './encoding.js'

/** Format tag of the sealed-cookie format: `t1.<kid>.<iv>.<ciphertext>`. */
const VERSION = 't1'
const KDF_SALT = utf8.encode('tessera/seal/v1')
const KDF_INFO = utf8.encode('tessera/seal/v1 aes-256-gcm')
const KID_PREFIX = 'tessera/seal/v1 kid\0'
const KID_LENGTH = 8
const IV_BYTES = 12
const TAG_BYTES = 16
/** Longest value `unseal` looks at; cookies are at most ~4 KiB, so this is generous. */
export const MAX_SEALED_LENGTH = 64 * 1024

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true })

interface SealKey {
  readonly kid: string
  readonly key: Promise<CryptoKey>
}

/**
 * Seals and opens strings with AES-256-GCM under Tessera's own format
 * `t1.<kid>.<iv>.<ciphertext+tag>` (each part base64url, unpadded). The first secret seals, every
 * secret opens (rotation). One AES key is derived per secret (HKDF-SHA-256) when the Sealer is
 * built and kept; nothing is derived per request.
 */
export class Sealer {
  readonly #current: Promise<SealKey>
  readonly #byKid: Promise<Map<string, Promise<CryptoKey>>>

  /** @param secrets already validated (≥ 32 characters each); the first one seals. */
  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) throw new TypeError('Sealer needs at least one secret')
    const keys = secrets.map(deriveSealKey)
    this.#current = keys[0]!
    this.#byKid = Promise.all(keys).then((all) => {
      const map = new Map<string, Promise<CryptoKey>>()
      // Identical secrets share a kid; the first one wins, they hold the same key anyway.
      for (const { kid, key } of all) if (!map.has(kid)) map.set(kid, key)
      return map
    })
    // Keep a failing derivation (no Web Crypto) from surfacing as an unhandled rejection before
    // first use; seal() still rejects with the error and unseal() answers undefined.
    this.#byKid.catch(() => undefined)
  }

  /** Encrypts `payload` (as UTF-8) under the first secret with a fresh random IV. */
  async seal(payload: string): Promise<string> {
    const { kid, key } = await this.#current
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES))
    const ciphertext = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: associatedData(kid) },
      await key,
      utf8.encode(payload),
    )
    return `${VERSION}.${kid}.${base64urlEncode(iv)}.${base64urlEncode(new Uint8Array(ciphertext))}`
  }

  /**
   * The payload inside a sealed value, or undefined when the value is malformed, truncated,
   * tampered with, of another version, sealed under a secret this Sealer does not hold, or longer
   * than {@link MAX_SEALED_LENGTH}. Never throws, never rejects.
   */
  async unseal(value: string): Promise<string | undefined> {
    try {
      if (typeof value !== 'string' || value.length > MAX_SEALED_LENGTH) return undefined
      const parts = value.split('.')
      if (parts.length !== 4 || parts[0] !== VERSION) return undefined
      const [, kid, ivText, ciphertextText] = parts as [string, string, string, string]
      if (kid.length !== KID_LENGTH) return undefined
      const key = (await this.#byKid).get(kid)
      if (!key) return undefined
      const iv = decodeCanonical(ivText)
      if (!iv || iv.length !== IV_BYTES) return undefined
      const ciphertext = decodeCanonical(ciphertextText)
      if (!ciphertext || ciphertext.length < TAG_BYTES) return undefined
      const plaintext = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv, additionalData: associatedData(kid) },
        await key,
        ciphertext,
      )
      return fatalUtf8.decode(plaintext)
    } catch {
      return undefined
    }
  }
}

async function deriveSealKey(secret: string): Promise<SealKey> {
  const material = utf8.encode(secret)
  const digest = await crypto.subtle.digest('SHA-256', utf8.encode(KID_PREFIX + secret))
  const kid = base64urlEncode(new Uint8Array(digest)).slice(0, KID_LENGTH)
  const key = crypto.subtle
    .importKey('raw', material, 'HKDF', false, ['deriveKey'])
    .then((base) =>
      crypto.subtle.deriveKey(
        { name: 'HKDF', hash: 'SHA-256', salt: KDF_SALT, info: KDF_INFO },
        base,
        { name: 'AES-GCM', length: 256 },
        false,
        ['encrypt', 'decrypt'],
      ),
    )
  // Same reason as in the constructor: a rejection is reported where the key is awaited.
  key.catch(() => undefined)
  return { kid, key }
}

function associatedData(kid: string): Uint8Array<ArrayBuffer> {
  return utf8.encode(`${VERSION}.${kid}`)
}

// The last base64url character can carry unused low bits; a decoder ignores them, so two spellings
// would open to the same bytes. Only the one spelling seal() writes is accepted, so that any
// changed character makes the value invalid.
function decodeCanonical(text: string): Uint8Array<ArrayBuffer> | undefined {
  const bytes = base64urlDecode(text)
  return bytes && base64urlEncode(bytes) === text ? bytes : undefined
}

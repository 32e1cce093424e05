import { cachedKey, randomBytes } from './crypto.js'
import { base64urlDecode, base64urlEncode, utf8 } from './encoding.js'

// Fe26.2, as written by @hapi/iron and iron-webcrypto (iron-session v8):
//   Fe26.2*<passwordId>*<encryptionSalt>*<iv>*<ciphertext>*<expiration>*<hmacSalt>*<hmac>
// salts: hex text of 32 random bytes, fed to PBKDF2 as text; iv, ciphertext, hmac: base64url;
// expiration: milliseconds since the epoch, or empty for "never". The HMAC covers the first six
// fields joined by '*'. iron-session v8 appends `~2` (its own token version) after the seal.

const PREFIX = 'Fe26.2'
const IRON_SESSION_SUFFIX = '~2'
const MIN_PASSWORD_LENGTH = 32
const SALT_BYTES = 32
const IV_BYTES = 16
const HMAC_BYTES = 32
const DEFAULT_TTL_SEC = 14 * 24 * 3600
const DEFAULT_SKEW_SEC = 60
const MAX_SEAL_LENGTH = 64 * 1024
const PASSWORD_ID = /^\w+$/
const EXPIRATION = /^\d+$/

type KeyUse = 'encryption' | 'integrity'

/**
 * Iron's keys: PBKDF2-SHA1 of the password, one iteration, the salt's text as bytes, 256 bits, as
 * an AES-CBC or an HMAC-SHA-256 key. From the shared key cache, by use, salt and password: salts
 * come from the cookie, so the cache's bound is what stops a visitor from filling memory.
 */
function deriveKey(password: string, salt: string, use: KeyUse): Promise<CryptoKey> {
  return cachedKey(`iron ${use}`, `${salt}\0${password}`, async () => {
    const base = await crypto.subtle.importKey('raw', utf8.encode(password), 'PBKDF2', false, ['deriveBits'])
    const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-1', salt: utf8.encode(salt), iterations: 1 }, base, 256)
    return use === 'encryption'
      ? crypto.subtle.importKey('raw', bits, { name: 'AES-CBC' }, false, ['encrypt', 'decrypt'])
      : crypto.subtle.importKey('raw', bits, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify'])
  })
}

/** Options of {@link ironUnseal}. */
export interface IronUnsealOptions {
  /** Clock skew tolerated past the seal's expiration, in seconds. Default 60, as iron-session. */
  ttlSkewSec?: number
  /** Current time in milliseconds since the epoch. Default `Date.now()`. */
  now?: number
}

/** Options of {@link ironSeal}. */
export interface IronSealOptions {
  /** Lifetime in seconds; 0 means the seal never expires. Default 14 days, as iron-session. */
  ttlSec?: number
}

/**
 * Opens an iron `Fe26.2` seal, as written by iron-session (v6 to v8, with or without its `~2`
 * suffix) or @hapi/iron, and returns the JSON value inside.
 *
 * `passwords` is one password, used whatever id the seal names, or a map from password id to
 * password, as iron-session takes it (`{ 1: old, 2: new }`); a seal without id looks up `default`.
 * Returns undefined for anything malformed, tampered with, expired (beyond `ttlSkewSec`), sealed
 * under an unknown password, or longer than 64 KiB. Never throws, never rejects.
 *
 * The value is returned as sealed. iron-session v8's own `unsealData` reads a seal without the
 * `~2` suffix (an older token) as `{ ...value.persistent }`; this function does not unwrap it.
 */
export async function ironUnseal(
  seal: string,
  passwords: string | Record<string, string>,
  options: IronUnsealOptions = {},
): Promise<unknown | undefined> {
  try {
    if (typeof seal !== 'string' || seal.length > MAX_SEAL_LENGTH) return undefined
    const body = seal.endsWith(IRON_SESSION_SUFFIX) ? seal.slice(0, -IRON_SESSION_SUFFIX.length) : seal
    const parts = body.split('*')
    if (parts.length !== 8) return undefined
    const [prefix, passwordId, encryptionSalt, ivText, ciphertextText, expiration, hmacSalt, hmacText] =
      parts as [string, string, string, string, string, string, string, string]
    if (prefix !== PREFIX || !encryptionSalt || !hmacSalt) return undefined

    if (expiration) {
      if (!EXPIRATION.test(expiration)) return undefined
      const now = options.now ?? Date.now()
      const skewMs = (options.ttlSkewSec ?? DEFAULT_SKEW_SEC) * 1000
      // Written as a negation so that a NaN `now` or skew counts as expired.
      if (!(Number(expiration) > now - skewMs)) return undefined
    }

    const password = pickPassword(passwords, passwordId)
    if (password === undefined) return undefined

    const hmac = base64urlDecode(hmacText)
    // Checking the spelling too keeps iron's behaviour (it compares digest strings): a different
    // last character that decodes to the same bytes is still rejected.
    if (!hmac || hmac.length !== HMAC_BYTES || base64urlEncode(hmac) !== hmacText) return undefined
    const macBase = parts.slice(0, 6).join('*')
    const integrityKey = await deriveKey(password, hmacSalt, 'integrity')
    // crypto.subtle.verify compares in constant time.
    if (!(await crypto.subtle.verify('HMAC', integrityKey, hmac, utf8.encode(macBase)))) return undefined

    const iv = base64urlDecode(ivText)
    const ciphertext = base64urlDecode(ciphertextText)
    if (!iv || iv.length !== IV_BYTES || !ciphertext) return undefined
    const encryptionKey = await deriveKey(password, encryptionSalt, 'encryption')
    const plaintext = await crypto.subtle.decrypt({ name: 'AES-CBC', iv }, encryptionKey, ciphertext)
    const text = new TextDecoder().decode(plaintext)
    // Iron returns null for an empty plaintext (what it seals for `undefined`).
    return text ? (JSON.parse(text) as unknown) : null
  } catch {
    return undefined
  }
}

function pickPassword(passwords: string | Record<string, string>, id: string): string | undefined {
  let password: unknown
  if (typeof passwords === 'string') password = passwords
  else if (passwords !== null && typeof passwords === 'object') {
    const key = id || 'default'
    // Own properties only: a seal naming `constructor` or `__proto__` must not reach the prototype.
    if (Object.hasOwn(passwords, key)) password = passwords[key]
  }
  return typeof password === 'string' && password.length >= MIN_PASSWORD_LENGTH ? password : undefined
}

/**
 * Seals `data` (JSON-serialised) as iron-session v8's `sealData` does, so iron-session's
 * `unsealData` opens it: `Fe26.2*<id>*…~2`. A string password is sealed under id `1` (iron-session
 * turns a string into `{ 1: password }`); with a map, the password with the highest numeric id
 * seals. `ttlSec` defaults to 14 days; 0 writes no expiration.
 *
 * Throws on a password shorter than 32 characters, an empty or non-numeric password map, an
 * invalid `ttlSec`, or data that JSON cannot represent.
 */
export async function ironSeal(
  data: unknown,
  password: string | Record<string, string>,
  options: IronSealOptions = {},
): Promise<string> {
  const { id, secret } = sealingPassword(password)
  if (secret.length < MIN_PASSWORD_LENGTH) {
    throw new RangeError(`iron password must be at least ${MIN_PASSWORD_LENGTH} characters`)
  }
  const ttlSec = options.ttlSec ?? DEFAULT_TTL_SEC
  if (!Number.isFinite(ttlSec) || ttlSec < 0) throw new RangeError('ttlSec must be a finite number ≥ 0')
  const json = JSON.stringify(data) as string | undefined
  if (json === undefined) throw new TypeError('ironSeal: data is not JSON-serialisable')

  const encryptionSalt = randomHex(SALT_BYTES)
  const hmacSalt = randomHex(SALT_BYTES)
  const iv = randomBytes(IV_BYTES)
  const encryptionKey = await deriveKey(secret, encryptionSalt, 'encryption')
  const ciphertext = await crypto.subtle.encrypt({ name: 'AES-CBC', iv }, encryptionKey, utf8.encode(json))
  // Rounded: iron rejects an expiration that is not all digits.
  const expiration = ttlSec ? String(Math.round(Date.now() + ttlSec * 1000)) : ''
  const macBase = [
    PREFIX,
    id,
    encryptionSalt,
    base64urlEncode(iv),
    base64urlEncode(new Uint8Array(ciphertext)),
    expiration,
  ].join('*')
  const integrityKey = await deriveKey(secret, hmacSalt, 'integrity')
  const hmac = await crypto.subtle.sign('HMAC', integrityKey, utf8.encode(macBase))
  return `${macBase}*${hmacSalt}*${base64urlEncode(new Uint8Array(hmac))}${IRON_SESSION_SUFFIX}`
}

function sealingPassword(password: string | Record<string, string>): { id: string; secret: string } {
  if (typeof password === 'string') return { id: '1', secret: password }
  let best: { id: string; secret: string; rank: number } | undefined
  for (const [id, secret] of Object.entries(password)) {
    const rank = Number(id)
    if (!PASSWORD_ID.test(id) || !Number.isFinite(rank) || typeof secret !== 'string') {
      throw new TypeError(`iron password ids must be numbers, got ${JSON.stringify(id)}`)
    }
    if (!best || rank > best.rank) best = { id, secret, rank }
  }
  if (!best) throw new TypeError('iron password map is empty')
  return { id: best.id, secret: best.secret }
}

function randomHex(bytes: number): string {
  let hex = ''
  for (const byte of randomBytes(bytes)) hex += byte.toString(16).padStart(2, '0')
  return hex
}

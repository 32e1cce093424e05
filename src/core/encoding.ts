// base64url in plain JavaScript (no Buffer), so the core runs wherever only Web APIs exist (Edge, workers).

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
/** Character code -> 6-bit value, -1 for a character outside the base64url alphabet. */
const VALUES = new Int8Array(128).fill(-1)
for (let i = 0; i < ALPHABET.length; i++) VALUES[ALPHABET.charCodeAt(i)] = i
const BASE64URL = /^[A-Za-z0-9_-]*$/

/** Decodes unpadded, canonical base64url; undefined for anything else. Never throws. */
export function base64urlDecode(text: string): Uint8Array<ArrayBuffer> | undefined {
  return isCanonicalBase64url(text) ? decodeChecked(text) : undefined
}

/**
 * Whether `text` is unpadded base64url in its one canonical spelling. The last character can
 * carry unused low bits that a decoder ignores, so two spellings would mean the same bytes; only
 * the one with those bits zero (what an encoder writes) counts, so that any changed character
 * changes the bytes.
 */
export function isCanonicalBase64url(text: string): boolean {
  if (typeof text !== 'string') return false
  const rest = text.length % 4
  if (rest === 1 || !BASE64URL.test(text)) return false
  if (rest === 0) return true
  const last = VALUES[text.charCodeAt(text.length - 1)]!
  // 2 characters carry 1 byte (4 bits unused), 3 carry 2 bytes (2 bits unused).
  return (last & (rest === 2 ? 0x0f : 0x03)) === 0
}

/** Encodes bytes as unpadded base64url. */
export function base64urlEncode(bytes: Uint8Array): string {
  let out = ''
  const whole = bytes.length - (bytes.length % 3)
  let i = 0
  for (; i < whole; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!
    out += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]! + ALPHABET[(n >>> 6) & 63]! + ALPHABET[n & 63]!
  }
  if (bytes.length - whole === 1) {
    const n = bytes[i]!
    out += ALPHABET[n >>> 2]! + ALPHABET[(n & 3) << 4]!
  } else if (bytes.length - whole === 2) {
    const n = (bytes[i]! << 8) | bytes[i + 1]!
    out += ALPHABET[n >>> 10]! + ALPHABET[(n >>> 4) & 63]! + ALPHABET[(n & 15) << 2]!
  }
  return out
}

/** Decodes text already checked by {@link isCanonicalBase64url}. */
function decodeChecked(text: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(Math.floor((text.length * 3) / 4))
  let at = 0
  let i = 0
  const whole = text.length - (text.length % 4)
  for (; i < whole; i += 4) {
    const n =
      (VALUES[text.charCodeAt(i)]! << 18) |
      (VALUES[text.charCodeAt(i + 1)]! << 12) |
      (VALUES[text.charCodeAt(i + 2)]! << 6) |
      VALUES[text.charCodeAt(i + 3)]!
    bytes[at++] = n >>> 16
    bytes[at++] = (n >>> 8) & 255
    bytes[at++] = n & 255
  }
  const rest = text.length - whole
  if (rest >= 2) {
    const n = (VALUES[text.charCodeAt(i)]! << 18) | (VALUES[text.charCodeAt(i + 1)]! << 12) | (rest === 3 ? VALUES[text.charCodeAt(i + 2)]! << 6 : 0)
    bytes[at++] = n >>> 16
    if (rest === 3) bytes[at++] = (n >>> 8) & 255
  }
  return bytes
}

export const utf8 = new TextEncoder()

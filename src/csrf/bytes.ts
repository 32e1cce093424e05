// The random part of every CSRF token, and comparing secrets without an early exit.
import { base64urlDecode, base64urlEncode, utf8 } from '../core/encoding.js'

/** Random bytes in a token: 256 bits, 43 base64url characters. */
const TOKEN_BYTES = 32
export const TOKEN_LENGTH = 43

/**
 * Compares two strings or byte arrays without an early exit: the time taken depends only on the
 * longer input's length, never on where the first difference is. Strings are compared as UTF-8.
 */
export function constantTimeEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  const x = typeof a === 'string' ? utf8.encode(a) : a
  const y = typeof b === 'string' ? utf8.encode(b) : b
  const length = Math.max(x.length, y.length)
  let difference = x.length ^ y.length
  for (let i = 0; i < length; i++) difference |= (x[i] ?? 0) ^ (y[i] ?? 0)
  return difference === 0
}

/** 32 random bytes, base64url: 43 characters. */
export function randomToken(): string {
  const bytes = new Uint8Array(TOKEN_BYTES)
  crypto.getRandomValues(bytes)
  return base64urlEncode(bytes)
}

/** The 32 bytes of a well-formed token, or undefined. The length of what a client sent is not secret. */
export function tokenBytes(token: string): Uint8Array | undefined {
  if (token.length !== TOKEN_LENGTH) return undefined
  const bytes = base64urlDecode(token)
  return bytes && bytes.length === TOKEN_BYTES ? bytes : undefined
}

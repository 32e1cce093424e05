import { base64urlEncode } from './encoding.js'

/** Random bytes in a session id: 256 bits, encoded as 43 base64url characters. */
export const ID_BYTES = 32

/** Generates a session id from `crypto.getRandomValues`: 43 base64url characters, 256 random bits. */
export function generateId(): string {
  const bytes = new Uint8Array(ID_BYTES)
  crypto.getRandomValues(bytes)
  return base64urlEncode(bytes)
}

// Wide enough for ids made by express-session (32 chars), next-session (21, nanoid) and Tessera
// (43); narrow enough that nothing with a path separator, a dot or a space reaches a store.
const ID_FORMAT = /^[A-Za-z0-9_-]{16,128}$/

/** Whether `id` has the shape of a session id. Checked before any store access. */
export function isValidId(id: string): boolean {
  return ID_FORMAT.test(id)
}

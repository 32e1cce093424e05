// Signed double-submit tokens: `<random>.<HMAC-SHA-256(secret, session id, random)>`, computed
// from the session id, nothing stored. For sessions that cannot be written when the page renders
// (a Next.js server component) or apps that keep nothing per session.
import { hmacSign, hmacVerify } from '../core/crypto.js'
import { base64urlEncode, utf8 } from '../core/encoding.js'
import { randomToken, TOKEN_LENGTH, tokenBytes } from './bytes.js'
import { fail, OK, type CsrfResult } from './result.js'

/** One secret or a list of them: the first signs, every one verifies. Each at least 32 characters. */
export type CsrfSecrets = string | readonly string[]

/** The secrets as a list; a TypeError naming `caller` when they are missing or short. */
export function secretList(secrets: CsrfSecrets, caller: string): readonly string[] {
  const list = typeof secrets === 'string' ? [secrets] : secrets
  if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === 'string' && s.length >= 32)) {
    // The usual cause: `secrets: process.env.SESSION_SECRET` with the variable unset.
    const none = !Array.isArray(list) || list.length === 0 || list.some((s) => s === undefined || s === '')
    const hint = none ? ': got none (is SESSION_SECRET set? createSessions hands its secrets on as sessions.config.secrets)' : ''
    throw new TypeError(`${caller}: secrets must be a string or a non-empty list of strings, each at least 32 characters${hint}`)
  }
  return list
}

// The MAC covers a label (so a CSRF token is never also a valid session-cookie signature made
// with the same secret), the session id, and the random part, which has a fixed length and so
// cannot be confused with the end of the id.
function signedMessage(sessionId: string, random: string): Uint8Array<ArrayBuffer> {
  return utf8.encode(`tessera-csrf.v1\n${sessionId}\n${random}`)
}

/**
 * A stateless token bound to `sessionId`: `<random>.<HMAC-SHA-256(secret, sessionId, random)>`,
 * base64url. Nothing is stored; {@link verifySignedCsrfToken} checks it with the same secrets
 * and the same session id. A token minted for one session fails for every other.
 *
 * The session must keep its id: a new session with no data is not saved, so its id is gone at
 * the next request. Mint it for a session that holds something (or use `csrfToken`).
 */
export async function createCsrfToken(secrets: CsrfSecrets, sessionId: string): Promise<string> {
  const [secret] = secretList(secrets, 'createCsrfToken')
  if (typeof sessionId !== 'string' || sessionId === '') throw new TypeError('createCsrfToken: sessionId must be a non-empty string')
  const random = randomToken()
  // The crypto module's key cache and backend: the key is shared with signed ids, the MAC
  // synchronous on node:crypto.
  const mac = await hmacSign(secret!, signedMessage(sessionId, random))
  return `${random}.${base64urlEncode(mac)}`
}

/** Checks a token from {@link createCsrfToken} for `sessionId` (any of `secrets` may have signed it). */
export async function verifySignedCsrfToken(secrets: CsrfSecrets, sessionId: string, token: unknown): Promise<CsrfResult> {
  const list = secretList(secrets, 'verifySignedCsrfToken')
  if (token === undefined || token === null || token === '') return fail('missing-token')
  if (typeof token !== 'string' || typeof sessionId !== 'string' || sessionId === '') return fail('invalid-token')
  if (token.length !== TOKEN_LENGTH * 2 + 1 || token[TOKEN_LENGTH] !== '.') return fail('invalid-token')
  const random = token.slice(0, TOKEN_LENGTH)
  const mac = tokenBytes(token.slice(TOKEN_LENGTH + 1))
  if (!tokenBytes(random) || !mac) return fail('invalid-token')
  const message = signedMessage(sessionId, random)
  // Each comparison runs in constant time.
  return (await hmacVerify(list, message, new Uint8Array(mac))) === -1 ? fail('invalid-token') : OK
}

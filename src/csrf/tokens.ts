// Synchronizer tokens: a random token kept in the session data, bound to the session id so that
// `regenerate()` at login retires it (checklist 42).
import { utf8 } from '../core/encoding.js'
import { isObject } from '../core/plain.js'
import { constantTimeEqual, randomToken, tokenBytes } from './bytes.js'
import { fail, OK, type CsrfResult } from './result.js'

/** The session data key the synchronizer token lives under. Reserved: do not write it yourself. */
export const CSRF_SESSION_KEY = '__csrf'

/** What the CSRF helpers need of a session: a `Session` from `sessions.get()` fits. */
export interface CsrfSession {
  readonly id: string
  readonly data: object
}

interface StoredToken {
  token: string
  /** Fingerprint of the session id the token was minted for. */
  sid: string
}

// The data holds a 64-bit FNV-1a fingerprint of the id rather than the id itself: with
// `hashIds`, a leaked store must not contain live session ids. The fingerprint only detects
// that the id changed; it is not what keeps the token secret.
const FNV_OFFSET = 0xcbf29ce484222325n
const FNV_PRIME = 0x100000001b3n
const MASK_64 = 0xffffffffffffffffn

function fingerprint(id: string): string {
  let hash = FNV_OFFSET
  for (const byte of utf8.encode(id)) hash = ((hash ^ BigInt(byte)) * FNV_PRIME) & MASK_64
  return hash.toString(16).padStart(16, '0')
}

function storedToken(session: CsrfSession): string | undefined {
  const entry: unknown = (session.data as Record<string, unknown>)[CSRF_SESSION_KEY]
  if (!isObject(entry)) return undefined
  const { token, sid } = entry as Partial<StoredToken>
  if (typeof token !== 'string' || typeof sid !== 'string' || !tokenBytes(token)) return undefined
  return sid === fingerprint(session.id) ? token : undefined
}

function mintToken(session: CsrfSession): string {
  const token = randomToken()
  const entry: StoredToken = { token, sid: fingerprint(session.id) }
  ;(session.data as Record<string, unknown>)[CSRF_SESSION_KEY] = entry
  return token
}

/**
 * The session's CSRF token, created (32 random bytes, base64url) and stored in the session under
 * {@link CSRF_SESSION_KEY} when it has none, or when the one it has was minted for another
 * session id (after `regenerate()`). Storing it marks the session changed, so a new visitor gets
 * a session cookie: render the token before the response is sent.
 */
export function csrfToken(session: CsrfSession): string {
  return storedToken(session) ?? mintToken(session)
}

/** The form field a token is read from (HTML forms). */
export const CSRF_FIELD = 'csrf_token'

/** `{ name: 'csrf_token', value }`, for a hidden `<input>` in a form. */
export function csrfField(session: CsrfSession): { name: typeof CSRF_FIELD; value: string } {
  return { name: CSRF_FIELD, value: csrfToken(session) }
}

/** Options of {@link verifyCsrfToken}. */
export interface VerifyTokenOptions {
  /** Replace the token after a successful check, so each token works once. @default false */
  singleUse?: boolean
}

/**
 * Checks `token` against the session's token in constant time. A missing or empty token is
 * `missing-token`; anything else that does not match (including a token minted before
 * `regenerate()`) is `invalid-token`. A failed guess leaves the real token in place.
 */
export function verifyCsrfToken(session: CsrfSession, token: unknown, options: VerifyTokenOptions = {}): CsrfResult {
  if (token === undefined || token === null || token === '') return fail('missing-token')
  if (typeof token !== 'string') return fail('invalid-token')
  const expected = storedToken(session)
  const given = tokenBytes(token)
  if (expected === undefined || given === undefined) return fail('invalid-token')
  if (!constantTimeEqual(given, tokenBytes(expected)!)) return fail('invalid-token')
  if (options.singleUse) mintToken(session)
  return OK
}

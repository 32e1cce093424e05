/**
 * Stable codes of {@link SessionError}. Switch on `error.code`, never on the message.
 *
 * - `STORE_ERROR`: the store failed; `cause` is the store's own error.
 * - `READ_ONLY`: a write where no cookie can be set (a Next.js server component).
 * - `DESTROYED`: a write to a session after `destroy()`.
 * - `HEADERS_SENT`: a commit after the response's headers left.
 * - `TOO_LARGE`: the session does not fit in the configured size.
 * - `UNSUPPORTED`: the store cannot do what was asked (for example `listUser` without a user index).
 * - `INVALID_DATA`: the data (or a user id) holds a string no store can keep: U+0000 or a lone
 *   surrogate. Refused before any store is called, the same on every store; the message names
 *   the key path (`data.profile.name`), never the value.
 */
export type SessionErrorCode =
  | 'STORE_ERROR'
  | 'READ_ONLY'
  | 'DESTROYED'
  | 'HEADERS_SENT'
  | 'TOO_LARGE'
  | 'UNSUPPORTED'
  | 'INVALID_DATA'

/**
 * The one error Tessera throws at run time (caller mistakes are `TypeError`s at construction).
 *
 * @example
 * try { await session.commit() } catch (error) {
 *   if (error instanceof SessionError && error.code === 'STORE_ERROR') return new Response('Try again', { status: 503 })
 *   throw error
 * }
 */
export class SessionError extends Error {
  readonly code: SessionErrorCode

  constructor(code: SessionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'SessionError'
    this.code = code
  }
}

/** Wraps whatever a store threw, so callers see one error type with the original as `cause`. */
export function storeError(operation: string, cause: unknown): SessionError {
  const detail = cause instanceof Error ? cause.message : String(cause)
  return new SessionError('STORE_ERROR', `The session store failed to ${operation}: ${detail}`, { cause })
}

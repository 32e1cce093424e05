// What every CSRF check answers: a result, never an exception for anything a request contains.
// `CsrfError` is for the caller who wants to throw one (a server action's first line).

/** Why a CSRF check failed. */
export type CsrfFailureReason = 'missing-token' | 'invalid-token' | 'invalid-origin'

/** The outcome of every CSRF check: failures are returned, never thrown. */
export type CsrfResult = { ok: true } | CsrfFailure

/** A failed check. */
export interface CsrfFailure {
  ok: false
  reason: CsrfFailureReason
}

export const OK: CsrfResult = Object.freeze({ ok: true })
export const fail = (reason: CsrfFailureReason): CsrfFailure => ({ ok: false, reason })

/**
 * A refused request, for code that throws rather than returns: a server action's first line,
 * a helper deep inside a route handler. `code` is the reason and `status` is 403. The checks
 * themselves never throw it; they return a {@link CsrfResult}.
 *
 * Its own class, not a `SessionError`: a refusal is the request's fault (403), while a
 * `SessionError` is the server's (a store down is a 503), and apps handle the two apart.
 *
 * @example
 * const result = verifyOrigin(request)
 * if (!result.ok) throw new CsrfError(result)
 * // ...where it is caught:
 * if (error instanceof CsrfError) return csrfForbidden(error)
 */
export class CsrfError extends Error {
  /** Why the request was refused. */
  readonly code: CsrfFailureReason
  /** The HTTP status to answer with. */
  readonly status = 403

  constructor(failure: CsrfFailure | CsrfFailureReason, options?: { cause?: unknown }) {
    const code = typeof failure === 'string' ? failure : failure.reason
    super(`CSRF check failed (${code})`, options)
    this.name = 'CsrfError'
    this.code = code
  }
}

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

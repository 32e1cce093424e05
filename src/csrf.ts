/**
 * CSRF protection: synchronizer tokens kept in the session, signed double-submit tokens bound to
 * the session id (for apps that keep nothing server-side), and `Origin` / `Sec-Fetch-Site`
 * checks. Web APIs only, so it runs on Node, the Edge runtime, Workers, Bun and Deno.
 *
 * Every check returns a {@link CsrfResult}; none throws for anything a request can contain.
 *
 * One concept per file under `csrf/`: `result` (what a check answers), `bytes` (random tokens,
 * constant-time comparison), `tokens` (synchronizer), `signed` (double-submit), `request`
 * (normalising a request, reading its token), `origin` (the origin policy), `verify` (the whole
 * check), `response` (`Vary`, 403).
 *
 * @example
 * import { csrfField, verifyRequest, csrfForbidden } from 'tessera/csrf'
 *
 * // rendering a form
 * const { name, value } = csrfField(session)
 * html`<input type="hidden" name="${name}" value="${value}">`
 *
 * // handling the POST (a route handler, a Worker, Hono, ...)
 * const result = await verifyRequest(session, request, { allowed: ['https://example.com'] })
 * if (!result.ok) return csrfForbidden(result)
 *
 * @module
 */
export { CsrfError, type CsrfFailure, type CsrfFailureReason, type CsrfResult } from './csrf/result.js'
export { constantTimeEqual } from './csrf/bytes.js'
export { CSRF_FIELD, CSRF_SESSION_KEY, csrfField, csrfToken, verifyCsrfToken, type CsrfSession, type VerifyTokenOptions } from './csrf/tokens.js'
export { createCsrfToken, verifySignedCsrfToken, type CsrfSecrets } from './csrf/signed.js'
export { CSRF_HEADER, isSafeMethod, type CsrfRequest, type NodeLikeRequest } from './csrf/request.js'
export { verifyOrigin, type OriginOptions } from './csrf/origin.js'
export { verifyRequest, type VerifyRequestOptions } from './csrf/verify.js'
export { CSRF_VARY, csrfForbidden, csrfVary } from './csrf/response.js'

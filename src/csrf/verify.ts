// The whole check for one request: its origin, then the token it carries, against the session
// (synchronizer) or the session id (signed).
import { checkOrigin, originPolicy, type OriginOptions } from './origin.js'
import { isSafeMethod, normalizeRequest, requestToken, type CsrfRequest, type TokenSource } from './request.js'
import { fail, OK, type CsrfResult } from './result.js'
import { secretList, verifySignedCsrfToken, type CsrfSecrets } from './signed.js'
import { verifyCsrfToken, type CsrfSession, type VerifyTokenOptions } from './tokens.js'

/** Options of {@link verifyRequest}. */
export interface VerifyRequestOptions extends OriginOptions, VerifyTokenOptions, TokenSource {
  /**
   * Check a signed double-submit token from `createCsrfToken` (bound to `session.id`) instead of
   * the token kept in the session. `singleUse` does not apply to it.
   */
  secrets?: CsrfSecrets
}

/**
 * The whole check for one request: safe methods pass; for the others the origin is checked
 * (`verifyOrigin`), then the token from the `x-csrf-token` header or the `csrf_token` form field
 * (never the query string) is verified against the session (`verifyCsrfToken`), or against
 * `session.id` with `secrets` (`verifySignedCsrfToken`).
 *
 * On a Web `Request` a form body is read from a clone, so the app can still read it: call this
 * before the body is consumed. On Node the field is read only from a body the app already parsed
 * into `req.body` (`express.urlencoded()`, multer for multipart, Next.js Pages API routes).
 */
export async function verifyRequest(session: CsrfSession, request: CsrfRequest, options: VerifyRequestOptions = {}): Promise<CsrfResult> {
  const policy = originPolicy(options, 'verifyRequest')
  if (options.secrets !== undefined) secretList(options.secrets, 'verifyRequest')
  const req = normalizeRequest(request)
  if (!req) return fail('invalid-origin')
  if (isSafeMethod(req.method)) return OK
  try {
    const origin = checkOrigin(req, policy)
    if (!origin.ok) return origin
    const token = await requestToken(req, options)
    return options.secrets !== undefined
      ? await verifySignedCsrfToken(options.secrets, session.id, token)
      : verifyCsrfToken(session, token, { singleUse: options.singleUse === true })
  } catch {
    return fail('invalid-token')
  }
}

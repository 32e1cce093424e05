/**
 * CSRF middleware for Express and Connect, on top of `sessionMiddleware` (re-exported from
 * `tessera/node`).
 *
 * @example
 * import express from 'express'
 * import { sessionMiddleware, csrfMiddleware } from 'tessera/node'
 * app.use(sessionMiddleware(sessions))
 * app.use(express.urlencoded({ extended: false })) // so the csrf_token form field can be read
 * app.use(csrfMiddleware({ allowed: ['https://example.com'] }))
 * app.get('/form', (req, res) => res.send(`<form method="post"><input type="hidden" name="csrf_token" value="${req.csrfToken!()}">…`))
 *
 * @module
 */
import {
  csrfToken,
  csrfVary,
  isSafeMethod,
  verifyOrigin,
  verifyRequest,
  type CsrfFailure,
  type CsrfSession,
  type NodeLikeRequest,
  type VerifyRequestOptions,
} from './csrf.js'

declare module 'node:http' {
  interface IncomingMessage {
    /** Set by Tessera's `csrfMiddleware`: the session's CSRF token, created when missing. */
    csrfToken?: () => string
  }
}

/** The request as the middleware sees it: a Node request carrying `req.session`. */
export interface CsrfNodeRequest extends NodeLikeRequest {
  session?: CsrfSession
  csrfToken?: () => string
}

/** The parts of `http.ServerResponse` the middleware writes. */
export interface CsrfNodeResponse {
  statusCode: number
  readonly headersSent: boolean
  getHeader(name: string): number | string | string[] | undefined
  setHeader(name: string, value: number | string | readonly string[]): unknown
  end(body?: string): unknown
}

type Next = (error?: unknown) => void

/** Options of {@link csrfMiddleware}. */
export interface CsrfMiddlewareOptions extends Omit<VerifyRequestOptions, 'secrets'> {
  /**
   * Answers a failed check. @default a 403 with a short text body naming the reason
   * (`Forbidden: CSRF check failed (missing-token)`)
   */
  onFailure?: (failure: CsrfFailure, req: CsrfNodeRequest, res: CsrfNodeResponse, next: Next) => void
}

function forbid(failure: CsrfFailure, _req: CsrfNodeRequest, res: CsrfNodeResponse): void {
  res.statusCode = 403
  res.setHeader('Content-Type', 'text/plain; charset=utf-8')
  res.setHeader('Cache-Control', 'no-store')
  res.end(`Forbidden: CSRF check failed (${failure.reason})\n`)
}

/**
 * Checks every unsafe request (anything but GET, HEAD, OPTIONS): its origin (`Sec-Fetch-Site`,
 * `Origin`, `Referer`, see `verifyOrigin`) and its token, from the `x-csrf-token` header or the
 * `csrf_token` field of a body the app parsed before this middleware (`express.urlencoded()`;
 * multer or similar for multipart). The query string is never read. A failure answers 403 with
 * the reason; success calls `next()`. Responses to checked requests get
 * `Vary: Origin, Sec-Fetch-Site`.
 *
 * Needs `req.session` from `sessionMiddleware`. Sets `req.csrfToken()`, which returns the
 * session's token (creating it when missing) for forms and for pages that hand it to `fetch`.
 *
 * @throws TypeError at construction for a bad `allowed` entry.
 */
export function csrfMiddleware(options: CsrfMiddlewareOptions = {}): (req: CsrfNodeRequest, res: CsrfNodeResponse, next: Next) => void {
  if ((options as VerifyRequestOptions).secrets !== undefined) {
    throw new TypeError('csrfMiddleware keeps the token in the session and takes no secrets; for signed tokens call verifyRequest(session, req, { secrets })')
  }
  verifyOrigin({ method: 'GET', headers: {} }, options) // validates `allowed` now, not at the first request
  const onFailure = options.onFailure ?? forbid
  return (req, res, next) => {
    const session = req.session
    if (!session) {
      next(new TypeError('csrfMiddleware needs req.session: add sessionMiddleware(sessions) before it'))
      return
    }
    req.csrfToken = () => csrfToken(session)
    if (isSafeMethod(req.method)) {
      next()
      return
    }
    res.setHeader('Vary', csrfVary(res.getHeader('vary')))
    verifyRequest(session, req, options).then((result) => {
      if (result.ok) next()
      else onFailure(result, req, res, next)
    }, next)
  }
}

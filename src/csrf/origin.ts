// Where an unsafe request comes from: `Sec-Fetch-Site`, then `Origin` (or the origin of `Referer`)
// against the allowed origins and the request's own. Options are validated once per options
// object and turned into a policy (Hono's approach: options into predicates).
import { isSafeMethod, normalizeRequest, type CsrfRequest, type NormalizedRequest } from './request.js'
import { fail, OK, type CsrfResult } from './result.js'

/** Options of {@link verifyOrigin}. */
export interface OriginOptions {
  /**
   * Origins allowed to send unsafe requests, each a full origin: `'https://example.com'`,
   * `'http://localhost:3000'`. The request's own origin (its URL's, or the host the browser
   * asked for: see `trustProxy`) is always allowed. @default []
   */
  allowed?: readonly string[]
  /** Let `Sec-Fetch-Site: same-site` through to the origin check (its origin must still be allowed). @default false */
  allowSameSite?: boolean
  /**
   * Let an unsafe request with neither `Origin` nor `Referer` pass (old browsers, non-browser
   * clients, `Referrer-Policy: no-referrer` on a browser that omits `Origin`). The secure
   * default blocks it. @default false
   */
  allowMissingOrigin?: boolean
  /**
   * Whether `X-Forwarded-Proto` and `X-Forwarded-Host` name the request's own origin, as Next.js
   * takes `X-Forwarded-Host` for its server action check. A page on another site cannot set
   * either header on a browser's request (a form cannot, and `fetch` would need a CORS preflight
   * your server does not grant), so they are safe to read for CSRF; `false` reads `Host` and the
   * connection's scheme only. @default true
   */
  trustProxy?: boolean
}

/** Options turned into what the check reads. */
export interface OriginPolicy {
  allowed: ReadonlySet<string>
  allowSameSite: boolean
  allowMissingOrigin: boolean
  trustProxy: boolean
}

const policies = new WeakMap<object, OriginPolicy>()

/** Validates origin options once per options object; throws a TypeError naming a bad entry. */
export function originPolicy(options: OriginOptions, caller = 'verifyOrigin'): OriginPolicy {
  const cached = policies.get(options)
  if (cached) return cached
  const allowed = new Set<string>()
  const list = options.allowed ?? []
  if (!Array.isArray(list)) throw new TypeError(`${caller} option allowed must be a list of origins like 'https://example.com'`)
  for (const entry of list) {
    let origin: string | undefined
    try {
      const url = new URL(entry)
      const bare = url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password && !/[?#]/.test(entry)
      if ((url.protocol === 'https:' || url.protocol === 'http:') && bare) origin = url.origin
    } catch {
      // reported below
    }
    if (origin === undefined) throw new TypeError(`${caller} option allowed: ${JSON.stringify(entry)} is not an origin like 'https://example.com'`)
    allowed.add(origin)
  }
  const policy: OriginPolicy = {
    allowed,
    allowSameSite: options.allowSameSite === true,
    allowMissingOrigin: options.allowMissingOrigin === true,
    trustProxy: options.trustProxy !== false,
  }
  policies.set(options, policy)
  return policy
}

const HOST = /^[A-Za-z0-9.\-_~%!$&'()*+,;=[\]:]+$/

function firstValue(value: string | undefined): string | undefined {
  const first = value?.split(',')[0]?.trim()
  return first ? first : undefined
}

/**
 * Whether `origin` is the request's own: the origin of its URL, or the host the browser asked for
 * (`X-Forwarded-Host`, else `Host`, the headers Next.js compares for server actions) with the
 * request's scheme (`X-Forwarded-Proto`, else the URL's, else the socket's). Both the URL and the
 * host count because servers disagree on which one carries the public name: `next start` builds
 * `request.url` from its own listening address, while `Host` is what the browser sent; a page on
 * another site can set neither.
 *
 * A bare `{ headers }` (Next.js `headers()` in a server action) carries no scheme at all: there
 * only the host is compared, as Next.js does. An `http:` page cannot use that to post to an
 * `https:` site: its browser sends `Sec-Fetch-Site: cross-site`, refused above.
 */
function isOwnOrigin(req: NormalizedRequest, origin: string, trustProxy: boolean): boolean {
  let scheme: string | undefined
  if (req.url && /^https?:\/\//i.test(req.url)) {
    try {
      const url = new URL(req.url)
      if (url.origin === origin) return true
      scheme = url.protocol.slice(0, -1)
    } catch {
      // fall back to the headers
    }
  }
  if (req.encrypted !== undefined) scheme ??= req.encrypted ? 'https' : 'http'
  let host = req.header('host')
  if (trustProxy) {
    const proto = firstValue(req.header('x-forwarded-proto'))?.toLowerCase()
    if (proto === 'https' || proto === 'http') scheme = proto
    host = firstValue(req.header('x-forwarded-host')) ?? host
  }
  if (!host || !HOST.test(host) || host.includes('@')) return false
  return (scheme ? [scheme] : ['https', 'http']).some((candidate) => {
    try {
      const url = new URL(`${candidate}://${host}`)
      return url.host === host.toLowerCase() && url.origin !== 'null' && url.origin === origin
    } catch {
      return false
    }
  })
}

/** The origin check on a normalised request (no exception handling: callers catch). */
export function checkOrigin(req: NormalizedRequest, policy: OriginPolicy): CsrfResult {
  if (isSafeMethod(req.method)) return OK

  // Fetch metadata first: browsers set Sec-Fetch-Site themselves and pages cannot forge it.
  const site = req.header('sec-fetch-site')?.toLowerCase()
  if (site) {
    if (site === 'cross-site') return fail('invalid-origin')
    if (site === 'same-site' && !policy.allowSameSite) return fail('invalid-origin')
    // 'none' is a user-initiated navigation; any value outside the standard ones fails closed.
    if (site !== 'same-origin' && site !== 'same-site' && site !== 'none') return fail('invalid-origin')
  }

  const matches = (origin: string): boolean =>
    origin !== 'null' && (policy.allowed.has(origin) || isOwnOrigin(req, origin, policy.trustProxy))

  const origin = req.header('origin')
  // `Origin: null` (sandboxed frames, data: URLs, some redirects) is cross-origin, not missing
  // (GHSA-mq59-m269-xvcx: Next.js Server Actions treated it as missing).
  if (origin !== undefined) return matches(origin) ? OK : fail('invalid-origin')

  const referer = req.header('referer')
  if (referer) {
    let refererOrigin: string
    try {
      refererOrigin = new URL(referer).origin
    } catch {
      return fail('invalid-origin')
    }
    return matches(refererOrigin) ? OK : fail('invalid-origin')
  }

  return policy.allowMissingOrigin ? OK : fail('invalid-origin')
}

/**
 * Checks where an unsafe request comes from. GET, HEAD and OPTIONS pass. For other methods:
 * `Sec-Fetch-Site: cross-site` fails; `same-site` fails unless `allowSameSite`; then `Origin`
 * must equal one of `allowed` exactly (scheme, host and port) or the request's own origin (see
 * `trustProxy`), and `Origin: null` fails; without `Origin`, the origin of `Referer` is compared the same way;
 * without either, the request fails unless `allowMissingOrigin`.
 *
 * Responses to requests checked this way depend on those headers: add `CSRF_VARY` to their
 * `Vary` (see `csrfVary`).
 *
 * @example
 * const result = verifyOrigin(request, { allowed: ['https://example.com'] })
 * if (!result.ok) return csrfForbidden(result)
 */
export function verifyOrigin(request: CsrfRequest, options: OriginOptions = {}): CsrfResult {
  const policy = originPolicy(options)
  const req = normalizeRequest(request)
  if (!req) return fail('invalid-origin')
  try {
    return checkOrigin(req, policy)
  } catch {
    return fail('invalid-origin')
  }
}

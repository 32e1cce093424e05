// Answers to checked requests: the `Vary` they need, and a ready 403.
import type { CsrfError, CsrfFailure } from './result.js'

/** The header names an origin decision depends on; responses to checked requests should `Vary` on them. */
export const CSRF_VARY = 'Origin, Sec-Fetch-Site'

/**
 * A `Vary` value with `Origin` and `Sec-Fetch-Site` added to `existing` (kept as is, no
 * duplicates; `*` stays `*`). Set it on responses whose CSRF decision read those headers, so no
 * cache serves one origin's answer to another (checklist 47).
 *
 * @example
 * response.headers.set('vary', csrfVary(response.headers.get('vary')))
 */
export function csrfVary(existing?: string | readonly string[] | number | null): string {
  const current = (Array.isArray(existing) ? existing.join(',') : existing == null ? '' : String(existing))
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean)
  if (current.includes('*')) return '*'
  const seen = new Set(current.map((name) => name.toLowerCase()))
  for (const name of CSRF_VARY.split(', ')) if (!seen.has(name.toLowerCase())) current.push(name)
  return current.join(', ')
}

/**
 * A 403 answer naming the reason, with `Vary: Origin, Sec-Fetch-Site` and `Cache-Control: no-store`,
 * for a failed result or a caught {@link CsrfError}.
 */
export function csrfForbidden(refusal: CsrfFailure | CsrfError): Response {
  const reason = 'reason' in refusal ? refusal.reason : refusal.code
  return new Response(`Forbidden: CSRF check failed (${reason})\n`, {
    status: 403,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', vary: CSRF_VARY },
  })
}

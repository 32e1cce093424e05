// Header chores every adapter shares: merging our Set-Cookie lines into the ones a response
// already has, keeping the response out of shared caches, and reading X-Forwarded-Proto.

/** Lines of a Set-Cookie header value as node:http keeps it (undefined, a string, or a list). */
export function setCookieLines(value: unknown): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)]
}

/** The cookie name a Set-Cookie line sets (leading whitespace ignored, as browsers do). */
function nameOf(line: string): string {
  const eq = line.indexOf('=')
  return (eq === -1 ? line : line.slice(0, eq)).trim()
}

/**
 * The response's Set-Cookie lines with ours in place of any earlier line for the same cookie
 * names: one Set-Cookie per cookie name, whatever ran before (review 17). `lines`: ours, one per
 * cookie, already serialised.
 */
export function mergeSetCookie(previous: unknown, lines: readonly string[]): string[] {
  const ours = new Set(lines.map(nameOf))
  const kept = setCookieLines(previous).filter((line) => !ours.has(nameOf(line)))
  return [...kept, ...lines]
}

/**
 * The Cache-Control of a response that sets the session cookie: no shared cache may keep it (it
 * would hand one visitor's cookie to the next). None given: `no-store`. `private` or `no-store`
 * given: unchanged. Otherwise `public`, `s-maxage` and `proxy-revalidate` (shared-cache
 * directives) are dropped and `private` leads; the rest (`max-age`, ...) stays, so the browser's
 * own cache still works as the app asked.
 */
export function privateCacheControl(value: string | null | undefined): string {
  if (!value) return 'no-store'
  const directives = value.split(',').map((part) => part.trim()).filter(Boolean)
  const names = directives.map((part) => part.split('=')[0]!.trim().toLowerCase())
  if (names.includes('private') || names.includes('no-store')) return value
  const kept = directives.filter((_, i) => names[i] !== 'public' && names[i] !== 's-maxage' && names[i] !== 'proxy-revalidate')
  return ['private', ...kept].join(', ')
}

/** The first X-Forwarded-Proto value is https: true; another value: false; none: undefined. */
export function forwardedHttps(value: string | null | undefined): boolean | undefined {
  if (!value) return undefined
  return value.split(',')[0]!.trim().toLowerCase() === 'https'
}

/**
 * Puts the session's Set-Cookie lines on Web `Headers`, in place of earlier lines for the same
 * cookie names, and keeps a shared cache from storing the response. Throws on immutable headers.
 */
export function setSessionCookies(headers: Headers, lines: readonly string[]): void {
  const merged = mergeSetCookie(headers.getSetCookie(), lines)
  headers.delete('set-cookie')
  for (const line of merged) headers.append('set-cookie', line)
  const given = headers.get('cache-control')
  const cacheControl = privateCacheControl(given)
  if (cacheControl !== given) headers.set('cache-control', cacheControl)
}

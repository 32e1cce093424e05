// The Web adapter (Request/Response: proxy.ts, route handlers given a Request, Hono, Bun, Deno,
// Workers): reads the Cookie header of a Request, sets Set-Cookie on a Response's Headers.
import type { RequestContext } from '../core/context.js'
import { HeaderCookies, type OutgoingCookie } from '../core/cookie.js'
import { SessionError } from '../core/errors.js'
import type { RequestLike, ResponseLike } from '../core/frameworks.js'
import { forwardedHttps, mergeSetCookie, privateCacheControl } from './headers.js'

export function webContext(request: RequestLike, response: ResponseLike | undefined, trustProxy: boolean): RequestContext {
  const secure = (trustProxy ? forwardedHttps(request.headers.get('x-forwarded-proto')) : undefined) ?? request.url.startsWith('https:')
  return {
    // A Web Request's header has no size limit: HeaderCookies reads a bounded part, once.
    cookies: () => new HeaderCookies(request.headers.get('cookie')),
    host: () => request.headers.get('host') ?? hostOf(request.url),
    secure,
    readOnly: false,
    cookiesFirst: false,
    key: request,
    apply(cookies: readonly OutgoingCookie[], lines: readonly string[]) {
      if (!response) return // no response given: commit() hands the Set-Cookie values to the caller
      const headers = response.headers
      try {
        const merged = mergeSetCookie(headers.getSetCookie(), lines)
        headers.delete('set-cookie')
        for (const line of merged) headers.append('set-cookie', line)
        const given = headers.get('cache-control')
        const cacheControl = privateCacheControl(given)
        if (cacheControl !== given) headers.set('cache-control', cacheControl)
      } catch (cause) {
        throw new SessionError('HEADERS_SENT', 'The session cookie cannot be set: this Response has immutable headers. Pass a response whose headers can change (new Response(), NextResponse.next()).', { cause })
      }
    },
  }
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host
  } catch {
    return undefined
  }
}

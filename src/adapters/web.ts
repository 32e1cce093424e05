// The Web adapter (Request/Response: proxy.ts, route handlers given a Request, Hono, Bun, Deno,
// Workers): reads the Cookie header of a Request, sets Set-Cookie on a Response's Headers.
import type { RequestContext } from '../core/context.js'
import { HeaderCookies, type OutgoingCookie } from '../core/cookie.js'
import { SessionError } from '../core/errors.js'
import type { RequestLike, ResponseLike } from '../core/frameworks.js'
import { forwardedHttps, setSessionCookies } from './headers.js'

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
      try {
        setSessionCookies(response.headers, lines)
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

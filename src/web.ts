/**
 * Sessions for any `Request`/`Response` runtime: Bun, Deno, Cloudflare Workers, Vercel Edge
 * functions, Hono, Next.js proxy.ts. Uses Web APIs only.
 *
 * @example
 * import { createSessions } from 'tessera'
 * import { withSession } from 'tessera/web'
 * const sessions = createSessions<{ views?: number }>()
 * export default {
 *   fetch: withSession(sessions, async (request, session) => {
 *     session.data.views = (session.data.views ?? 0) + 1
 *     return new Response(`views: ${session.data.views}`)
 *   }),
 * }
 *
 * @module
 */
import { setSessionCookies } from './adapters/headers.js'
import type { RequestLike } from './core/frameworks.js'
import type { Session } from './core/session.js'
import type { Sessions } from './sessions.js'

/**
 * Wraps a fetch handler: loads the session, runs the handler, commits, and puts the session's
 * `Set-Cookie` headers on the handler's response (on a copy when its headers are immutable).
 */
export function withSession<Data extends object, Req extends RequestLike = Request>(
  sessions: Sessions<Data>,
  handler: (request: Req, session: Session<Data>) => Response | Promise<Response>,
): (request: Req) => Promise<Response> {
  return async (request) => {
    // The session's cookies gather here as they are set, including the expired cookie that
    // destroy() sends at once, before the handler has a response; then they go onto its response.
    const collected = { headers: new Headers() }
    const session = await sessions.get(request, collected)
    const response = await handler(request, session)
    await session.commit()
    const cookies = collected.headers.getSetCookie()
    if (cookies.length === 0) return response
    let out = response
    try {
      setSessionCookies(out.headers, cookies)
    } catch {
      out = new Response(response.body, response) // immutable headers (Response.redirect, fetch): copy
      setSessionCookies(out.headers, cookies)
    }
    return out
  }
}

export { createSessions, type Sessions } from './index.js'
export { Session } from './core/session.js'
export { SessionError } from './core/errors.js'

/**
 * Next.js helpers: the App Router surfaces in one line each. The Pages Router needs none:
 * `sessions.get(req, res)` (API routes) and `sessions.get(context)` (`getServerSideProps`)
 * commit by themselves before the response leaves.
 *
 * Uses Web APIs only (and `next/headers`), so it runs in proxy.ts, on Node and on the Edge runtime.
 *
 * @example
 * // app/actions.ts
 * 'use server'
 * import { getSession } from 'tessera/next'
 * import { sessions } from '@/lib/session'
 *
 * export async function increment() {
 *   const session = await getSession(sessions)
 *   session.data.count = (session.data.count ?? 0) + 1
 *   await session.commit()
 * }
 *
 * @module
 */
import { cookies } from 'next/headers.js'
import type { RequestLike, ResponseLike } from './core/frameworks.js'
import type { Session } from './core/session.js'
import type { Sessions } from './sessions.js'

/**
 * The request's session in a server component, a server action or a route handler (it calls
 * `cookies()` for you). Server components may only read it: a write there fails at commit with
 * `SessionError` `READ_ONLY`. Server actions and route handlers change it and then
 * `await session.commit()`.
 */
export async function getSession<Data extends object>(sessions: Sessions<Data>): Promise<Session<Data>> {
  return sessions.get(await cookies())
}

/**
 * For proxy.ts: loads the request's session and, on a GET or HEAD request, commits it, which
 * refreshes the rolling expiry when a touch is due (store expiry moved, cookie re-sent on
 * `response`). Returns the session, for guards.
 *
 * Other methods are left alone: they reach a server action or route handler that commits the
 * session itself, and a second cookie from the proxy would make two `Set-Cookie` headers for one
 * name in the same response. Change the session here only if you commit it yourself.
 *
 * @example
 * // proxy.ts
 * export async function proxy(request: NextRequest) {
 *   const response = NextResponse.next()
 *   const session = await refreshSession(sessions, request, response)
 *   if (!session.data.user) return NextResponse.redirect(new URL('/login', request.url))
 *   return response
 * }
 */
export async function refreshSession<Data extends object>(
  sessions: Sessions<Data>,
  request: RequestLike & { readonly method?: string },
  response: ResponseLike,
): Promise<Session<Data>> {
  const session = await sessions.get(request, response)
  const method = request.method ?? 'GET'
  if (method === 'GET' || method === 'HEAD') await session.commit()
  return session
}

export { createSessions, type Sessions } from './index.js'
export { Session } from './core/session.js'
export { SessionError } from './core/errors.js'

// proxy.ts (Next.js 16, Node.js runtime): runs before every page. It refreshes the session's
// rolling expiry and keeps visitors without a user out of /account.
import { NextResponse, type NextRequest } from 'next/server'
import { refreshSession } from 'tessera/next'
import { sessions } from '@/lib/session'

export async function proxy(request: NextRequest) {
  const response = NextResponse.next()
  const session = await refreshSession(sessions, request, response)
  if (request.nextUrl.pathname.startsWith('/account') && !session.data.user) {
    const login = new URL('/login', request.url)
    login.searchParams.set('next', request.nextUrl.pathname)
    return NextResponse.redirect(login)
  }
  // Shows that the proxy sees the same store as pages and routes (the e2e test reads it).
  response.headers.set('x-session', session.isNew ? 'none' : 'active')
  return response
}

export const config = {
  matcher: ['/((?!_next/static|_next/image|favicon.ico|icon.svg).*)'],
}

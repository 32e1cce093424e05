// An App Router route handler: getSession() reads the session from cookies(); a change needs
// `await session.commit()`, which sets the cookie through cookies() on this response.
import { csrfForbidden, verifyOrigin } from 'tessera/csrf'
import { getSession } from 'tessera/next'
import { allowedOrigins } from '@/lib/csrf'
import { sessions } from '@/lib/session'

export async function GET() {
  const session = await getSession(sessions)
  return Response.json({ count: session.data.count ?? 0 })
}

// Called by fetch() from the app's own pages. The browser sets Origin and Sec-Fetch-Site on such
// a request and a page on another site cannot forge them, so the origin check is the defence
// here; a form post (which any site can send) also carries a token: see pages/api/reset.ts.
export async function POST(request: Request) {
  const origin = verifyOrigin(request, { allowed: allowedOrigins() })
  if (!origin.ok) return csrfForbidden(origin)
  const session = await getSession(sessions)
  session.data.count = (session.data.count ?? 0) + 1
  await session.commit()
  return Response.json({ count: session.data.count })
}

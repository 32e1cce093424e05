// An App Router route handler: getSession() reads the session from cookies(); a change needs
// `await session.commit()`, which sets the cookie through cookies() on this response.
import { getSession } from 'tessera/next'
import { sessions } from '@/lib/session'

export async function GET() {
  const session = await getSession(sessions)
  return Response.json({ count: session.data.count ?? 0 })
}

export async function POST() {
  const session = await getSession(sessions)
  session.data.count = (session.data.count ?? 0) + 1
  await session.commit()
  return Response.json({ count: session.data.count })
}

// An Edge runtime route handler. Edge code cannot reach the Node.js process's store, so this
// route keeps its whole session sealed in its own cookie with the CookieStore (AES-256-GCM via
// crypto.subtle). withSession() from tessera/web loads the session, runs the handler, commits
// and puts the Set-Cookie on the response.
import { CookieStore, createSessions } from 'tessera'
import { withSession } from 'tessera/web'

export const runtime = 'edge'

const edgeSessions = createSessions<{ views?: number }>({
  name: 'edge_sid',
  secrets: process.env.SESSION_SECRET ?? 'tessera-demo: development only, set SESSION_SECRET in production',
  store: new CookieStore(),
})

export const GET = withSession(edgeSessions, async (_request, session) => {
  session.data.views = (session.data.views ?? 0) + 1
  return Response.json({ runtime: 'edge', views: session.data.views })
})

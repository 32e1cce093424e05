// An Edge runtime route handler. It has its own sessions (own cookie name): the app's store lives
// in the Node.js process, which Edge code cannot reach. withSession() from tessera/web loads the
// session, runs the handler, commits and puts the Set-Cookie on the response.
import { createSessions, MemoryStore } from 'tessera'
import { withSession } from 'tessera/web'

export const runtime = 'edge'

const edgeSessions = createSessions<{ views?: number }>({
  name: 'edge_sid',
  secrets: process.env.SESSION_SECRET ?? 'tessera-demo: development only, set SESSION_SECRET in production',
  store: new MemoryStore(),
})

export const GET = withSession(edgeSessions, async (_request, session) => {
  session.data.views = (session.data.views ?? 0) + 1
  return Response.json({ runtime: 'edge', views: session.data.views })
})

// next-session 4 in a Pages API route: `import nextSession from 'next-session'` became
// 'tessera/compat/next-session'. The session is the data itself; it commits at the end.
import type { NextApiRequest, NextApiResponse } from 'next'
import nextSession from 'tessera/compat/next-session'

const getSession = nextSession<{ views?: number }>({ name: 'ns_sid' })

export default async function handler(req: NextApiRequest, res: NextApiResponse) {
  const session = await getSession(req, res)
  session.views = (session.views ?? 0) + 1
  res.json({ views: session.views })
}

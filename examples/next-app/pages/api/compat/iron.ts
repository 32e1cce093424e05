// iron-session 8 in a Pages API route: `import { getIronSession } from 'iron-session'` became
// 'tessera/compat/iron-session', nothing else changed. Cookies iron-session sealed still open.
import type { NextApiRequest, NextApiResponse } from 'next'
import { getIronSession } from 'tessera/compat/iron-session'
import { ironOptions, type IronData } from '@/lib/compat'

export default async function handler(req: NextApiRequest, res: NextApiResponse) {
  const session = await getIronSession<IronData>(req, res, ironOptions)
  session.views = (session.views ?? 0) + 1
  await session.save()
  res.json({ surface: 'pages', views: session.views, user: session.user ?? null })
}

// iron-session 6's API-route wrapper, same options, same cookie as the v8 routes.
import type { NextApiRequest, NextApiResponse } from 'next'
import { withIronSessionApiRoute } from 'tessera/compat/iron-session'
import { ironOptions, type IronData } from '@/lib/compat'

type Req = NextApiRequest & { session: IronData & { save(): Promise<void> } }

export default withIronSessionApiRoute(async (req: Req, res: NextApiResponse) => {
  req.session.views = (req.session.views ?? 0) + 1
  await req.session.save()
  res.json({ surface: 'pages-v6', views: req.session.views, user: req.session.user ?? null })
}, ironOptions)

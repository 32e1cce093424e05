// next-session 3's withSession() wrapper around an API route: `req.session` is there when it runs.
import type { NextApiRequest, NextApiResponse } from 'next'
import { withSession } from 'tessera/compat/next-session'

type Req = NextApiRequest & { session: { views?: number } }

export default withSession(
  (req: Req, res: NextApiResponse) => {
    req.session.views = (req.session.views ?? 0) + 1
    res.json({ views: req.session.views })
  },
  { name: 'ns3_sid' },
)

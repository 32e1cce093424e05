// A Pages Router API route: node:http req/res, so the session commits by itself before the
// response leaves (autoCommit). Anything changed here is saved without a commit() call.
import type { NextApiRequest, NextApiResponse } from 'next'
import { sessions } from '@/lib/session'

export default async function me(req: NextApiRequest, res: NextApiResponse) {
  const session = await sessions.get(req, res)
  res.status(200).json({ user: session.data.user ?? null, count: session.data.count ?? 0, cart: session.data.cart ?? [] })
}

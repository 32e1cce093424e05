// A Pages Router API route behind a plain HTML form (pages/pages-demo.tsx). The form carries a
// synchronizer token that getServerSideProps stored in the session; verifyRequest checks the
// origin, then that token (Next.js has already parsed the form into req.body).
import type { NextApiRequest, NextApiResponse } from 'next'
import { csrfVary, verifyRequest } from 'tessera/csrf'
import { allowedOrigins } from '@/lib/csrf'
import { sessions } from '@/lib/session'

export default async function reset(req: NextApiRequest, res: NextApiResponse) {
  if (req.method !== 'POST') return res.setHeader('Allow', 'POST').status(405).send('POST only')
  const session = await sessions.get(req, res)
  const result = await verifyRequest(session, req, { allowed: allowedOrigins() })
  res.setHeader('Vary', csrfVary(res.getHeader('Vary')))
  if (!result.ok) return res.status(403).send(`CSRF check failed (${result.reason})`)
  session.data.count = 0 // saved by autoCommit before the redirect leaves
  res.redirect(303, '/pages-demo')
}

// iron-session 8 on node:http: the whole session sealed into the cookie (iron, PBKDF2 per seal
// and unseal); `save()` after every change, as its docs show.
import { fail, listen, newSessionData, notFound, pathOf, scenarioArg, send } from './common.mjs'

scenarioArg(['iron-session'])
const { getIronSession } = await import('iron-session')
const options = { password: 'bench-secret-0123456789abcdefghijklmnopqrstuvwxyz', cookieName: 'sid' }

listen(async (req, res) => {
  const path = pathOf(req)
  const modify = path === '/modify'
  if (!modify && path !== '/read') return notFound(res)
  try {
    const session = await getIronSession(req, res, options)
    if (session.n === undefined) {
      Object.assign(session, newSessionData(modify ? 1 : 0))
      await session.save()
    } else if (modify) {
      session.n++
      await session.save()
    }
    send(res, session.n)
  } catch (error) {
    fail(res, error)
  }
})

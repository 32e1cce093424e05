// next-session 4 (the library Tessera's next-session compat replaces), on node:http:
//   next-session        its default in-process MemoryStore (JSON strings in a Map)
//   next-session-redis  connect-redis 9 with a node-redis client, through next-session's
//                       promisifyStore() (next-session/lib/compat), as its README shows.
//                       connect-redis ≥ 7 is a class extending express-session's Store, so the
//                       README's `RedisStoreFactory(expressSession)` step no longer applies.
import { fail, listen, newSessionData, notFound, pathOf, scenarioArg, send } from './common.mjs'

const scenario = scenarioArg(['next-session', 'next-session-redis'])
const { default: nextSession } = await import('next-session')

let getSession
let close = async () => {}
if (scenario === 'next-session') {
  getSession = nextSession()
} else {
  const { promisifyStore } = await import('next-session/lib/compat')
  const { RedisStore } = await import('connect-redis')
  const { createClient } = await import('redis')
  const client = createClient({ url: process.env.REDIS_URL })
  client.on('error', (e) => console.error('redis:', e.message))
  await client.connect()
  getSession = nextSession({ store: promisifyStore(new RedisStore({ client, prefix: 'ns:' })) })
  close = () => client.quit()
}

listen(async (req, res) => {
  const path = pathOf(req)
  const modify = path === '/modify'
  if (!modify && path !== '/read') return notFound(res)
  try {
    const session = await getSession(req, res)
    if (session.n === undefined) Object.assign(session, newSessionData(modify ? 1 : 0))
    else if (modify) session.n++
    send(res, session.n)
  } catch (error) {
    fail(res, error)
  }
}, close)

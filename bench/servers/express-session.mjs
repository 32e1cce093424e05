// express-session 1.19 (the Express standard), with its defaults for a login-style app
// (resave: false, saveUninitialized: false):
//   express-session        inside Express 5, its MemoryStore
//   express-session-redis  inside Express 5, connect-redis 9 with a node-redis client
//   express-session-http   on plain node:http, the middleware called by hand, its MemoryStore
import { fail, listen, newSessionData, notFound, pathOf, scenarioArg, send } from './common.mjs'

const scenario = scenarioArg(['express-session', 'express-session-redis', 'express-session-http'])
const SECRET = 'bench-secret-0123456789abcdefghijklmnopqrstuvwxyz'
const { default: session } = await import('express-session')

let store
let close = async () => {}
if (scenario === 'express-session-redis') {
  const { RedisStore } = await import('connect-redis')
  const { createClient } = await import('redis')
  const client = createClient({ url: process.env.REDIS_URL })
  client.on('error', (e) => console.error('redis:', e.message))
  await client.connect()
  store = new RedisStore({ client, prefix: 'es:' })
  close = () => client.quit()
}
const middleware = session({ secret: SECRET, resave: false, saveUninitialized: false, ...(store ? { store } : {}) })

/** The scenario logic on req.session; returns n. */
function use(s, modify) {
  if (s.n === undefined) Object.assign(s, newSessionData(modify ? 1 : 0))
  else if (modify) s.n++
  return s.n
}

if (scenario === 'express-session-http') {
  listen((req, res) => {
    const path = pathOf(req)
    const modify = path === '/modify'
    if (!modify && path !== '/read') return notFound(res)
    middleware(req, res, (error) => {
      if (error) return fail(res, error)
      send(res, use(req.session, modify))
    })
  }, close)
} else {
  const { default: express } = await import('express')
  const { createServer } = await import('node:http')
  const app = express()
  app.use(middleware)
  app.get('/read', (req, res) => res.type('text/plain').send(String(use(req.session, false))))
  app.get('/modify', (req, res) => res.type('text/plain').send(String(use(req.session, true))))
  listen(createServer(app), close)
}

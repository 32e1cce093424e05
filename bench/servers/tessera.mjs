// Tessera scenarios, all through the BUILT package (`npm run build`; `tessera` resolves to this
// repository through the package's self-reference):
//   tessera-memory    default options, its own MemoryStore, node:http
//   tessera-signed    the same with `secrets` (the cookie carries id.HMAC)
//   tessera-cookie    CookieStore: the session sealed into the cookie (explicit commit)
//   tessera-redis     RedisStore({ client }) on REDIS_URL (BENCH_REDIS_CLIENT picks the client)
//   tessera-postgres  PostgresStore({ pool }) on PG_URL
//   tessera-upstash   UpstashStore({ client }) over @upstash/redis on the local Upstash REST server
//   tessera-express   default memory store inside Express 5 through sessionMiddleware (tessera/node)
// Switches (set per variant by BENCH_VARIANTS, see lib/scenarios.mjs):
//   BENCH_TESSERA_DIST=<dir>      load another build (<dir>/esm/index.js) instead of this repository's dist/
//   BENCH_HIDE_NODE_BUILTINS=1    remove process.getBuiltinModule first, as on runtimes without it (Edge)
//   BENCH_HASH_IDS=1              tessera-memory and tessera-signed with `hashIds: true` (a SHA-256 per request)
// A scenario whose store or entry does not exist yet prints {"skip": "..."} and exits.
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { fail, isMissingModule, listen, newSessionData, notFound, pathOf, scenarioArg, send, skip } from './common.mjs'

const scenario = scenarioArg(['tessera-memory', 'tessera-signed', 'tessera-cookie', 'tessera-redis', 'tessera-postgres', 'tessera-express', 'tessera-upstash'])
const SECRET = 'bench-secret-0123456789abcdefghijklmnopqrstuvwxyz'

if (process.env.BENCH_HIDE_NODE_BUILTINS === '1') delete process.getBuiltinModule
const dist = process.env.BENCH_TESSERA_DIST
/** An entry of the package under test: this repository's build, or the one BENCH_TESSERA_DIST names. */
const entry = (name) => (dist ? pathToFileURL(path.join(path.resolve(dist), 'esm', `${name === 'tessera' ? 'index' : name.slice('tessera/'.length)}.js`)).href : name)
const tessera = await import(entry('tessera'))
const { createSessions, MemoryStore } = tessera
const hashIds = process.env.BENCH_HASH_IDS === '1' ? { hashIds: true } : {}

/** Loads an optional entry; a missing one skips the scenario with a clear line. */
async function optional(name, exportName) {
  let mod
  try {
    mod = await import(entry(name))
  } catch (error) {
    if (isMissingModule(error)) skip(`not built yet: ${name} cannot be imported (${error.code})`)
    throw error
  }
  if (typeof mod[exportName] !== 'function') skip(`not built yet: ${name} has no ${exportName} export`)
  return mod[exportName]
}

/**
 * The scenario logic on top of any session: read answers n (creating the session with the
 * payload when it is new), modify increments n.
 */
function useSession(session, modify) {
  const data = session.data
  if (data.n === undefined) {
    session.data = newSessionData(modify ? 1 : 0)
    return modify ? 1 : 0
  }
  if (modify) return (data.n += 1)
  return data.n
}

/** A node:http handler over `sessions`; `commit` for stores that must commit before the response (cookie store). */
function handler(sessions, { commit = false } = {}) {
  return async (req, res) => {
    const path = pathOf(req)
    const modify = path === '/modify'
    if (!modify && path !== '/read') return notFound(res)
    try {
      const session = await sessions.get(req, res)
      const n = useSession(session, modify)
      if (commit) await session.commit()
      send(res, n)
    } catch (error) {
      fail(res, error)
    }
  }
}

switch (scenario) {
  case 'tessera-memory': {
    listen(handler(createSessions({ store: new MemoryStore(), ...hashIds })))
    break
  }
  case 'tessera-signed': {
    listen(handler(createSessions({ store: new MemoryStore(), secrets: [SECRET], ...hashIds })))
    break
  }
  case 'tessera-cookie': {
    if (typeof tessera.CookieStore !== 'function') skip('not built yet: tessera has no CookieStore export')
    const { CookieStore } = tessera
    let sessions
    try {
      sessions = createSessions({ store: new CookieStore(), secrets: [SECRET] })
    } catch (error) {
      // Whichever side takes the secrets: the core (createSessions) or the store itself.
      if (!(error instanceof TypeError)) throw error
      sessions = createSessions({ store: new CookieStore({ secrets: [SECRET] }), secrets: [SECRET] })
    }
    listen(handler(sessions, { commit: true }))
    break
  }
  case 'tessera-redis': {
    const RedisStore = await optional('tessera/redis', 'RedisStore')
    const { rawRedisClient } = await import('./redis-client.mjs')
    const client = await rawRedisClient()
    listen(handler(createSessions({ store: new RedisStore({ client }) })), () => client.quit())
    break
  }
  case 'tessera-postgres': {
    const PostgresStore = await optional('tessera/postgres', 'PostgresStore')
    if (!process.env.PG_URL) throw new Error('PG_URL is not set')
    const { default: pg } = await import('pg')
    const pool = new pg.Pool({ connectionString: process.env.PG_URL, max: 10 })
    listen(handler(createSessions({ store: new PostgresStore({ pool }) })), () => pool.end())
    break
  }
  case 'tessera-upstash': {
    const UpstashStore = await optional('tessera/upstash', 'UpstashStore')
    const { upstashClient } = await import('./upstash-client.mjs')
    listen(handler(createSessions({ store: new UpstashStore({ client: await upstashClient() }) })))
    break
  }
  case 'tessera-express': {
    const sessionMiddleware = await optional('tessera/node', 'sessionMiddleware')
    const { default: express } = await import('express')
    const app = express()
    app.use(sessionMiddleware(createSessions({ store: new MemoryStore() })))
    for (const [path, modify] of [['/read', false], ['/modify', true]]) {
      app.get(path, (req, res) => {
        res.type('text/plain').send(String(useSession(req.session, modify)))
      })
    }
    const { createServer } = await import('node:http')
    listen(createServer(app))
    break
  }
}

// The floors every session library is measured against, on plain node:http:
//   bare         no session at all: a fixed body
//   bare-cookie  parses the Cookie header and sends a Set-Cookie on every response (fixed body)
//   bare-map     a complete in-process session: cookie -> plain object in a Map, created on a
//                miss; read answers n, modify increments it in place (the physical limit of an
//                in-process session)
//   bare-redis   a complete Redis session: cookie -> GET key (JSON), modify -> GET + SET
//                (same client as Tessera's Redis scenario; REDIS_URL)
//   bare-upstash the same over the local Upstash REST server with @upstash/redis: GET, and SET …
//                EX on modify, one HTTP request each (same client as Tessera's Upstash scenario)
import { randomBytes } from 'node:crypto'
import { fail, listen, newSessionData, notFound, parseCookies, pathOf, readCookie, scenarioArg, send } from './common.mjs'

const scenario = scenarioArg(['bare', 'bare-cookie', 'bare-map', 'bare-redis', 'bare-upstash'])
const COOKIE = 'sid'
const ATTRS = '; Path=/; HttpOnly; SameSite=Lax'
const TTL_S = 14 * 24 * 3600

const newId = () => randomBytes(32).toString('base64url')

if (scenario === 'bare') {
  listen((req, res) => {
    const path = pathOf(req)
    if (path !== '/read' && path !== '/modify') return notFound(res)
    send(res, 'ok')
  })
}

if (scenario === 'bare-cookie') {
  listen((req, res) => {
    const path = pathOf(req)
    if (path !== '/read' && path !== '/modify') return notFound(res)
    const id = parseCookies(req.headers.cookie)[COOKIE] ?? newId()
    res.setHeader('Set-Cookie', `${COOKIE}=${id}${ATTRS}`)
    send(res, 'ok')
  })
}

if (scenario === 'bare-map') {
  const sessions = new Map()
  listen((req, res) => {
    const path = pathOf(req)
    const modify = path === '/modify'
    if (!modify && path !== '/read') return notFound(res)
    const id = readCookie(req.headers.cookie, COOKIE)
    let session = id === undefined ? undefined : sessions.get(id)
    if (session === undefined) {
      const fresh = newId()
      session = newSessionData(0)
      sessions.set(fresh, session)
      res.setHeader('Set-Cookie', `${COOKIE}=${fresh}${ATTRS}`)
    }
    if (modify) session.n++
    send(res, session.n)
  })
}

if (scenario === 'bare-redis' || scenario === 'bare-upstash') {
  const client = scenario === 'bare-redis' ? await (await import('./redis-client.mjs')).createRedisClient() : await upstashFloorClient()
  const key = (id) => `bare:${id}`
  listen(
    async (req, res) => {
      const path = pathOf(req)
      const modify = path === '/modify'
      if (!modify && path !== '/read') return notFound(res)
      try {
        const id = readCookie(req.headers.cookie, COOKIE)
        const raw = id === undefined ? null : await client.get(key(id))
        if (raw === null) {
          const fresh = newId()
          const session = newSessionData(modify ? 1 : 0)
          await client.set(key(fresh), JSON.stringify(session), TTL_S)
          res.setHeader('Set-Cookie', `${COOKIE}=${fresh}${ATTRS}`)
          return send(res, session.n)
        }
        const session = JSON.parse(raw)
        if (modify) {
          session.n++
          await client.set(key(id), JSON.stringify(session), TTL_S)
        }
        send(res, session.n)
      } catch (error) {
        fail(res, error)
      }
    },
    () => client.quit(),
  )
}

/** get/set(key, value, ttlSeconds)/quit over @upstash/redis, for the bare-upstash floor. */
async function upstashFloorClient() {
  const { upstashClient } = await import('./upstash-client.mjs')
  const redis = await upstashClient()
  return {
    get: (key) => redis.get(key),
    set: (key, value, ttl) => redis.set(key, value, { ex: ttl }),
    quit: async () => {},
  }
}

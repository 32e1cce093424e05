// Sessions are configured once, here, and imported by every page, action, route and proxy.ts.
import { createSessions, type SessionStore } from 'tessera'

export interface AppSession {
  user?: { name: string }
  count?: number
  cart?: string[]
}

const DEV_SECRET = 'tessera-demo: development only, set SESSION_SECRET in production'
const WARNED = Symbol.for('tessera-demo.warned')

function secret(): string {
  const value = process.env.SESSION_SECRET
  if (value) return value
  // Each Next.js bundle (pages, routes, proxy.ts) evaluates this module: warn once per process.
  const flags = globalThis as { [WARNED]?: boolean }
  if (!flags[WARNED]) {
    flags[WARNED] = true
    console.warn('tessera-demo: SESSION_SECRET is not set; using a development-only secret. Set it (openssl rand -base64 32) before deploying.')
  }
  return DEV_SECRET
}

// The store entries and their clients load at run time, only when SESSION_STORE asks for them
// (turbopackIgnore: not bundled), so the default build needs neither Redis, PostgreSQL nor Upstash.
const load = (specifier: string): Promise<Record<string, any>> => import(/* turbopackIgnore: true */ specifier)

/**
 * SESSION_STORE picks a real store; unset, the default in-process MemoryStore.
 * - redis://… or rediss://…: RedisStore over ioredis.
 * - postgres://… or postgresql://…: PostgresStore over pg.
 * - upstash://TOKEN@HOST[:PORT] (or upstash+https://…): UpstashStore over @upstash/redis, to
 *   https://HOST[:PORT] with the REST token TOKEN (percent-encoded); upstash+http://… talks plain
 *   HTTP, for a local REST server only (the test harness's).
 */
async function storeFromEnv(url: string | undefined): Promise<SessionStore | undefined> {
  if (!url) return undefined
  if (/^rediss?:\/\//.test(url)) {
    const [{ RedisStore }, { Redis }] = await Promise.all([load('tessera/redis'), load('ioredis')])
    return new RedisStore({ client: new Redis(url, { lazyConnect: true }) }) // connects at the first command: next build needs no Redis
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const [{ PostgresStore }, { Pool }] = await Promise.all([load('tessera/postgres'), load('pg')])
    // Timeouts: node-postgres waits forever by default. The listener: pg reports a connection the
    // server closed (a restart, a failover) as an 'error' event on the Pool.
    const pool = new Pool({ connectionString: url, connectionTimeoutMillis: 2000, query_timeout: 2000, statement_timeout: 2000 })
    pool.on('error', (error: Error) => console.error('session store: idle PostgreSQL connection lost:', error.message))
    return new PostgresStore({ pool })
  }
  if (/^upstash(\+https?)?:\/\//.test(url)) {
    const parsed = new URL(url)
    const token = decodeURIComponent(parsed.username)
    if (!token || !parsed.hostname) throw new TypeError('SESSION_STORE=upstash://TOKEN@HOST[:PORT] needs the REST token and the host')
    const scheme = parsed.protocol === 'upstash+http:' ? 'http' : 'https'
    const [{ UpstashStore }, { Redis }] = await Promise.all([load('tessera/upstash'), load('@upstash/redis')])
    return new UpstashStore({ client: new Redis({ url: `${scheme}://${parsed.host}`, token }) })
  }
  throw new TypeError(`SESSION_STORE must start with redis://, rediss://, postgres://, postgresql:// or upstash://, got ${url.replace(/\/\/[^@/]*@/, '//…@')}`)
}

// One client per process, like the default store: every bundle shares it.
const STORE = Symbol.for('tessera-demo.store')
const shared = globalThis as { [STORE]?: Promise<SessionStore | undefined> }
const store = await (shared[STORE] ??= storeFromEnv(process.env.SESSION_STORE))

export const sessions = createSessions<AppSession>({
  secrets: secret(),
  ...(store ? { store } : {}),
  // Seconds between rolling refreshes of an unchanged session (default: an hour). The e2e test lowers it.
  ...(process.env.SESSION_TOUCH_AFTER ? { touchAfter: Number(process.env.SESSION_TOUCH_AFTER) } : {}),
})

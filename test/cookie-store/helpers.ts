// Shared by the cookie-store tests: a sessions factory, a real node:http app, a Web app, and
// cookie helpers. Everything goes through createSessions, as an application would.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createSessions, SessionError, type Session, type Sessions, type SessionsOptions } from '../../src/index.js'
import { CookieStore, type CookieStoreOptions } from '../../src/stores/cookie-store.js'
import { serve, type Running } from '../helpers.js'

export type AnyData = Record<string, unknown>

export const SECRET_A = 'cookie-store-secret-A-0123456789abcdefghij'
export const SECRET_B = 'cookie-store-secret-B-0123456789abcdefghij'
export const SECRET_C = 'cookie-store-secret-C-0123456789abcdefghij'
export const IRON_PASSWORD = 'iron-session-password-at-least-32-characters'

/**
 * createSessions with a CookieStore. The explicit `init` below is what createSessions does itself
 * once the core hands the secrets to the store (see the report / `core-handover.test.ts`); until
 * then it stands in for it. Calling it twice with the same secrets is a no-op.
 */
export function cookieSessions<Data extends object = AnyData>(
  options: Omit<SessionsOptions, 'store'> & { store?: CookieStore; storeOptions?: CookieStoreOptions } = {},
): { sessions: Sessions<Data>; store: CookieStore } {
  const { store = new CookieStore(options.storeOptions), storeOptions: _, ...rest } = options
  const sessions = createSessions<Data>({ secrets: SECRET_A, ...rest, store })
  store.init({ secrets: sessions.config.secrets })
  return { sessions, store }
}

/** `sessions.get(req, res)`; the cast works around the core's NodeRequest typing (see the report). */
export function getNode<Data extends object>(sessions: Sessions<Data>, req: IncomingMessage, res: ServerResponse): Promise<Session<Data>> {
  return sessions.get(req as never, res)
}

/**
 * A real node:http app over the sessions:
 * - `GET /` → `{ isNew, id, data, userId, createdAt, expiresAt }`
 * - `POST /set` with a JSON body → merges it into the data
 * - `POST /replace` with a JSON body → replaces the data
 * - `POST /login?user=u` → binds the user and regenerates
 * - `POST /logout` → destroys
 * - `POST /touch` → touch()
 * Commits explicitly (the cookie store seals asynchronously); a SessionError from it is reported in
 * an `x-commit-error` header and a 409 (autoCommit does not retry a commit the app saw fail).
 * `?auto` leaves the commit to autoCommit (res.end).
 */
export async function nodeApp(sessions: Sessions<AnyData>): Promise<Running> {
  return serve(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const session = await getNode(sessions, req, res)
    const body = req.method === 'POST' ? await readBody(req) : undefined
    try {
      switch (url.pathname) {
        case '/set':
          Object.assign(session.data, body)
          break
        case '/replace':
          session.data = body as AnyData
          break
        case '/login':
          session.bindUser(url.searchParams.get('user') ?? 'user-1')
          await session.regenerate()
          break
        case '/logout':
          await session.destroy()
          break
        case '/touch':
          session.touch()
          break
      }
      if (!url.searchParams.has('auto')) await session.commit()
    } catch (error) {
      if (error instanceof SessionError) {
        res.setHeader('x-commit-error', error.code)
        res.statusCode = 409
        res.end(JSON.stringify({ error: error.code }))
        return
      }
      throw error
    }
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify(describeSession(session)))
  })
}

export interface Described {
  isNew: boolean
  id: string
  data: AnyData
  userId: string | undefined
  createdAt: number
  expiresAt: number
}

export function describeSession(session: Session<AnyData>): Described {
  return {
    isNew: session.isNew,
    id: session.id,
    data: { ...session.data },
    userId: session.userId,
    createdAt: session.createdAt.getTime(),
    expiresAt: session.expiresAt.getTime(),
  }
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  let text = ''
  for await (const chunk of req) text += chunk
  return text ? JSON.parse(text) : {}
}

/** One Web request through the sessions: returns the session seen, the Set-Cookie lines and the commit error, if any. */
export async function webRequest(
  sessions: Sessions<AnyData>,
  cookie: string | undefined,
  change?: (session: Session<AnyData>) => unknown,
): Promise<{ session: Described; setCookies: string[]; error?: unknown }> {
  const request = new Request('http://app.test/', { headers: cookie === undefined ? {} : { cookie } })
  const response = new Response('ok')
  const session = await sessions.get(request, response)
  let error: unknown
  try {
    await change?.(session)
    await session.commit()
  } catch (caught) {
    error = caught
  }
  return { session: describeSession(session), setCookies: response.headers.getSetCookie(), ...(error === undefined ? {} : { error }) }
}

/** `name=value` pairs of Set-Cookie lines that set (not expire) a cookie. */
export function setPairs(setCookies: readonly string[]): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of setCookies) {
    if (/max-age=0/i.test(line)) continue
    const pair = line.split(';')[0]!
    const eq = pair.indexOf('=')
    out.set(pair.slice(0, eq), pair.slice(eq + 1))
  }
  return out
}

/** Names of cookies the Set-Cookie lines expire. */
export function expiredNames(setCookies: readonly string[]): string[] {
  return setCookies.filter((line) => /max-age=0/i.test(line)).map((line) => line.slice(0, line.indexOf('=')))
}

/** A Cookie header from pairs, in the given order. */
export function cookieHeader(pairs: Iterable<readonly [string, string]>): string {
  return [...pairs].map(([name, value]) => `${name}=${value}`).join('; ')
}

/** Random-looking text that AES cannot shrink and JSON does not escape. */
export function filler(length: number, seed = 1): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
  let x = seed
  let out = ''
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) % 2147483648
    out += alphabet[x % alphabet.length]
  }
  return out
}

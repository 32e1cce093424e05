/**
 * Drop-in entry for apps on `iron-session` 8 (and 6's wrappers): change the import, keep the code.
 * For iron-session 9, import `tessera/compat/iron-session/v9`.
 *
 * - v8: `getIronSession(req, res, options)`, `getIronSession(cookies(), options)`,
 *   `getIronSession(request, response, options)`, `sealData`, `unsealData`.
 * - v6: `withIronSessionApiRoute`, `withIronSessionSsr` (options or `(req, res) => options`),
 *   `ironSession` (Express middleware); iron-session 6's 15-day default ttl.
 *
 * Wire-compatible by default: cookies are iron-session's `Fe26.2*…~2` seals with its `Max-Age`
 * (ttl − 60 s) and cookie defaults, so the real iron-session opens what this entry writes (a fleet
 * half switched, a rollback) and the other way round. `sealFormat: 'tessera'` writes Tessera's
 * own seal instead. A thin layer: each options object maps onto one `createSessions` with a
 * `CookieStore({ format: 'iron' })`; the session object is a view of the Tessera session's data
 * plus `save()`, `destroy()` and `updateConfig()`. Unlike iron-session, a tampered, foreign or
 * expired cookie gives an empty session, never an exception.
 *
 * @example
 * import { getIronSession } from 'tessera/compat/iron-session' // was: from 'iron-session'
 * const session = await getIronSession<{ user?: string }>(req, res, { cookieName: 'app', password })
 * session.user = 'alice'
 * await session.save()
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { CookieStoreLike, NodeRequest, NodeResponse } from '../core/frameworks.js'
import {
  BAD_USAGE,
  FLAVORS,
  built,
  checkOptions,
  jarOf,
  openSession,
  sealWith,
  unsealWith,
  type BaseSessionOptions,
  type Flavor,
  type Password,
} from './iron-session-shared.js'

export { secretsOf, type CookieOptions, type Password } from './iron-session-shared.js'

export type SessionOptions = BaseSessionOptions

export type IronSession<T> = T & {
  /** Seals the data and sets the cookie. */
  readonly save: () => Promise<void>
  /**
   * Empties the data and expires the cookie (before it returns, as iron-session's). Writes after
   * it go into a new session, kept by a later save(). The promise only reports a failure.
   */
  readonly destroy: () => Promise<void>
  /** Options for the next `save()` (a longer ttl for "remember me"); the password stays, as in iron-session 8. */
  readonly updateConfig: (newSessionOptions: SessionOptions) => void
}

/** iron-session 8's `cookies()` shape: `get` and `set` are all it uses. */
export type CookieStore = Pick<CookieStoreLike, 'get' | 'set'>

const DEFAULT_TTL = FLAVORS[8].defaultTtl

async function getSession<T>(args: unknown[], flavor: Flavor): Promise<IronSession<T>> {
  if (!args[0] || !args[1]) throw new Error(BAD_USAGE)
  const three = args.length >= 3 && args[2] !== undefined
  const options = (three ? args[2] : args[1]) as SessionOptions
  checkOptions(options) // bad options first, as iron-session reports them
  const jar = jarOf(args[0], args[1], three)
  return (await openSession(jar, options, flavor)) as unknown as IronSession<T>
}

// ---------------------------------------------------------------------------------------------
// v8

/**
 * The session of this request: `(req, res, options)` on node:http and Pages API routes,
 * `(request, response, options)` with Web objects (middleware), `(await cookies(), options)` in
 * the App Router. Change it, then `await session.save()`.
 */
export async function getIronSession<T extends object>(cookies: CookieStore, sessionOptions: SessionOptions): Promise<IronSession<T>>
export async function getIronSession<T extends object>(
  req: IncomingMessage | Request,
  res: Response | ServerResponse,
  sessionOptions: SessionOptions,
): Promise<IronSession<T>>
export async function getIronSession<T extends object>(...args: unknown[]): Promise<IronSession<T>> {
  return getSession<T>(args, FLAVORS[8])
}

/** Seals `data` as iron-session's `sealData` does (`Fe26.2*…~2`); iron-session opens it. */
export async function sealData(data: unknown, { password, ttl = DEFAULT_TTL }: { password: Password; ttl?: number }): Promise<string> {
  return sealWith(data, password, ttl)
}

/**
 * Opens a seal from `sealData` (this one's or iron-session's). Anything that does not open
 * (tampered, expired, another password, not a seal) gives `{}`, never an exception. A seal
 * without the `~2` marker (iron-session 6/7) reads as `{ ...persistent }`, as iron-session 8 reads it.
 */
export async function unsealData<T>(seal: string, { password }: { password: Password; ttl?: number }): Promise<T> {
  return unsealWith<T>(seal, password, true)
}

// ---------------------------------------------------------------------------------------------
// v6

type NodeReq = IncomingMessage | NodeRequest
type NodeRes = ServerResponse | NodeResponse
/** Options, or a function of the request computing them (per request). */
export type OptionsOrFactory<Req = any, Res = any> = SessionOptions | ((req: Req, res: Res) => SessionOptions | Promise<SessionOptions>)

/**
 * `req.session` as iron-session 6 defines it: enumerable, and assignable (`req.session = { ...req.session, admin: true }`
 * replaces the data, save() and destroy() stay).
 */
function attachTo(req: object, session: Record<string, unknown>): void {
  Object.defineProperty(req, 'session', {
    enumerable: true,
    configurable: true,
    get: () => session,
    set(value: Record<string, unknown>) {
      const keys = Object.keys(value)
      for (const key of Object.keys(session)) if (!keys.includes(key)) delete session[key]
      for (const key of keys) session[key] = value[key]
    },
  })
}

async function attach(req: NodeReq, res: NodeRes, options: OptionsOrFactory): Promise<void> {
  const resolved = typeof options === 'function' ? await options(req, res) : options
  attachTo(req, await getSession<Record<string, unknown>>([req, res, resolved], FLAVORS[6]))
}

function checkEarly(options: OptionsOrFactory): void {
  // Bad options fail at import, not at the first request (a function is called per request).
  if (typeof options !== 'function') built(options, FLAVORS[6])
}

/** iron-session 6: wraps an API route so `req.session` is there. `options` may be `(req, res) => options`. */
export function withIronSessionApiRoute<H extends (req: any, res: any) => unknown>(handler: H, options: OptionsOrFactory<Parameters<H>[0], Parameters<H>[1]>): H {
  checkEarly(options)
  return (async (req: NodeReq, res: NodeRes) => {
    await attach(req, res, options)
    return handler(req, res)
  }) as unknown as H
}

/** iron-session 6: wraps `getServerSideProps` so `context.req.session` is there. `options` may be `(req, res) => options`. */
export function withIronSessionSsr<H extends (context: any) => unknown>(handler: H, options: OptionsOrFactory<IncomingMessage, ServerResponse>): H {
  checkEarly(options)
  return (async (context: { req: NodeReq; res: NodeRes }) => {
    await attach(context.req, context.res, options)
    return handler(context)
  }) as unknown as H
}

/** iron-session 6: Express/Connect middleware putting the session on `req.session`. */
export function ironSession(options: SessionOptions): (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => Promise<void> {
  checkEarly(options)
  return (req, res, next) => attach(req, res, options).then(() => next(), next)
}

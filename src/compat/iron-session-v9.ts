/**
 * Drop-in entry for apps on `iron-session` 9: change the import, keep the code.
 *
 * `getIronSession(req, res, options)`, `getIronSession(await cookies(), options)`,
 * `getIronSession(jar, options)` with `nodeCookies(req, res)`, `webCookies(request, responseOrHeaders)`,
 * `nextProxyCookies(request, response)` or your own `{ read, write }`; `sealData`, `unsealData`;
 * options `chunk` (`name.0` … `name.3`) and `onUnsealError(reason, error)`. As in iron-session 9,
 * `destroy()` is final (a bare `save()` after it is ignored; fields written back and saved throw),
 * a `Date` (or anything JSON would change) in the data fails `save()` naming the field, reads are
 * typed `Partial<T>`, and seals from iron-session 6/7 (no `~2` marker) are not read.
 *
 * Cookies are iron-session's (`Fe26.2*…~2`, its `Max-Age` and defaults): the real iron-session 9
 * (and 8) opens them, chunked ones included, and this entry opens theirs. Unlike iron-session, this
 * entry runs on Node 20 too (Tessera's own floor) and ships CommonJS as well as ESM.
 *
 * @example
 * import { getIronSession } from 'tessera/compat/iron-session/v9' // was: from 'iron-session'
 * const session = await getIronSession<{ userId: string }>(await cookies(), { cookieName: 'app', password })
 * session.userId = 'alice'
 * await session.save()
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { ironUnseal } from '../core/iron.js'
import {
  BAD_USAGE,
  FLAVORS,
  checkOptions,
  jarOf,
  openSession,
  refuseNonJson,
  sealWith,
  usage,
  type BaseSessionOptions,
  type CookieJar,
  type Password,
} from './iron-session-shared.js'

export { nextProxyCookies, nodeCookies, webCookies, type CookieJar, type CookieOptions, type Password } from './iron-session-shared.js'

/** Why a cookie could not be read. "expired" is how sessions end; the others deserve a log line. */
export type UnsealErrorReason = 'expired' | 'invalid' | 'unknown-password'

export interface SessionOptions extends BaseSessionOptions {
  /** Called when the request's cookie could not be read; the session is empty either way. */
  onUnsealError?: (reason: UnsealErrorReason, error: Error) => void
}

export type IronSession<T> = Partial<T> & {
  /** Seals the data and sets the cookie. Ignored after `destroy()`, unless data was written back (then it throws). */
  readonly save: () => Promise<void>
  /** Empties the data and expires the cookie (and its chunks), now. Final for this session object. */
  readonly destroy: () => void
  /** Rebuilds the whole configuration, the password included, for the next `save()`. */
  readonly updateConfig: (newSessionOptions: SessionOptions) => void
}

/** Next.js `cookies()` (or anything with `get` and `set`). */
export interface CookieStore {
  get(name: string): { name: string; value: string } | undefined
  set(name: string, value: string, options?: Record<string, unknown>): unknown
  getAll?(): { name: string; value: string }[]
}

const FLAVOR = FLAVORS[9]
const SKEW_MS = 60_000

function checkV9(options: SessionOptions): void {
  const map = checkOptions(options)
  for (const id of Object.keys(map)) {
    if (!Number.isInteger(Number(id))) usage(`Password ids must be integers, got ${JSON.stringify(id)}. Use { 1: '...', 2: '...' }.`)
  }
  if (options.onUnsealError !== undefined && typeof options.onUnsealError !== 'function') usage('onUnsealError must be a function.')
}

/**
 * The session of this request, through a cookie jar (`nodeCookies`, `webCookies`,
 * `nextProxyCookies`, `{ read, write }`), Next.js `cookies()`, or `(req, res)` / `(request, response)`.
 */
export async function getIronSession<T extends object>(jar: CookieJar | CookieStore, sessionOptions: SessionOptions): Promise<IronSession<T>>
export async function getIronSession<T extends object>(
  req: IncomingMessage | Request,
  res: Response | ServerResponse | Headers,
  sessionOptions: SessionOptions,
): Promise<IronSession<T>>
export async function getIronSession<T extends object>(...args: unknown[]): Promise<IronSession<T>> {
  if (!args[0] || !args[1]) throw new Error(BAD_USAGE)
  const three = args.length >= 3 && args[2] !== undefined
  const options = (three ? args[2] : args[1]) as SessionOptions
  checkV9(options)
  const jar = jarOf(args[0], args[1], three)
  const report = options.onUnsealError
  const passwords = passwordsOf(options.password)
  const onUnreadable = report && ((value: string) => report(...whyUnreadable(value, passwords)))
  return (await openSession(jar, options, FLAVOR, onUnreadable)) as unknown as IronSession<T>
}

/** Seals `data` as iron-session 9's `sealData` does (`Fe26.2*…~2`). A `Date` (or any non-JSON value) throws, naming it. */
export async function sealData(data: unknown, { password, ttl = FLAVOR.defaultTtl }: { password: Password; ttl?: number }): Promise<string> {
  refuseNonJson(data)
  return sealWith(data !== null && typeof data === 'object' ? { ...data } : data, password, ttl)
}

/**
 * Opens a seal from `sealData` (this one's or iron-session's 8 or 9). Anything that does not open
 * gives `{}` and, with `onUnsealError`, says why. The `~2` marker is ignored (it is outside the HMAC).
 */
export async function unsealData<T>(
  seal: string,
  { password, onUnsealError }: { password: Password; ttl?: number; onUnsealError?: SessionOptions['onUnsealError'] },
): Promise<T> {
  const passwords = passwordsOf(password)
  const value = await ironUnseal(withoutMarker(seal), passwords)
  if (value !== undefined) return (value ?? {}) as T
  onUnsealError?.(...whyUnreadable(seal, passwords))
  return {} as T
}

function passwordsOf(password: Password): Record<string, string> {
  return typeof password === 'string' ? { 1: password } : password
}

function withoutMarker(seal: string): string {
  const marker = typeof seal === 'string' ? seal.indexOf('~') : -1
  return marker === -1 ? seal : seal.slice(0, marker)
}

/** Why a seal did not open, in iron's order of checks: its expiry, then its password, then the rest. */
function whyUnreadable(seal: string, passwords: Record<string, string>): [UnsealErrorReason, Error] {
  const parts = withoutMarker(seal).split('*')
  if (parts.length !== 8 || parts[0] !== 'Fe26.2') return ['invalid', new Error('Incorrect seal: not an iron-session cookie')]
  const expiration = parts[5]!
  if (/^\d+$/.test(expiration) && Number(expiration) <= Date.now() - SKEW_MS) return ['expired', new Error('Expired seal')]
  const id = parts[1] || 'default'
  if (!Object.hasOwn(passwords, id)) return ['unknown-password', new Error(`Cannot find password: ${id}`)]
  return ['invalid', new Error('Bad hmac value or ciphertext')]
}

// What tessera/compat/iron-session (v6 and v8) and tessera/compat/iron-session/v9 share: the
// cookie jars (iron-session 9's `{ read, write }` shape, which every call form becomes), the
// mapping of iron-session's options onto one `createSessions` with a `CookieStore`, and the
// session object (the data plus save/destroy/updateConfig). The versions differ only in the
// `Flavor` each entry passes. Not a public entry.
import { dataView } from './data-view.js'
import { isCookieName, isCookieValue, parseCookies, readCookie } from '../core/cookie.js'
import { SessionError } from '../core/errors.js'
import type { CookieStoreLike, NodeRequest, RequestLike } from '../core/frameworks.js'
import { ironSeal, ironUnseal } from '../core/iron.js'
import type { SessionCookieOptions, SessionsOptions } from '../core/options.js'
import { isObject } from '../core/plain.js'
import type { Session as CoreSession } from '../core/session.js'
import { createSessions, type Sessions } from '../index.js'
import { CookieStore } from '../stores/cookie-store.js'

// ---------------------------------------------------------------------------------------------
// Types

export type Password = string | Record<string, string>

/** Cookie attributes, as iron-session passes them to the `cookie` library. `maxAge` is in seconds. */
export interface CookieOptions {
  domain?: string
  path?: string
  httpOnly?: boolean
  /** iron-session's default is `true` (set `false` for plain-HTTP development on another host than localhost). */
  secure?: boolean
  /** `true` is `Strict`; `false`, unlike iron-session (no attribute), is `Lax`. */
  sameSite?: boolean | 'lax' | 'strict' | 'none' | 'Lax' | 'Strict' | 'None'
  /** Seconds. Explicitly `undefined`: a browser-session cookie and a seal without expiry. */
  maxAge?: number
  partitioned?: boolean
  /** Accepted for type compatibility; the expiry comes from `ttl` (or `maxAge`). */
  expires?: Date
  priority?: 'low' | 'medium' | 'high'
}

/** A cookie jar (iron-session 9): how a session reads and writes its cookies, whatever the framework. */
export interface CookieJar {
  read(name: string): string | undefined
  write(name: string, value: string, options: CookieOptions): void
  /** Names of the request's cookies (to find stale chunks); optional. */
  names?(): string[]
  /** Throws when the response can no longer take a cookie; optional. */
  assertWritable?(): void
}

/** What differs between iron-session 6, 8 and 9. */
export interface Flavor {
  version: 6 | 8 | 9
  /** Seconds. 6: 15 days, 8 and 9: 14 days. */
  defaultTtl: number
  /** The cookie's Max-Age at a save, in seconds, as that version computes it. */
  maxAge(ttl: number, explicit: number | undefined): number
  /** 8 (and 6): `updateConfig()` ignores a new password; 9 validates and uses it. */
  updateConfigKeepsPassword: boolean
  /** Seals without the `~2` marker (iron-session 6/7) are read as `{ ...persistent }`: 6 and 8, not 9. */
  legacySeals: boolean
  /** 9: `destroy()` is final (a bare save() is ignored, a save() with data written back throws). */
  destroyIsFinal: boolean
  /** 9: a `Date` (or anything JSON cannot carry as it is) in the data fails save() naming the field. */
  plainJsonOnly: boolean
}

export interface BaseSessionOptions {
  cookieName: string
  /** A password of 32+ characters, or `{ 1: old, 2: new }`: the highest id seals, all open. */
  password: Password
  /** Seconds the session is valid after a save. 0: no expiry. @default 1209600 (14 days) */
  ttl?: number
  cookieOptions?: CookieOptions
  /**
   * Tessera: the seal new cookies are written in. `'iron'` (default): iron-session's
   * `Fe26.2*…~2`, which the real iron-session opens (a mixed fleet, a rollback). `'tessera'`:
   * Tessera's `t1.` seal (AES-256-GCM), once no server runs iron-session any more. Both are read.
   */
  sealFormat?: 'iron' | 'tessera'
  /**
   * Split a session past one cookie over `name.0` … `name.3` (iron-session 9's naming and cap).
   * The real iron-session 8 cannot read those. @default false
   */
  chunk?: boolean
}

type Data = Record<string, unknown>

// ---------------------------------------------------------------------------------------------
// Errors, as iron-session words them

export const BAD_USAGE = 'iron-session: Bad usage: use getIronSession(req, res, options) or getIronSession(cookieStore, options).'
const HEADERS_SENT =
  'iron-session: Cannot set session cookie: session.save() was called after headers were sent. Make sure to call it before any res.send() or res.end()'

export function usage(problem: string): never {
  throw new Error(`iron-session: Bad usage. ${problem}`)
}

export function passwordMap(password: Password): Record<string, string> {
  const map: Record<string, string> = typeof password === 'string' ? { 1: password } : { ...password }
  if (Object.keys(map).length === 0) usage('Missing password.')
  if (Object.values(map).some((p) => typeof p !== 'string' || p.length < 32)) usage('Password must be at least 32 characters long.')
  return map
}

/**
 * Tessera's secrets: the passwords themselves, newest (highest id) first. They key Tessera's own
 * seal (`sealFormat: 'tessera'`), so the native API takes the same value:
 * `createSessions({ secrets: password, ... })` opens what this entry sealed in that format.
 */
export function secretsOf(password: Password): string[] {
  const map = passwordMap(password)
  return Object.keys(map)
    .sort((a, b) => Number(b) - Number(a))
    .map((id) => map[id]!)
}

// ---------------------------------------------------------------------------------------------
// Cookie jars

/** `Set-Cookie` as iron-session's `cookie` library writes it: Max-Age without Expires, this order. */
export function setCookieLine(name: string, value: string, options: CookieOptions): string {
  if (!isCookieName(name)) throw new TypeError(`iron-session: cookie name is invalid: ${JSON.stringify(name)}`)
  if (!isCookieValue(value)) throw new TypeError(`iron-session: cookie value for ${name} is invalid`)
  let line = `${name}=${value}`
  if (options.maxAge !== undefined) line += `; Max-Age=${Math.max(0, Math.floor(options.maxAge))}`
  if (options.domain) line += `; Domain=${options.domain}`
  if (options.path) line += `; Path=${options.path}`
  if (options.expires instanceof Date) line += `; Expires=${options.expires.toUTCString()}`
  if (options.httpOnly) line += '; HttpOnly'
  if (options.secure) line += '; Secure'
  if (options.partitioned) line += '; Partitioned'
  if (options.priority) line += `; Priority=${capitalized(options.priority)}`
  if (options.sameSite) line += `; SameSite=${options.sameSite === true ? 'Strict' : capitalized(options.sameSite)}`
  return line
}

function capitalized(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1).toLowerCase()
}

/** The lines of a response's Set-Cookie without the earlier one for `name`: one Set-Cookie per cookie. */
function othersThan(previous: unknown, name: string): string[] {
  const lines = previous === undefined || previous === null ? [] : Array.isArray(previous) ? previous.map(String) : [String(previous)]
  return lines.filter((line) => !line.startsWith(`${name}=`))
}

interface NodeResponseLike {
  headersSent?: boolean
  getHeader(name: string): unknown
  setHeader(name: string, value: string[]): unknown
}

/** Node's `http` (Express, Connect, Next.js API routes and `getServerSideProps`). */
export function nodeCookies(req: NodeRequest | { headers: Record<string, unknown> }, res: NodeResponseLike | object): CookieJar {
  const header = () => {
    const value = (req.headers as Record<string, unknown>).cookie
    return Array.isArray(value) ? value.join('; ') : typeof value === 'string' ? value : undefined
  }
  const response = res as NodeResponseLike
  return {
    read: (name) => readCookie(header(), name),
    names: () => Object.keys(parseCookies(header())),
    assertWritable: () => {
      if (response.headersSent) throw new Error(HEADERS_SENT)
    },
    write: (name, value, options) => {
      response.setHeader('set-cookie', [...othersThan(response.getHeader('set-cookie'), name), setCookieLine(name, value, options)])
    },
  }
}

interface HeadersLike {
  get(name: string): string | null
  append(name: string, value: string): void
  delete(name: string): void
  getSetCookie?(): string[]
}

function isHeaders(value: unknown): value is HeadersLike {
  return isObject(value) && typeof value.append === 'function' && typeof value.get === 'function' && !('headers' in value)
}

/** Anything Web-standard: a `Request`, and a `Response`, `NextResponse` or bare `Headers` to write to. */
export function webCookies(request: RequestLike | { headers: { get(name: string): string | null } }, responseOrHeaders: { headers: HeadersLike; bodyUsed?: boolean } | HeadersLike): CookieJar {
  const headers = isHeaders(responseOrHeaders) ? responseOrHeaders : responseOrHeaders.headers
  const header = () => request.headers.get('cookie') ?? undefined
  return {
    read: (name) => readCookie(header(), name),
    names: () => Object.keys(parseCookies(header())),
    assertWritable: () => {
      if (!isHeaders(responseOrHeaders) && responseOrHeaders.bodyUsed) {
        throw new Error('iron-session: Cannot set session cookie: the response body has already been consumed, so the Set-Cookie header would be dropped. Call session.save() before returning or streaming the response.')
      }
    },
    write: (name, value, options) => {
      const line = setCookieLine(name, value, options)
      if (typeof headers.getSetCookie !== 'function') return headers.append('set-cookie', line)
      const kept = othersThan(headers.getSetCookie(), name)
      headers.delete('set-cookie')
      for (const other of [...kept, line]) headers.append('set-cookie', other)
    },
  }
}

interface RequestCookiesLike {
  get(name: string): { value: string } | undefined
  getAll?(): { name: string }[]
  set(name: string, value: string): unknown
}
interface ResponseCookiesLike {
  set(name: string, value: string, options?: Record<string, unknown>): unknown
}

/**
 * Next.js `proxy.ts` (`middleware.ts` before Next 16): writes through `response.cookies.set()`,
 * which is what Next merges into the current render, and into `request.cookies` so code later in
 * the same request reads the new value.
 */
export function nextProxyCookies(request: { cookies: RequestCookiesLike }, response: { cookies: ResponseCookiesLike }): CookieJar {
  return {
    read: (name) => request.cookies.get(name)?.value,
    names: () => request.cookies.getAll?.().map((cookie) => cookie.name) ?? [],
    write: (name, value, options) => {
      response.cookies.set(name, value, { ...options })
      request.cookies.set(name, value)
    },
  }
}

/** Next.js `cookies()` (App Router route handlers, server actions, server components), or any `{ get, set }` store. */
export function cookieStoreJar(store: Pick<CookieStoreLike, 'get' | 'set'> & { getAll?: CookieStoreLike['getAll'] }): CookieJar {
  return {
    read: (name) => store.get(name)?.value,
    names: () => store.getAll?.().map((cookie) => cookie.name) ?? [],
    write: (name, value, options) => {
      store.set(name, value, { ...options })
    },
  }
}

export function isCookieJar(value: unknown): value is CookieJar {
  return isObject(value) && typeof value.read === 'function' && typeof value.write === 'function'
}

function isGetSetStore(value: unknown): value is Pick<CookieStoreLike, 'get' | 'set'> {
  return isObject(value) && typeof value.get === 'function' && typeof value.set === 'function'
}

/** The jar for any call form: `(jar | cookieStore, options)` or `(req | request, res | response, options)`. */
export function jarOf(first: unknown, second: unknown, threeArguments: boolean): CookieJar {
  if (!threeArguments) {
    if (isCookieJar(first)) return first
    if (isGetSetStore(first)) return cookieStoreJar(first)
    throw new Error(BAD_USAGE)
  }
  const req = first as { headers?: unknown }
  if (isObject(req.headers) && typeof (req.headers as { get?: unknown }).get === 'function') return webCookies(req as RequestLike, second as never)
  if (!isObject(req.headers)) throw new Error(BAD_USAGE)
  return nodeCookies(req as NodeRequest, second as object)
}

/** The jar as the cookie store Tessera's core reads and writes (the `cookies()` shape). */
function coreStoreOf(jar: CookieJar, extra: Pick<CookieOptions, 'priority'>): CookieStoreLike {
  return {
    get: (name) => {
      const value = jar.read(name)
      return value ? { name, value } : undefined
    },
    getAll: () => (jar.names?.() ?? []).map((name) => ({ name, value: jar.read(name) ?? '' })),
    set: (name, value, options) => jar.write(name, value, { ...extra, ...(options as CookieOptions) }),
    delete: (name) => jar.write(name, '', { maxAge: 0 }),
  }
}

// ---------------------------------------------------------------------------------------------
// Options onto createSessions, once per options

const DAY = 86_400
/** Tessera needs an expiry; iron-session's `ttl: 0` ("never") becomes the cookie's longest Max-Age. */
export const NO_EXPIRY = 2_147_483_647
/** iron-session's clock skew: its cookie expires this long before its seal. */
export const SKEW = 60
/** 4 cookies, CookieStore's largest: the cap on chunks is what limits a chunked session, as in iron-session 9. */
const CHUNKED_MAX_SIZE = 16_384

export const FLAVORS: Record<6 | 8 | 9, Flavor> = {
  6: {
    version: 6,
    defaultTtl: 15 * DAY,
    // iron-session 6 takes 60 s off an explicit maxAge too.
    maxAge: (ttl, explicit) => (explicit ?? (ttl === 0 ? NO_EXPIRY : ttl)) - SKEW,
    updateConfigKeepsPassword: true,
    legacySeals: true,
    destroyIsFinal: false,
    plainJsonOnly: false,
  },
  8: {
    version: 8,
    defaultTtl: 14 * DAY,
    // 8 writes ttl − 60 even when that is ≤ 0 (a cookie the browser drops at once); 9's rule keeps a short ttl whole.
    maxAge: (ttl, explicit) => explicit ?? (ttl === 0 ? NO_EXPIRY : ttl > SKEW ? ttl - SKEW : ttl),
    updateConfigKeepsPassword: true,
    legacySeals: true,
    destroyIsFinal: false,
    plainJsonOnly: false,
  },
  9: {
    version: 9,
    defaultTtl: 14 * DAY,
    maxAge: (ttl, explicit) => explicit ?? (ttl === 0 ? NO_EXPIRY - SKEW : ttl > SKEW ? ttl - SKEW : ttl),
    updateConfigKeepsPassword: false,
    legacySeals: false,
    destroyIsFinal: true,
    plainJsonOnly: true,
  },
}

export interface Built {
  sessions: Sessions<Data>
  name: string
  extra: Pick<CookieOptions, 'priority'>
  password: Record<string, string>
}

function sameSiteOf(value: CookieOptions['sameSite']): SessionCookieOptions['sameSite'] {
  if (value === undefined || value === false) return 'lax'
  if (value === true) return 'strict'
  return value.toLowerCase() as 'lax' | 'strict' | 'none'
}

/** Validates iron-session's options as it does (same messages) and returns its password map. */
export function checkOptions(options: BaseSessionOptions): Record<string, string> {
  if (typeof options !== 'object' || options === null) usage('Missing options.')
  if (!options.cookieName) usage('Missing cookie name.')
  if (!options.password) usage('Missing password.')
  return passwordMap(options.password)
}

function build(options: BaseSessionOptions, flavor: Flavor): Built {
  const password = checkOptions(options)
  const cookie = options.cookieOptions ?? {}
  const ttl = options.ttl ?? flavor.defaultTtl
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0) usage(`ttl must be a number of seconds ≥ 0, got ${JSON.stringify(options.ttl)}`)
  if (options.sealFormat !== undefined && options.sealFormat !== 'iron' && options.sealFormat !== 'tessera') usage(`sealFormat must be 'iron' or 'tessera', got ${JSON.stringify(options.sealFormat)}`)
  // `cookieOptions: { maxAge: undefined }` is a browser-session cookie whose seal never expires.
  const sessionCookie = 'maxAge' in cookie && cookie.maxAge === undefined
  const sealTtl = sessionCookie || ttl === 0 ? NO_EXPIRY : ttl
  const explicit = typeof cookie.maxAge === 'number' ? cookie.maxAge : undefined
  // Cookie Max-Age = the seal's remaining lifetime − offset; never longer than the seal (checklist 30), never 0.
  const maxAge = Math.min(sealTtl, Math.max(1, Math.floor(flavor.maxAge(ttl, explicit))))
  const store = new CookieStore({
    format: options.sealFormat === 'tessera' ? 'tessera' : 'iron',
    iron: { password, legacySeals: flavor.legacySeals },
    chunk: options.chunk === true,
    // iron-session 9 bounds a chunked session by its 4 cookies alone: so does this entry.
    ...(options.chunk === true ? { maxSize: CHUNKED_MAX_SIZE } : {}),
  })
  const core: SessionsOptions = {
    store,
    secrets: secretsOf(password),
    name: options.cookieName,
    ttl: sealTtl,
    // As iron-session: the expiry moves on save() only, never on a mere read.
    touchAfter: sealTtl,
    rolling: true,
    autoCommit: false,
    cookie: {
      httpOnly: cookie.httpOnly ?? true,
      // iron-session's default; the jar's context cannot tell HTTPS, so a Secure cookie is always sent.
      secure: cookie.secure ?? true,
      sameSite: sameSiteOf(cookie.sameSite),
      path: cookie.path ?? '/',
      domain: cookie.domain,
      partitioned: cookie.partitioned ?? false,
      persistent: !sessionCookie,
      maxAgeOffset: sessionCookie ? 0 : sealTtl - maxAge,
    },
  }
  return { sessions: createSessions<Data>(core), name: options.cookieName, extra: cookie.priority ? { priority: cookie.priority } : {}, password }
}

const byObject = { 6: new WeakMap<object, Built>(), 8: new WeakMap<object, Built>(), 9: new WeakMap<object, Built>() }
const byKey = new Map<string, Built>()
const MAX_KEYS = 100

/** One Tessera instance per options object, and per distinct options (a literal per request). */
export function built(options: BaseSessionOptions, flavor: Flavor): Built {
  if (typeof options !== 'object' || options === null) usage('Missing options.')
  const cached = byObject[flavor.version].get(options)
  if (cached) return cached
  const key = keyOf(options, flavor)
  let result = byKey.get(key)
  if (!result) {
    result = build(options, flavor)
    if (byKey.size >= MAX_KEYS) byKey.clear()
    byKey.set(key, result)
  }
  byObject[flavor.version].set(options, result)
  return result
}

function keyOf(options: BaseSessionOptions, flavor: Flavor): string {
  const cookie = options.cookieOptions ?? {}
  return JSON.stringify([flavor.version, options.cookieName, options.password, options.ttl, cookie, 'maxAge' in cookie, options.sealFormat, options.chunk])
}

// ---------------------------------------------------------------------------------------------
// The session object: the data itself plus save/destroy/updateConfig


export interface SessionMethods {
  save(): Promise<void>
  destroy(): Promise<void>
  updateConfig(options: BaseSessionOptions): void
}

/**
 * The session of one request through `jar`, under `options`. `onUnreadable`: called with the
 * cookie's value when the request carried one that gave no session (tampered, expired, foreign).
 */
export async function openSession(
  jar: CookieJar,
  options: BaseSessionOptions,
  flavor: Flavor,
  onUnreadable?: (value: string) => void,
): Promise<Data & SessionMethods> {
  const first = built(options, flavor)
  return viewOf(jar, first, await load(jar, first, onUnreadable), flavor)
}

/** The seal the request carried: the cookie, or its chunks joined (as the core reads them). */
function sealIn(jar: CookieJar, name: string): string {
  const whole = jar.read(name)
  if (whole) return whole
  let joined = ''
  for (let i = 0; i < 32; i++) {
    const chunk = jar.read(`${name}.${i}`)
    if (!chunk) break
    joined += chunk
  }
  return joined
}

async function load(jar: CookieJar, config: Built, onUnreadable?: (value: string) => void): Promise<CoreSession<Data>> {
  const session = await config.sessions.get(coreStoreOf(jar, config.extra))
  if (session.isNew && onUnreadable) {
    const value = sealIn(jar, config.name)
    if (value) onUnreadable(value)
  }
  // iron-session writes its cookie at every save() and clears it at every destroy(), even for a
  // session that came with no cookie and holds nothing. A new id marks the new session so (the
  // core then always sends its cookie); a cookie store keeps nothing under it.
  if (session.isNew) await session.regenerate()
  return session
}

function viewOf(jar: CookieJar, first: Built, initial: CoreSession<Data>, flavor: Flavor): Data & SessionMethods {
  let config = first
  let session = initial
  let sessionConfig = first
  /** After destroy(): the data until the fresh session is there (8), or for good (9). */
  let afterDestroy: Data | undefined
  let destroyed = false
  let pending: Promise<void> | undefined

  const methods: SessionMethods = {
    async save(): Promise<void> {
      if (pending) {
        const waiting = pending
        pending = undefined
        await waiting // a destroy() nobody awaited reports its failure here
      }
      const data = afterDestroy ?? (session.data as Data)
      if (destroyed && flavor.destroyIsFinal) {
        if (Object.keys(data).length === 0) return
        throw new Error(
          'iron-session: Cannot save a destroyed session that has data written back into it. session.destroy() signs the user out, and saving these fields would restore the cookie you just cleared, leaving the user signed in. Get a fresh session if you need to write one.',
        )
      }
      jar.assertWritable?.()
      if (flavor.plainJsonOnly) refuseNonJson(data)
      if (config !== sessionConfig) {
        // updateConfig(): the same data, written under the new options.
        const next = await load(jar, config)
        next.data = { ...(session.data as Data) }
        session = next
        sessionConfig = config
      }
      session.touch()
      try {
        await session.commit()
      } catch (error) {
        if (error instanceof SessionError && error.code === 'TOO_LARGE') {
          throw new Error(`iron-session: Cookie length is too big, browsers will refuse it. Try to remove some data. (${error.message})`, { cause: error })
        }
        throw error
      }
    },
    destroy(): Promise<void> {
      jar.assertWritable?.()
      afterDestroy = {}
      destroyed = true
      // The clearing cookie is set before this returns (iron-session's destroy() was synchronous).
      const done = flavor.destroyIsFinal
        ? session.destroy()
        : session.restart().then(() => {
            // Log out, then write again (a flash message): what was written meanwhile goes into the new session.
            const written = afterDestroy!
            afterDestroy = undefined
            destroyed = false
            Object.assign(session.data, written)
          })
      pending = done
      done.catch(() => {}) // not awaited, its failure surfaces at the next save()
      return done
    },
    updateConfig(newSessionOptions: BaseSessionOptions): void {
      const options = flavor.updateConfigKeepsPassword ? { ...newSessionOptions, password: first.password } : newSessionOptions
      config = built(options, flavor)
    },
  }
  const data = (): Data => afterDestroy ?? (session.data as Data)
  // iron-session's methods are read-only, non-enumerable properties: Object.keys and JSON see
  // only the data, and assigning one is the TypeError of a read-only property.
  return dataView<Data & SessionMethods>(
    data,
    { save: () => methods.save, destroy: () => methods.destroy, updateConfig: () => methods.updateConfig },
    { refusal: (key) => `Cannot assign to read only property '${key}' of object '#<Object>'` },
  )
}

/**
 * iron-session 9: a value JSON would change (a `Date` becomes a string, a `Map` `{}`) or cannot
 * carry fails the save, naming the field.
 */
export function refuseNonJson(data: unknown): void {
  const problem = nonJson(data, 'session', 0)
  if (problem) {
    throw new Error(
      `iron-session: The session data is not JSON serializable (${problem}). Store plain JSON values only: a Date must be stored as a timestamp (Date.now()) or an ISO string, and Map/Set/BigInt/functions are not supported.`,
    )
  }
}

function nonJson(value: unknown, path: string, depth: number): string | undefined {
  const type = typeof value
  if (type === 'bigint' || type === 'function' || type === 'symbol') return `${path} is a ${type}`
  if (type === 'number' && !Number.isFinite(value)) return `${path} is ${String(value)}`
  if (type !== 'object' || value === null || depth > 32) return undefined
  const prototype = Object.getPrototypeOf(value) as object | null
  if (!Array.isArray(value) && prototype !== Object.prototype && prototype !== null) {
    return `${path} is a ${(value as object).constructor?.name ?? 'non-plain object'}`
  }
  const entries: [string, unknown][] = Array.isArray(value) ? value.map((item, i) => [`[${i}]`, item]) : Object.entries(value as object).map(([k, v]) => [`.${k}`, v])
  for (const [suffix, item] of entries) {
    const found = nonJson(item, `${path}${suffix}`, depth + 1)
    if (found) return found
  }
  return undefined
}

// ---------------------------------------------------------------------------------------------
// sealData / unsealData

/** Seals `data` as iron-session's `sealData` does (`Fe26.2*…~2`); iron-session opens it. */
export async function sealWith(data: unknown, password: Password, ttl: number): Promise<string> {
  return ironSeal(data, password, { ttlSec: ttl })
}

/** Opens a seal as iron-session 8 (`legacy`: v6 seals as `{ ...persistent }`) or 9 reads it; `{}` for anything that does not open. */
export async function unsealWith<T>(seal: string, password: Password, legacy: boolean): Promise<T> {
  const map = typeof password === 'string' ? { 1: password } : password
  const marker = typeof seal === 'string' ? seal.indexOf('~') : -1
  const body = legacy || marker === -1 ? seal : seal.slice(0, marker)
  const value = await ironUnseal(body, map)
  if (typeof value !== 'object' || value === null) return {} as T
  // iron-session 8's token version 2 holds the data itself; older (v6/v7) seals hold `{ persistent }`.
  if (!legacy || (typeof seal === 'string' && seal.endsWith('~2'))) return value as T
  const persistent = (value as { persistent?: unknown }).persistent
  return { ...(typeof persistent === 'object' && persistent !== null ? persistent : {}) } as T
}

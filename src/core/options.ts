import { isCookieDomain, isCookieName, isCookiePath, type SameSite } from './cookie.js'
import type { SessionEvent } from './events.js'
import type { SessionStore, StatelessStore } from './types.js'

/** Cookie options of {@link SessionsOptions}. */
export interface SessionCookieOptions {
  /** @default true */
  httpOnly?: boolean
  /** @default 'lax' */
  sameSite?: SameSite | 'Lax' | 'Strict' | 'None'
  /**
   * `'auto'`: `Secure` when the request came over HTTPS (see `trustProxy`) or `NODE_ENV` is
   * `production`. `true`: always `Secure`, and no cookie is sent over a plain-HTTP request.
   * @default 'auto'
   */
  secure?: boolean | 'auto'
  /** @default '/' */
  path?: string
  /** @default none (host-only cookie) */
  domain?: string
  /** CHIPS: `Partitioned`, for sessions inside third-party iframes. Needs `Secure`. @default false */
  partitioned?: boolean
  /** `false` makes a browser-session cookie (no `Max-Age`); the server still enforces `ttl`. @default true */
  persistent?: boolean
  /**
   * Seconds taken off the cookie's `Max-Age`, so the browser drops the cookie before the server
   * stops accepting it (iron-session: 60, with a 60 s clock skew on the server's side).
   * @default 0
   */
  maxAgeOffset?: number
}

/** Options of `createSessions`. Every duration is a number of seconds. */
export interface SessionsOptions {
  /** Where sessions live. @default one process-wide `MemoryStore` */
  store?: SessionStore | StatelessStore
  /**
   * Secrets (newest first, each at least 32 characters). The first signs the id cookie, any
   * verifies. Optional for server-side stores, required for the cookie store.
   */
  secrets?: string | readonly string[]
  /** Cookie name. @default 'sid' */
  name?: string
  /** Idle lifetime in seconds. @default 1209600 (14 days) */
  ttl?: number
  /** Seconds from creation after which the session ends however active. @default none */
  absoluteTtl?: number
  /**
   * Seconds: an unmodified session is touched (store expiry and cookie refreshed) at most this often.
   * @default 3600, or a tenth of `ttl` when that is shorter
   */
  touchAfter?: number
  /** Whether a touch also re-sends the cookie with a fresh expiry. @default true */
  rolling?: boolean
  /** Key the store by SHA-256 of the id, so a leaked store holds no live tokens. @default false */
  hashIds?: boolean
  /** Makes new session ids: 16–128 characters of `[A-Za-z0-9_-]`. @default 256 random bits, base64url */
  genid?: () => string
  /** Trust `X-Forwarded-Proto` to decide whether the request was HTTPS. @default false */
  trustProxy?: boolean
  cookie?: SessionCookieOptions
  /**
   * Turns the cookie value Tessera made (the id, or the signed id) into the one sent, e.g. to keep
   * another library's cookie format. Must return a valid cookie value. Server-side stores only.
   */
  encode?: (value: string) => string | Promise<string>
  /**
   * The inverse of `encode`: what the request's cookie holds back to the id (or signed id).
   * `null`/`undefined` (or a throw) means an invalid cookie: a fresh session.
   */
  decode?: (cookieValue: string) => string | null | undefined | Promise<string | null | undefined>
  /** On node:http, commit by itself before the headers leave. `false`: only `session.commit()` saves. @default true */
  autoCommit?: boolean
  /** Receives session events (created, destroyed, invalid-signature, ...) with a salted hash of the id. */
  onEvent?: (event: SessionEvent) => void
  /**
   * Cookies are bound to their name (review 4): a signed id's MAC and a sealed cookie's associated
   * data include it, so one configuration's cookie is refused under another's name even with the
   * same secret. Cookies written before (an unbound MAC, a `t1.` seal, express-session's `s:`)
   * still open, and are re-issued bound on that response; after this time (a `Date` or
   * milliseconds since the epoch) they no longer open. Set it to your upgrade plus `ttl`.
   * @default never: unbound cookies keep opening (and can be replayed under another name)
   */
  acceptUnboundUntil?: Date | number
}

/** The options after validation, in milliseconds. */
export interface Config {
  store: SessionStore | StatelessStore
  stateless: boolean
  secrets: readonly string[]
  name: string
  ttl: number
  absoluteTtl: number | undefined
  touchAfter: number
  rolling: boolean
  hashIds: boolean
  genid: (() => string) | undefined
  trustProxy: boolean
  cookie: {
    httpOnly: boolean
    sameSite: SameSite
    secure: boolean | 'auto'
    path: string
    domain: string | undefined
    partitioned: boolean
    persistent: boolean
    /** Seconds. */
    maxAgeOffset: number
  }
  production: boolean
  onEvent: ((event: SessionEvent) => void) | undefined
  encode: ((value: string) => string | Promise<string>) | undefined
  decode: ((cookieValue: string) => string | null | undefined | Promise<string | null | undefined>) | undefined
  autoCommit: boolean
  /** Milliseconds since the epoch; Infinity when unbound cookies always open. */
  acceptUnboundUntil: number
}

const DAY = 24 * 60 * 60

function fail(option: string, problem: string): never {
  throw new TypeError(`Tessera option ${option} ${problem}`)
}

function seconds(option: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    fail(option, `must be a number of seconds ≥ ${min}, got ${JSON.stringify(value)}`)
  }
  return value
}

function bool(option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') fail(option, `must be true or false, got ${JSON.stringify(value)}`)
  return value
}

function isStore(value: unknown): value is SessionStore | StatelessStore {
  if (typeof value !== 'object' || value === null) return false
  const store = value as Record<string, unknown>
  if (store.stateless === true) return typeof store.seal === 'function' && typeof store.unseal === 'function'
  return typeof store.get === 'function' && typeof store.set === 'function' && typeof store.destroy === 'function'
}

const WARNED_SECRET = Symbol.for('tessera.warnedMissingSecret')

/**
 * `secrets: process.env.SESSION_SECRET` with the variable unset: in production a TypeError at
 * startup (signed ids and CSRF tokens would fail later, page by page); elsewhere, and while
 * `next build` collects page data (secrets often exist only at run time), a warning once.
 */
function missingSecret(refuse: boolean): void {
  const message =
    'Tessera option secrets was given but is undefined: is the environment variable that should hold it (SESSION_SECRET?) set? ' +
    'Set it to at least 32 random characters (openssl rand -base64 32), or leave the option out to run without signed ids.'
  if (refuse) throw new TypeError(message)
  const flags = globalThis as { [WARNED_SECRET]?: boolean }
  if (flags[WARNED_SECRET]) return
  flags[WARNED_SECRET] = true
  console.warn(`tessera: ${message}`)
}

/** Validates options once, at construction: a bad option throws a `TypeError` naming it. */
export function resolveConfig(options: SessionsOptions, defaultStore: (name: string) => SessionStore): Config {
  if (typeof options !== 'object' || options === null) fail('object', 'must be an object')
  const name = options.name ?? 'sid'
  if (typeof name !== 'string' || !isCookieName(name)) fail('name', `must be a valid cookie name, got ${JSON.stringify(name)}`)
  // Review 4: one default store per cookie name, so two configurations never share ids.
  const store = options.store ?? defaultStore(name)
  if (!isStore(store)) fail('store', 'must have get, set and destroy methods (or be a CookieStore)')
  const stateless = (store as StatelessStore).stateless === true

  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
  const production = env?.NODE_ENV === 'production'
  if ('secrets' in options && options.secrets === undefined) missingSecret(production && env?.NEXT_PHASE !== 'phase-production-build')
  const secrets = options.secrets === undefined ? [] : typeof options.secrets === 'string' ? [options.secrets] : options.secrets
  if (!Array.isArray(secrets)) fail('secrets', 'must be a string or an array of strings')
  secrets.forEach((secret, i) => {
    if (typeof secret !== 'string' || secret.length < 32) {
      fail(`secrets[${i}]`, 'must be a string of at least 32 characters (use a random value, e.g. `openssl rand -base64 32`)')
    }
  })
  if (stateless && secrets.length === 0) fail('secrets', 'is required by the cookie store (it seals the session with it)')

  const until = options.acceptUnboundUntil instanceof Date ? options.acceptUnboundUntil.getTime() : options.acceptUnboundUntil ?? Infinity
  if (typeof until !== 'number' || Number.isNaN(until)) fail('acceptUnboundUntil', 'must be a Date or milliseconds since the epoch')

  const ttl = seconds('ttl', options.ttl, 14 * DAY, 1)
  const absoluteTtl = options.absoluteTtl === undefined ? undefined : seconds('absoluteTtl', options.absoluteTtl, 0, 1)
  const touchAfter = seconds('touchAfter', options.touchAfter, Math.min(3600, ttl / 10), 0)
  if (touchAfter > ttl) fail('touchAfter', `(${touchAfter}) must not exceed ttl (${ttl})`)
  if (options.genid !== undefined && typeof options.genid !== 'function') fail('genid', 'must be a function returning a string')
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function') fail('onEvent', 'must be a function')
  for (const codec of ['encode', 'decode'] as const) {
    if (options[codec] === undefined) continue
    if (typeof options[codec] !== 'function') fail(codec, 'must be a function')
    if (stateless) fail(codec, 'does not apply to the cookie store (it seals the whole cookie)')
  }

  const cookie = options.cookie ?? {}
  if (typeof cookie !== 'object' || cookie === null) fail('cookie', 'must be an object')
  const sameSite = (cookie.sameSite ?? 'lax').toString().toLowerCase()
  if (sameSite !== 'lax' && sameSite !== 'strict' && sameSite !== 'none') {
    fail('cookie.sameSite', `must be 'lax', 'strict' or 'none', got ${JSON.stringify(cookie.sameSite)}`)
  }
  const secure = cookie.secure ?? 'auto'
  if (secure !== true && secure !== false && secure !== 'auto') fail('cookie.secure', "must be true, false or 'auto'")
  const path = cookie.path ?? '/'
  if (typeof path !== 'string' || !isCookiePath(path)) fail('cookie.path', `must start with / and hold no ';', got ${JSON.stringify(path)}`)
  const domain = cookie.domain
  if (domain !== undefined && (typeof domain !== 'string' || !isCookieDomain(domain))) {
    fail('cookie.domain', `must be a host name, got ${JSON.stringify(domain)}`)
  }
  const partitioned = bool('cookie.partitioned', cookie.partitioned, false)
  const maxAgeOffset = seconds('cookie.maxAgeOffset', cookie.maxAgeOffset, 0, 0)
  if (maxAgeOffset >= ttl) fail('cookie.maxAgeOffset', `(${maxAgeOffset}) must be shorter than ttl (${ttl})`)
  if (sameSite === 'none' && secure === false) fail('cookie.sameSite', "'none' requires cookie.secure (browsers drop SameSite=None without Secure)")
  if (partitioned && secure === false) fail('cookie.partitioned', 'requires cookie.secure')
  // RFC 6265bis matches the prefixes case-insensitively: `__host-sid` gets the same rules.
  const prefix = name.slice(0, 9).toLowerCase()
  if (prefix.startsWith('__host-')) {
    if (secure !== true) fail('cookie.secure', 'must be true for a __Host- cookie name')
    if (domain !== undefined) fail('cookie.domain', 'must not be set for a __Host- cookie name')
    if (path !== '/') fail('cookie.path', "must be '/' for a __Host- cookie name")
  }
  if (prefix === '__secure-' && secure !== true) fail('cookie.secure', 'must be true for a __Secure- cookie name')

  return {
    store,
    stateless,
    secrets,
    name,
    ttl: ttl * 1000,
    absoluteTtl: absoluteTtl === undefined ? undefined : absoluteTtl * 1000,
    touchAfter: touchAfter * 1000,
    rolling: bool('rolling', options.rolling, true),
    hashIds: bool('hashIds', options.hashIds, false),
    genid: options.genid,
    trustProxy: bool('trustProxy', options.trustProxy, false),
    cookie: {
      httpOnly: bool('cookie.httpOnly', cookie.httpOnly, true),
      sameSite,
      secure,
      path,
      domain,
      partitioned,
      persistent: bool('cookie.persistent', cookie.persistent, true),
      maxAgeOffset,
    },
    production,
    onEvent: options.onEvent,
    encode: options.encode,
    decode: options.decode,
    autoCommit: bool('autoCommit', options.autoCommit, true),
    acceptUnboundUntil: until,
  }
}

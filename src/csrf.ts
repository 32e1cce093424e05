/**
 * CSRF protection: synchronizer tokens kept in the session, signed double-submit tokens bound to
 * the session id (for apps that keep nothing server-side), and `Origin` / `Sec-Fetch-Site`
 * checks. Web APIs only, so it runs on Node, the Edge runtime, Workers, Bun and Deno.
 *
 * Every check returns a {@link CsrfResult}; none throws for anything a request can contain.
 *
 * @example
 * import { csrfField, verifyRequest, csrfForbidden } from 'tessera/csrf'
 *
 * // rendering a form
 * const { name, value } = csrfField(session)
 * html`<input type="hidden" name="${name}" value="${value}">`
 *
 * // handling the POST (a route handler, a Worker, Hono, ...)
 * const result = await verifyRequest(session, request, { allowed: ['https://example.com'] })
 * if (!result.ok) return csrfForbidden(result)
 *
 * @module
 */
import { base64urlDecode, base64urlEncode, utf8 } from './core/encoding.js'

// ---------------------------------------------------------------------------------------------
// Results

/** Why a CSRF check failed. */
export type CsrfFailureReason = 'missing-token' | 'invalid-token' | 'invalid-origin'

/** The outcome of every CSRF check: failures are returned, never thrown. */
export type CsrfResult = { ok: true } | CsrfFailure

/** A failed check. */
export interface CsrfFailure {
  ok: false
  reason: CsrfFailureReason
}

const OK: CsrfResult = Object.freeze({ ok: true })
const fail = (reason: CsrfFailureReason): CsrfResult => ({ ok: false, reason })

// ---------------------------------------------------------------------------------------------
// Names

/** The session data key the synchronizer token lives under. Reserved: do not write it yourself. */
export const CSRF_SESSION_KEY = '__csrf'
/** The request header a token is read from (fetch calls). */
export const CSRF_HEADER = 'x-csrf-token'
/** The form field a token is read from (HTML forms). */
export const CSRF_FIELD = 'csrf_token'
/** The header names an origin decision depends on; responses to checked requests should `Vary` on them. */
export const CSRF_VARY = 'Origin, Sec-Fetch-Site'

/** Random bytes in a token: 256 bits, 43 base64url characters. */
const TOKEN_BYTES = 32
const TOKEN_LENGTH = 43

// ---------------------------------------------------------------------------------------------
// Constant-time comparison

/**
 * Compares two strings or byte arrays without an early exit: the time taken depends only on the
 * longer input's length, never on where the first difference is. Strings are compared as UTF-8.
 */
export function constantTimeEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  const x = typeof a === 'string' ? utf8.encode(a) : a
  const y = typeof b === 'string' ? utf8.encode(b) : b
  const length = Math.max(x.length, y.length)
  let difference = x.length ^ y.length
  for (let i = 0; i < length; i++) difference |= (x[i] ?? 0) ^ (y[i] ?? 0)
  return difference === 0
}

function randomToken(): string {
  const bytes = new Uint8Array(TOKEN_BYTES)
  crypto.getRandomValues(bytes)
  return base64urlEncode(bytes)
}

/** The 32 bytes of a well-formed token, or undefined. The length of what a client sent is not secret. */
function tokenBytes(token: string): Uint8Array | undefined {
  if (token.length !== TOKEN_LENGTH) return undefined
  const bytes = base64urlDecode(token)
  return bytes && bytes.length === TOKEN_BYTES ? bytes : undefined
}

// ---------------------------------------------------------------------------------------------
// Synchronizer token, kept in the session

/** What the CSRF helpers need of a session: a `Session` from `sessions.get()` fits. */
export interface CsrfSession {
  readonly id: string
  readonly data: object
}

interface StoredToken {
  token: string
  /** Fingerprint of the session id the token was minted for. */
  sid: string
}

// The token is bound to the session id, so `regenerate()` at login retires it (checklist 42).
// The data holds a 64-bit FNV-1a fingerprint of the id rather than the id itself: with
// `hashIds`, a leaked store must not contain live session ids. The fingerprint only detects
// that the id changed; it is not what keeps the token secret.
const FNV_OFFSET = 0xcbf29ce484222325n
const FNV_PRIME = 0x100000001b3n
const MASK_64 = 0xffffffffffffffffn

function fingerprint(id: string): string {
  let hash = FNV_OFFSET
  for (const byte of utf8.encode(id)) hash = ((hash ^ BigInt(byte)) * FNV_PRIME) & MASK_64
  return hash.toString(16).padStart(16, '0')
}

function storedToken(session: CsrfSession): string | undefined {
  const entry: unknown = (session.data as Record<string, unknown>)[CSRF_SESSION_KEY]
  if (typeof entry !== 'object' || entry === null) return undefined
  const { token, sid } = entry as Partial<StoredToken>
  if (typeof token !== 'string' || typeof sid !== 'string' || !tokenBytes(token)) return undefined
  return sid === fingerprint(session.id) ? token : undefined
}

function mintToken(session: CsrfSession): string {
  const token = randomToken()
  const entry: StoredToken = { token, sid: fingerprint(session.id) }
  ;(session.data as Record<string, unknown>)[CSRF_SESSION_KEY] = entry
  return token
}

/**
 * The session's CSRF token, created (32 random bytes, base64url) and stored in the session under
 * {@link CSRF_SESSION_KEY} when it has none, or when the one it has was minted for another
 * session id (after `regenerate()`). Storing it marks the session changed, so a new visitor gets
 * a session cookie: render the token before the response is sent.
 */
export function csrfToken(session: CsrfSession): string {
  return storedToken(session) ?? mintToken(session)
}

/** `{ name: 'csrf_token', value }`, for a hidden `<input>` in a form. */
export function csrfField(session: CsrfSession): { name: typeof CSRF_FIELD; value: string } {
  return { name: CSRF_FIELD, value: csrfToken(session) }
}

/** Options of {@link verifyCsrfToken}. */
export interface VerifyTokenOptions {
  /** Replace the token after a successful check, so each token works once. @default false */
  singleUse?: boolean
}

/**
 * Checks `token` against the session's token in constant time. A missing or empty token is
 * `missing-token`; anything else that does not match (including a token minted before
 * `regenerate()`) is `invalid-token`. A failed guess leaves the real token in place.
 */
export function verifyCsrfToken(session: CsrfSession, token: unknown, options: VerifyTokenOptions = {}): CsrfResult {
  if (token === undefined || token === null || token === '') return fail('missing-token')
  if (typeof token !== 'string') return fail('invalid-token')
  const expected = storedToken(session)
  const given = tokenBytes(token)
  if (expected === undefined || given === undefined) return fail('invalid-token')
  if (!constantTimeEqual(given, tokenBytes(expected)!)) return fail('invalid-token')
  if (options.singleUse) mintToken(session)
  return OK
}

// ---------------------------------------------------------------------------------------------
// Signed double-submit token, bound to the session id

/** One secret or a list of them: the first signs, every one verifies. Each at least 32 characters. */
export type CsrfSecrets = string | readonly string[]

const keyCache = new Map<string, Promise<CryptoKey>>()
const KEY_CACHE_SIZE = 64

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret)
  if (!key) {
    if (keyCache.size >= KEY_CACHE_SIZE) keyCache.clear()
    key = crypto.subtle.importKey('raw', utf8.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify'])
    keyCache.set(secret, key)
  }
  return key
}

function secretList(secrets: CsrfSecrets, caller: string): readonly string[] {
  const list = typeof secrets === 'string' ? [secrets] : secrets
  if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === 'string' && s.length >= 32)) {
    throw new TypeError(`${caller}: secrets must be a string or a non-empty list of strings, each at least 32 characters`)
  }
  return list
}

// The MAC covers a label (so a CSRF token is never also a valid session-cookie signature made
// with the same secret), the session id, and the random part, which has a fixed length and so
// cannot be confused with the end of the id.
function signedMessage(sessionId: string, random: string): Uint8Array<ArrayBuffer> {
  return utf8.encode(`tessera-csrf.v1\n${sessionId}\n${random}`)
}

/**
 * A stateless token bound to `sessionId`: `<random>.<HMAC-SHA-256(secret, sessionId, random)>`,
 * base64url. Nothing is stored; {@link verifySignedCsrfToken} checks it with the same secrets
 * and the same session id. A token minted for one session fails for every other.
 *
 * The session must keep its id: a new session with no data is not saved, so its id is gone at
 * the next request. Mint it for a session that holds something (or use {@link csrfToken}).
 */
export async function createCsrfToken(secrets: CsrfSecrets, sessionId: string): Promise<string> {
  const [secret] = secretList(secrets, 'createCsrfToken')
  if (typeof sessionId !== 'string' || sessionId === '') throw new TypeError('createCsrfToken: sessionId must be a non-empty string')
  const random = randomToken()
  const mac = await crypto.subtle.sign('HMAC', await hmacKey(secret!), signedMessage(sessionId, random))
  return `${random}.${base64urlEncode(new Uint8Array(mac))}`
}

/** Checks a token from {@link createCsrfToken} for `sessionId` (any of `secrets` may have signed it). */
export async function verifySignedCsrfToken(secrets: CsrfSecrets, sessionId: string, token: unknown): Promise<CsrfResult> {
  const list = secretList(secrets, 'verifySignedCsrfToken')
  if (token === undefined || token === null || token === '') return fail('missing-token')
  if (typeof token !== 'string' || typeof sessionId !== 'string' || sessionId === '') return fail('invalid-token')
  if (token.length !== TOKEN_LENGTH * 2 + 1 || token[TOKEN_LENGTH] !== '.') return fail('invalid-token')
  const random = token.slice(0, TOKEN_LENGTH)
  const mac = tokenBytes(token.slice(TOKEN_LENGTH + 1))
  if (!tokenBytes(random) || !mac) return fail('invalid-token')
  const message = signedMessage(sessionId, random)
  const signature = new Uint8Array(mac)
  for (const secret of list) {
    // crypto.subtle.verify compares the MAC in constant time.
    if (await crypto.subtle.verify('HMAC', await hmacKey(secret), signature, message)) return OK
  }
  return fail('invalid-token')
}

// ---------------------------------------------------------------------------------------------
// Requests: a Web Request, or anything shaped like node:http's IncomingMessage

/** A Node request as far as the CSRF checks read one (Express, Connect, Next.js Pages API routes). */
export interface NodeLikeRequest {
  method?: string
  /** The request target: a path (`/login`), or an absolute URL. */
  url?: string
  headers: Record<string, string | string[] | undefined>
  /** The connection; `encrypted: true` (a TLS socket) makes the request's own origin https. */
  socket?: object | null
  /** A body parsed by the app (`express.urlencoded()`, Next.js Pages API routes). */
  body?: unknown
}

/** What the CSRF checks accept: a Web `Request`, a Node request, or `{ method, headers }` (Next.js `headers()`). */
export type CsrfRequest =
  | Request
  | NodeLikeRequest
  | { method?: string; url?: string; headers: { get(name: string): string | null } }

interface Normalized {
  method: string
  header(name: string): string | undefined
  url: string | undefined
  encrypted: boolean | undefined
  /** The Web request, when its body can be read from a clone. */
  web: Request | undefined
  /** The body parsed by a Node framework. */
  body: unknown
}

const isObject = (value: unknown): value is Record<string, any> => typeof value === 'object' && value !== null

function headerValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim()
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join(', ').trim()
  return undefined
}

function normalize(request: unknown): Normalized | undefined {
  if (!isObject(request) || !isObject(request.headers)) return undefined
  const headers = request.headers
  let header: (name: string) => string | undefined
  if (typeof headers.get === 'function') {
    header = (name) => {
      try {
        return headerValue(headers.get(name)) // null when absent
      } catch {
        return undefined
      }
    }
  } else {
    header = (name) => {
      if (Object.prototype.hasOwnProperty.call(headers, name)) return headerValue(headers[name])
      // Node lowercases header names; a hand-made object may not.
      for (const key of Object.keys(headers)) if (key.toLowerCase() === name) return headerValue(headers[key])
      return undefined
    }
  }
  const web = typeof request.clone === 'function' && typeof request.headers.get === 'function' ? (request as Request) : undefined
  const socket = request.socket
  return {
    method: typeof request.method === 'string' ? request.method.toUpperCase() : '',
    header,
    url: typeof request.url === 'string' ? request.url : undefined,
    encrypted: isObject(socket) ? (socket as { encrypted?: unknown }).encrypted === true : undefined,
    web,
    body: web ? undefined : request.body,
  }
}

// Only GET, HEAD and OPTIONS are safe; any other method (or none at all) is checked.
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** Whether a request with this method skips CSRF checks (GET, HEAD, OPTIONS). */
export function isSafeMethod(method: string | undefined): boolean {
  return typeof method === 'string' && SAFE_METHODS.has(method.toUpperCase())
}

// ---------------------------------------------------------------------------------------------
// Origin checks

/** Options of {@link verifyOrigin}. */
export interface OriginOptions {
  /**
   * Origins allowed to send unsafe requests, each a full origin: `'https://example.com'`,
   * `'http://localhost:3000'`. The request's own origin (from its URL, or `Host` on Node) is
   * always allowed. @default []
   */
  allowed?: readonly string[]
  /** Let `Sec-Fetch-Site: same-site` through to the origin check (its origin must still be allowed). @default false */
  allowSameSite?: boolean
  /**
   * Let an unsafe request with neither `Origin` nor `Referer` pass (old browsers, non-browser
   * clients, `Referrer-Policy: no-referrer` on a browser that omits `Origin`). The secure
   * default blocks it. @default false
   */
  allowMissingOrigin?: boolean
  /** Take the request's own origin from `X-Forwarded-Proto` and `X-Forwarded-Host` (behind a proxy you trust). @default false */
  trustProxy?: boolean
}

interface OriginPolicy {
  allowed: ReadonlySet<string>
  allowSameSite: boolean
  allowMissingOrigin: boolean
  trustProxy: boolean
}

// Options are normalized once per options object (Hono's approach: options into predicates).
const policies = new WeakMap<object, OriginPolicy>()

/** Validates origin options once per options object; throws a TypeError naming a bad entry. */
function originPolicy(options: OriginOptions, caller = 'verifyOrigin'): OriginPolicy {
  const cached = policies.get(options)
  if (cached) return cached
  const allowed = new Set<string>()
  const list = options.allowed ?? []
  if (!Array.isArray(list)) throw new TypeError(`${caller} option allowed must be a list of origins like 'https://example.com'`)
  for (const entry of list) {
    let origin: string | undefined
    try {
      const url = new URL(entry)
      const bare = url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password && !/[?#]/.test(entry)
      if ((url.protocol === 'https:' || url.protocol === 'http:') && bare) origin = url.origin
    } catch {
      // reported below
    }
    if (origin === undefined) throw new TypeError(`${caller} option allowed: ${JSON.stringify(entry)} is not an origin like 'https://example.com'`)
    allowed.add(origin)
  }
  const policy: OriginPolicy = {
    allowed,
    allowSameSite: options.allowSameSite === true,
    allowMissingOrigin: options.allowMissingOrigin === true,
    trustProxy: options.trustProxy === true,
  }
  policies.set(options, policy)
  return policy
}

const HOST = /^[A-Za-z0-9.\-_~%!$&'()*+,;=[\]:]+$/

function firstValue(value: string | undefined): string | undefined {
  const first = value?.split(',')[0]?.trim()
  return first ? first : undefined
}

/**
 * Whether `origin` is the request's own: the origin of its URL, or `scheme://Host` (the host the
 * browser asked for). Both count because servers disagree on which one carries the public name:
 * Next.js builds `request.url` from its own listening address, while `Host` is what the browser
 * sent; a page on another site can set neither.
 */
function isOwnOrigin(req: Normalized, origin: string, trustProxy: boolean): boolean {
  let scheme: string | undefined
  if (req.url && /^https?:\/\//i.test(req.url)) {
    try {
      const url = new URL(req.url)
      if (url.origin === origin) return true
      scheme = url.protocol.slice(0, -1)
    } catch {
      // fall back to the headers
    }
  }
  scheme ??= req.encrypted ? 'https' : 'http'
  let host = req.header('host')
  if (trustProxy) {
    const proto = firstValue(req.header('x-forwarded-proto'))?.toLowerCase()
    if (proto === 'https' || proto === 'http') scheme = proto
    host = firstValue(req.header('x-forwarded-host')) ?? host
  }
  if (!host || !HOST.test(host) || host.includes('@')) return false
  try {
    const url = new URL(`${scheme}://${host}`)
    return url.host === host.toLowerCase() && url.origin !== 'null' && url.origin === origin
  } catch {
    return false
  }
}

function checkOrigin(req: Normalized, policy: OriginPolicy): CsrfResult {
  if (SAFE_METHODS.has(req.method)) return OK

  // Fetch metadata first: browsers set Sec-Fetch-Site themselves and pages cannot forge it.
  const site = req.header('sec-fetch-site')?.toLowerCase()
  if (site) {
    if (site === 'cross-site') return fail('invalid-origin')
    if (site === 'same-site' && !policy.allowSameSite) return fail('invalid-origin')
    // 'none' is a user-initiated navigation; any value outside the standard ones fails closed.
    if (site !== 'same-origin' && site !== 'same-site' && site !== 'none') return fail('invalid-origin')
  }

  const matches = (origin: string): boolean =>
    origin !== 'null' && (policy.allowed.has(origin) || isOwnOrigin(req, origin, policy.trustProxy))

  const origin = req.header('origin')
  // `Origin: null` (sandboxed frames, data: URLs, some redirects) is cross-origin, not missing
  // (GHSA-mq59-m269-xvcx: Next.js Server Actions treated it as missing).
  if (origin !== undefined) return matches(origin) ? OK : fail('invalid-origin')

  const referer = req.header('referer')
  if (referer) {
    let refererOrigin: string
    try {
      refererOrigin = new URL(referer).origin
    } catch {
      return fail('invalid-origin')
    }
    return matches(refererOrigin) ? OK : fail('invalid-origin')
  }

  return policy.allowMissingOrigin ? OK : fail('invalid-origin')
}

/**
 * Checks where an unsafe request comes from. GET, HEAD and OPTIONS pass. For other methods:
 * `Sec-Fetch-Site: cross-site` fails; `same-site` fails unless `allowSameSite`; then `Origin`
 * must equal one of `allowed` or the request's own origin exactly (scheme, host and port), and
 * `Origin: null` fails; without `Origin`, the origin of `Referer` is compared the same way;
 * without either, the request fails unless `allowMissingOrigin`.
 *
 * Responses to requests checked this way depend on those headers: add {@link CSRF_VARY} to
 * their `Vary` (see {@link csrfVary}).
 *
 * @example
 * const result = verifyOrigin(request, { allowed: ['https://example.com'] })
 * if (!result.ok) return csrfForbidden(result)
 */
export function verifyOrigin(request: CsrfRequest, options: OriginOptions = {}): CsrfResult {
  const policy = originPolicy(options)
  const req = normalize(request)
  if (!req) return fail('invalid-origin')
  try {
    return checkOrigin(req, policy)
  } catch {
    return fail('invalid-origin')
  }
}

// ---------------------------------------------------------------------------------------------
// Whole-request check

/** Options of {@link verifyRequest}. */
export interface VerifyRequestOptions extends OriginOptions, VerifyTokenOptions {
  /**
   * Check a signed double-submit token from {@link createCsrfToken} (bound to `session.id`)
   * instead of the token kept in the session. `singleUse` does not apply to it.
   */
  secrets?: CsrfSecrets
  /** The request header carrying the token. @default 'x-csrf-token' */
  header?: string
  /** The form field carrying the token. @default 'csrf_token' */
  field?: string
  /**
   * The largest form body (in bytes) read from a Web `Request` to find the field; a bigger body
   * is not read and its token must come in the header. @default 1048576 (1 MiB)
   */
  maxBodySize?: number
}

const DEFAULT_MAX_BODY = 1024 * 1024

function formType(contentType: string | undefined): 'urlencoded' | 'multipart' | undefined {
  const type = contentType?.split(';')[0]?.trim().toLowerCase()
  if (type === 'application/x-www-form-urlencoded') return 'urlencoded'
  if (type === 'multipart/form-data') return 'multipart'
  return undefined
}

async function readAtMost(body: ReadableStream<Uint8Array>, max: number): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const reader = body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > max) {
      // Cancelling one branch of a tee resolves only once the other branch is cancelled too,
      // so it is not awaited; it stops the copy from buffering the rest of the body.
      reader.cancel().catch(() => {})
      return undefined
    }
    chunks.push(value)
  }
  const out = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.byteLength
  }
  return out
}

/** The form field from a clone of a Web request's body, leaving the body itself for the app. */
async function webFormField(request: Request, type: 'urlencoded' | 'multipart', field: string, max: number): Promise<string | undefined> {
  if (request.body === null || request.bodyUsed) return undefined
  const declared = Number(request.headers.get('content-length'))
  if (Number.isFinite(declared) && declared > max) return undefined
  const bytes = await readAtMost(request.clone().body!, max)
  if (!bytes) return undefined
  if (type === 'urlencoded') return new URLSearchParams(new TextDecoder().decode(bytes)).get(field) ?? undefined
  const form = await new Response(bytes, { headers: { 'content-type': request.headers.get('content-type')! } }).formData()
  const value = form.get(field)
  return typeof value === 'string' ? value : undefined
}

/** The token a request carries: the header, else the form field. Never the query string (checklist 43). */
async function requestToken(req: Normalized, options: VerifyRequestOptions): Promise<string | undefined> {
  const fromHeader = req.header((options.header ?? CSRF_HEADER).toLowerCase())
  if (fromHeader !== undefined) return fromHeader
  const type = formType(req.header('content-type'))
  if (!type) return undefined
  const field = options.field ?? CSRF_FIELD
  if (req.web) {
    try {
      return await webFormField(req.web, type, field, options.maxBodySize ?? DEFAULT_MAX_BODY)
    } catch {
      return undefined
    }
  }
  // Node: only a body the app already parsed (express.urlencoded(), multer, Next.js Pages API
  // routes). Reading the stream here would take it from the app.
  if (isObject(req.body)) {
    const value = req.body[field]
    return typeof value === 'string' ? value : undefined
  }
  return undefined
}

/**
 * The whole check for one request: safe methods pass; for the others the origin is checked
 * ({@link verifyOrigin}), then the token from the `x-csrf-token` header or the `csrf_token` form
 * field (never the query string) is verified against the session ({@link verifyCsrfToken}), or
 * against `session.id` with `secrets` ({@link verifySignedCsrfToken}).
 *
 * On a Web `Request` a form body is read from a clone, so the app can still read it: call this
 * before the body is consumed. On Node the field is read only from a body the app already parsed
 * into `req.body` (`express.urlencoded()`, multer for multipart, Next.js Pages API routes).
 */
export async function verifyRequest(session: CsrfSession, request: CsrfRequest, options: VerifyRequestOptions = {}): Promise<CsrfResult> {
  const policy = originPolicy(options, 'verifyRequest')
  if (options.secrets !== undefined) secretList(options.secrets, 'verifyRequest')
  const req = normalize(request)
  if (!req) return fail('invalid-origin')
  if (SAFE_METHODS.has(req.method)) return OK
  try {
    const origin = checkOrigin(req, policy)
    if (!origin.ok) return origin
    const token = await requestToken(req, options)
    return options.secrets !== undefined
      ? await verifySignedCsrfToken(options.secrets, session.id, token)
      : verifyCsrfToken(session, token, { singleUse: options.singleUse === true })
  } catch {
    return fail('invalid-token')
  }
}

// ---------------------------------------------------------------------------------------------
// Responses

/**
 * A `Vary` value with `Origin` and `Sec-Fetch-Site` added to `existing` (kept as is, no
 * duplicates; `*` stays `*`). Set it on responses whose CSRF decision read those headers, so no
 * cache serves one origin's answer to another (checklist 47).
 *
 * @example
 * response.headers.set('vary', csrfVary(response.headers.get('vary')))
 */
export function csrfVary(existing?: string | readonly string[] | number | null): string {
  const current = (Array.isArray(existing) ? existing.join(',') : existing == null ? '' : String(existing))
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean)
  if (current.includes('*')) return '*'
  const seen = new Set(current.map((name) => name.toLowerCase()))
  for (const name of CSRF_VARY.split(', ')) if (!seen.has(name.toLowerCase())) current.push(name)
  return current.join(', ')
}

/** A 403 answer naming the reason, with `Vary: Origin, Sec-Fetch-Site` and `Cache-Control: no-store`. */
export function csrfForbidden(result: CsrfFailure): Response {
  return new Response(`Forbidden: CSRF check failed (${result.reason})\n`, {
    status: 403,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', vary: CSRF_VARY },
  })
}

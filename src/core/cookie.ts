// The cookie layer: lenient when it reads a `Cookie` header (bad input yields nothing, never an
// exception), strict when it writes a `Set-Cookie` (attributes are validated once, at construction).

/** `SameSite` values as Tessera accepts them. */
export type SameSite = 'lax' | 'strict' | 'none'

/** Attributes of one `Set-Cookie`, already validated. */
export interface CookieAttributes {
  /** Seconds; `undefined` makes a browser-session cookie. */
  maxAge?: number
  path?: string
  domain?: string
  httpOnly?: boolean
  secure?: boolean
  sameSite?: SameSite
  partitioned?: boolean
}

/** What a browser keeps of one cookie, name and attributes included (RFC 6265 §6.1's minimum). */
export const MAX_COOKIE_BYTES = 4096
/** A sealed value longer than one cookie goes out as `name.0`, `name.1`, …; at most this many are read back. */
export const MAX_CHUNKS = 32

/** A cookie to send: the framework-neutral value an adapter moves into its response. */
export interface OutgoingCookie {
  name: string
  value: string
  attributes: CookieAttributes
}

// RFC 6265 token for names and cookie-octets for values: anything else could break the header.
const NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const VALUE = /^[!#-+\--:<-[\]-~]*$/
const DOMAIN = /^\.?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i
const PATH = /^[\u0020-\u003A\u003C-\u007E]*$/

export function isCookieValue(value: string): boolean {
  return VALUE.test(value)
}
export function isCookieName(name: string): boolean {
  return NAME.test(name)
}
export function isCookieDomain(domain: string): boolean {
  return DOMAIN.test(domain)
}
export function isCookiePath(path: string): boolean {
  return PATH.test(path) && path.startsWith('/')
}

function decode(value: string): string {
  if (value.length > 1 && value.charCodeAt(0) === 0x22 && value.charCodeAt(value.length - 1) === 0x22) {
    value = value.slice(1, -1)
  }
  if (value.indexOf('%') === -1) return value
  try {
    return decodeURIComponent(value)
  } catch {
    return value // bad percent-encoding: keep the raw text; it then fails validation like any junk
  }
}

// Reading is linear in the header's length whatever it holds (review 1): every `indexOf` starts
// where the previous one stopped, and the `=` found for one pair is kept for the next ones while it
// lies ahead. (Searching for `=` from each pair's start made a header of many `;` and no `=` cost
// n²/2 steps: 9 s for 256 k semicolons in a Web Request, which has no header limit.)

/** A request's Cookie header is read up to this many characters (the pair that straddles it is dropped). */
export const MAX_COOKIE_HEADER_LENGTH = 256 * 1024
/** ...and up to this many `;`-separated pairs. */
export const MAX_COOKIE_PAIRS = 1000

/** SP or HTAB: the optional whitespace around a cookie pair. */
function isBlank(code: number): boolean {
  return code === 0x20 || code === 0x09
}

/**
 * Calls `visit(keyStart, keyEnd, eq, end)` for each `name=value` pair of `header`, in order, up to
 * `maxPairs` pairs. Pairs without `=` or without a name are skipped (and counted).
 */
function eachPair(header: string, maxPairs: number, visit: (keyStart: number, keyEnd: number, eq: number, end: number) => void): void {
  const length = header.length
  let start = 0
  let eq = -1 // the first '=' at or after `start`, once looked up (-1: not yet; length: none left)
  for (let pairs = 0; start < length && pairs < maxPairs; pairs++) {
    let end = header.indexOf(';', start)
    if (end === -1) end = length
    if (eq < start) {
      eq = header.indexOf('=', start)
      if (eq === -1) eq = length
    }
    if (eq < end) {
      let keyStart = start
      while (keyStart < eq && isBlank(header.charCodeAt(keyStart))) keyStart++
      let keyEnd = eq
      while (keyEnd > keyStart && isBlank(header.charCodeAt(keyEnd - 1))) keyEnd--
      if (keyEnd > keyStart) visit(keyStart, keyEnd, eq, end)
    }
    start = end + 1
  }
}

/** The value of the pair whose `=` is at `eq` and which ends at `end`, unquoted and decoded. */
function valueAt(header: string, eq: number, end: number): string {
  return decode(header.slice(eq + 1, end).trim())
}

/**
 * The value of the first cookie called `name` in a `Cookie` header, or undefined. Linear in the
 * header's length. The first wins when a name repeats: browsers send the most specific path first.
 */
export function readCookie(header: string | null | undefined, name: string, maxPairs = Infinity): string | undefined {
  if (!header) return undefined
  // eachPair's walk, inlined: this is every request's lookup, and a callback would cost a closure.
  const length = header.length
  let start = 0
  let eq = -1
  for (let pairs = 0; start < length && pairs < maxPairs; pairs++) {
    let end = header.indexOf(';', start)
    if (end === -1) end = length
    if (eq < start) {
      eq = header.indexOf('=', start)
      if (eq === -1) eq = length
    }
    if (eq < end) {
      let keyStart = start
      while (keyStart < eq && isBlank(header.charCodeAt(keyStart))) keyStart++
      let keyEnd = eq
      while (keyEnd > keyStart && isBlank(header.charCodeAt(keyEnd - 1))) keyEnd--
      if (keyEnd - keyStart === name.length && keyEnd > keyStart && header.startsWith(name, keyStart)) return valueAt(header, eq, end)
    }
    start = end + 1
  }
  return undefined
}

/** Every cookie of a `Cookie` header, first occurrence of each name kept; a prototype-free record. Linear. */
export function parseCookies(header: string | null | undefined, maxPairs = Infinity): Record<string, string> {
  const cookies: Record<string, string> = Object.create(null)
  if (!header) return cookies
  eachPair(header, maxPairs, (keyStart, keyEnd, eq, end) => {
    const name = header.slice(keyStart, keyEnd)
    if (!(name in cookies)) cookies[name] = valueAt(header, eq, end)
  })
  return cookies
}

/** The cookies of one request, as the core reads them: any number of lookups, one parse. */
export interface RequestCookies {
  get(name: string): string | undefined
}

/**
 * A request's cookies from its `Cookie` header, bounded to {@link MAX_COOKIE_HEADER_LENGTH}
 * characters and {@link MAX_COOKIE_PAIRS} pairs. The first lookup scans the header (no index is
 * built for the usual single lookup of `sid`); a second one indexes it once, so the cookie store's
 * `sid`, `sid.0` … `sid.31` cost one scan and one parse, not 33.
 */
export class HeaderCookies implements RequestCookies {
  readonly #header: string
  #index: Record<string, string> | undefined
  #scanned = false

  constructor(header: string | null | undefined) {
    this.#header = bounded(header ?? '')
  }

  get(name: string): string | undefined {
    if (this.#index !== undefined) return this.#index[name]
    if (!this.#scanned) {
      this.#scanned = true
      return readCookie(this.#header, name, MAX_COOKIE_PAIRS)
    }
    this.#index = parseCookies(this.#header, MAX_COOKIE_PAIRS)
    return this.#index[name]
  }
}

/** The header cut to {@link MAX_COOKIE_HEADER_LENGTH}, at a `;` so no pair is read half. */
function bounded(header: string): string {
  if (header.length <= MAX_COOKIE_HEADER_LENGTH) return header
  const cut = header.lastIndexOf(';', MAX_COOKIE_HEADER_LENGTH)
  return cut === -1 ? '' : header.slice(0, cut)
}

const EPOCH = 'Thu, 01 Jan 1970 00:00:00 GMT'

/** Serializes one cookie. Name, value and attributes were validated before; this only formats. */
export function serializeCookie(cookie: OutgoingCookie): string {
  const { name, value, attributes: a } = cookie
  if (!NAME.test(name)) throw new TypeError(`cookie name is invalid: ${JSON.stringify(name)}`)
  if (!VALUE.test(value)) throw new TypeError(`cookie value for ${name} is invalid`)
  let out = `${name}=${value}`
  if (a.maxAge !== undefined) {
    const maxAge = Math.max(0, Math.floor(a.maxAge))
    out += `; Max-Age=${maxAge}; Expires=${maxAge === 0 ? EPOCH : new Date(Date.now() + maxAge * 1000).toUTCString()}`
  }
  if (a.domain) out += `; Domain=${a.domain}`
  if (a.path) out += `; Path=${a.path}`
  if (a.httpOnly) out += '; HttpOnly'
  if (a.secure) out += '; Secure'
  if (a.sameSite) out += `; SameSite=${a.sameSite === 'lax' ? 'Lax' : a.sameSite === 'strict' ? 'Strict' : 'None'}`
  if (a.partitioned) out += '; Partitioned'
  return out
}

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

/**
 * The value of the first cookie called `name` in a `Cookie` header, or undefined.
 * The first wins when a name repeats: browsers send the most specific path first.
 */
export function readCookie(header: string | null | undefined, name: string): string | undefined {
  if (!header) return undefined
  const length = header.length
  let start = 0
  while (start < length) {
    let end = header.indexOf(';', start)
    if (end === -1) end = length
    const eq = header.indexOf('=', start)
    if (eq !== -1 && eq < end) {
      let keyStart = start
      while (keyStart < eq && header.charCodeAt(keyStart) === 0x20) keyStart++
      let keyEnd = eq
      while (keyEnd > keyStart && header.charCodeAt(keyEnd - 1) === 0x20) keyEnd--
      if (keyEnd - keyStart === name.length && header.startsWith(name, keyStart)) {
        return decode(header.slice(eq + 1, end).trim())
      }
    }
    start = end + 1
  }
  return undefined
}

/** Every cookie of a `Cookie` header, first occurrence of each name kept; a prototype-free record. */
export function parseCookies(header: string | null | undefined): Record<string, string> {
  const cookies: Record<string, string> = Object.create(null)
  if (!header) return cookies
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=')
    if (eq === -1) continue
    const name = pair.slice(0, eq).trim()
    if (name && !(name in cookies)) cookies[name] = decode(pair.slice(eq + 1).trim())
  }
  return cookies
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

// The port between the core and the frameworks: everything the core needs from a request and its
// response, whatever the framework. An adapter (src/adapters) builds one per request; the core
// reads the request's cookies through it and hands it the cookies to set.
import type { OutgoingCookie, RequestCookies } from './cookie.js'

/** The request-side view the core needs, whatever the framework. */
export interface RequestContext {
  /**
   * The request's cookies. Called once per load; the core may then look up many names (the
   * cookie store: `sid`, `sid.0` … `sid.31`), so it must not parse the header again per lookup:
   * adapters with a header hand it to `HeaderCookies` (one bounded, linear parse per request).
   */
  cookies(): RequestCookies
  /** true over HTTPS, false over known plain HTTP, undefined when the adapter cannot tell. */
  readonly secure: boolean | undefined
  /**
   * Puts cookies on the response, replacing earlier ones of the same names (`lines`: the same
   * cookies already serialised). Throws a SessionError (`READ_ONLY`, `HEADERS_SENT`) when it cannot.
   */
  apply(cookies: readonly OutgoingCookie[], lines: readonly string[]): void
  /** Known to refuse writes (Next.js `cookies()` in a server component). */
  readonly readOnly: boolean
  /**
   * Apply cookies before the store write: where a cookie write is what fails in a read-only
   * context (a `cookies()` store we could not recognise), the store then stays untouched.
   */
  readonly cookiesFirst: boolean
  /** The request's Host (for messages only: a warning about Secure cookies over plain HTTP). */
  host?(): string | undefined
  /** The object a session is cached on for the duration of the request (and events' `request`). */
  readonly key: object
}

export const READ_ONLY_MESSAGE =
  'The session cannot be written here: cookies are read-only in a server component. ' +
  'Change the session in a Server Action or a Route Handler (or refresh it in proxy.ts).'

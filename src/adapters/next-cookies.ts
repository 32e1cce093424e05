// The Next.js cookies() adapter (route handlers, server actions, server components): reads and
// sets cookies through the store `cookies()` returns. In a server component that store refuses
// writes: the context says so up front (readOnly), and a write that fails anyway is READ_ONLY.
import { READ_ONLY_MESSAGE, type RequestContext } from '../core/context.js'
import type { OutgoingCookie } from '../core/cookie.js'
import { SessionError } from '../core/errors.js'
import type { CookieStoreLike } from '../core/frameworks.js'

export function cookieStoreContext(store: CookieStoreLike): RequestContext {
  return {
    // Next.js parsed the header once already (its RequestCookies); each lookup is a Map read.
    cookies: () => ({ get: (name: string) => store.get(name)?.value }),
    secure: undefined,
    // Next.js hands server components a proxy whose set and delete are one and the same
    // throwing function; route handlers and server actions get two distinct ones.
    readOnly: store.set === store.delete,
    cookiesFirst: true,
    key: store,
    apply(cookies: readonly OutgoingCookie[]) {
      try {
        for (const { name, value, attributes: a } of cookies) {
          store.set(name, value, {
            ...(a.maxAge === undefined ? {} : { maxAge: a.maxAge }),
            path: a.path,
            ...(a.domain ? { domain: a.domain } : {}),
            httpOnly: a.httpOnly,
            secure: a.secure,
            sameSite: a.sameSite,
            ...(a.partitioned ? { partitioned: true } : {}),
          })
        }
      } catch (cause) {
        throw new SessionError('READ_ONLY', READ_ONLY_MESSAGE, { cause })
      }
    },
  }
}

// The node:http adapter (Express, Connect, micro, Next.js Pages API routes and getServerSideProps):
// reads the Cookie header of an IncomingMessage, sets Set-Cookie on a ServerResponse. Saving
// before the headers leave (autoCommit) is autocommit.ts.
import type { RequestContext } from '../core/context.js'
import type { OutgoingCookie } from '../core/cookie.js'
import { HeaderCookies } from '../core/cookie.js'
import { SessionError } from '../core/errors.js'
import type { NodeRequest, NodeResponse } from '../core/frameworks.js'
import { forwardedHttps, mergeSetCookie, privateCacheControl } from './headers.js'

export function nodeContext(req: NodeRequest, res: NodeResponse, trustProxy: boolean): NodeContext {
  let secure = (req.socket as { encrypted?: boolean } | null | undefined)?.encrypted === true
  if (trustProxy && !secure) {
    const proto = req.headers['x-forwarded-proto']
    secure = forwardedHttps(Array.isArray(proto) ? proto[0] : proto) ?? false
  }
  return new NodeContext(req, res, secure)
}

// A class rather than an object literal with closures: one allocation per request instead of three.
export class NodeContext implements RequestContext {
  readonly readOnly = false
  readonly cookiesFirst = false
  constructor(
    readonly key: NodeRequest,
    readonly response: NodeResponse,
    readonly secure: boolean,
  ) {}

  host(): string | undefined {
    return this.key.headers.host as string | undefined
  }

  cookies(): HeaderCookies {
    const header = this.key.headers.cookie
    return new HeaderCookies(Array.isArray(header) ? header.join('; ') : header)
  }

  apply(cookies: readonly OutgoingCookie[], lines: readonly string[]): void {
    const res = this.response
    if (res.headersSent) {
      throw new SessionError('HEADERS_SENT', 'The session cookie cannot be set: the response headers were already sent. Commit the session before writing the response.')
    }
    res.setHeader('Set-Cookie', mergeSetCookie(res.getHeader('set-cookie'), lines))
    const given = res.getHeader('cache-control')
    const cacheControl = privateCacheControl(given === undefined ? undefined : String(given))
    if (cacheControl !== given) res.setHeader('Cache-Control', cacheControl)
  }
}

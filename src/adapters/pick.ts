// Which adapter serves `sessions.get(...)`'s arguments: node:http's (req, res) or { req, res },
// a Web Request (and Response) or { request, response }, or Next.js cookies().
import type { RequestContext } from '../core/context.js'
import type { ResponseLike } from '../core/frameworks.js'
import { isObject } from '../core/plain.js'
import { nodeContext } from './node.js'
import { cookieStoreContext } from './next-cookies.js'
import { isCookieStore, isNodePair, isNodeRequest, isNodeResponse, isRequestLike } from './shapes.js'
import { webContext } from './web.js'

const SHAPES =
  'sessions.get() takes (req, res) from node:http, a { req, res } context, a Web Request (and optional Response), ' +
  'a { request, response } pair, or the cookie store from Next.js cookies()'

/** Normalizes any accepted argument list (its first two arguments) into a RequestContext, or throws a TypeError listing the shapes. */
export function pickContext(a: unknown, b: unknown, trustProxy: boolean): RequestContext {
  if (b !== undefined) {
    if (isRequestLike(a) && isObject(b) && isObject(b.headers)) return webContext(a, b as ResponseLike, trustProxy)
    if (isNodeRequest(a) && isNodeResponse(b)) return nodeContext(a, b, trustProxy)
    throw new TypeError(SHAPES)
  }
  if (isRequestLike(a)) return webContext(a, undefined, trustProxy)
  if (isObject(a)) {
    if (isNodePair(a)) return nodeContext(a.req, a.res, trustProxy)
    if (isRequestLike(a.request)) return webContext(a.request, a.response, trustProxy)
    if (isCookieStore(a)) return cookieStoreContext(a)
    if (typeof a.then === 'function') throw new TypeError(`${SHAPES}. Got a promise: in Next.js 15+, await it first (sessions.get(await cookies()))`)
  }
  throw new TypeError(SHAPES)
}

// Commit, second half: carry out a plan (plan.ts). Store writes, then cookies (cookies first where
// the context asks for it, and inside writeHead, where the headers leave now). One rollback path:
// any failure, thrown or rejected, restores the state. One READ_ONLY rule: a context that cannot
// write cookies refuses the commit, unless it was only a touch, which waits for a request that can.
import { READ_ONLY_MESSAGE, type RequestContext } from './context.js'
import { serializeCookie, type OutgoingCookie } from './cookie.js'
import { SessionError } from './errors.js'
import { callStore } from './load.js'
import { after, attempt, isThenable, type MaybePromise } from './maybe.js'
import type { Plan, StoreWrite } from './plan.js'
import type { SessionStore } from './types.js'

const NO_LINES: string[] = []

/**
 * Runs `plan` and resolves to the `Set-Cookie` lines it applied. `inHead`: the response's headers
 * are leaving now (node:http's writeHead): the cookies are applied before this returns and the
 * store write may finish later. Synchronous all the way when the store answers synchronously.
 */
export function execute(store: SessionStore, ctx: RequestContext, plan: Plan, inHead: boolean): MaybePromise<string[]> {
  return attempt(
    () => run(store, ctx, plan, inHead),
    (error) => {
      plan.restore()
      if (plan.optional && error instanceof SessionError && error.code === 'READ_ONLY') return NO_LINES
      throw error
    },
  )
}

function run(store: SessionStore, ctx: RequestContext, plan: Plan, inHead: boolean): MaybePromise<string[]> {
  if (ctx.readOnly) throw new SessionError('READ_ONLY', READ_ONLY_MESSAGE)
  const cookies = plan.cookies
  if (typeof cookies !== 'function') return apply(store, ctx, plan, cookies, inHead)
  if (inHead) {
    throw new SessionError(
      'HEADERS_SENT',
      'The cookie store seals asynchronously, so its cookie cannot be set inside writeHead(). Call `await session.commit()` before writing the response head.',
    )
  }
  return cookies().then((sealed) => apply(store, ctx, plan, sealed, false))
}

function apply(store: SessionStore, ctx: RequestContext, plan: Plan, cookies: readonly OutgoingCookie[], cookiesFirst: boolean): MaybePromise<string[]> {
  const lines = cookies.length ? cookies.map(serializeCookie) : NO_LINES // once: for the caller and the response
  if (cookiesFirst || ctx.cookiesFirst) {
    if (cookies.length) ctx.apply(cookies, lines)
    return after(write(store, plan, 0), () => lines)
  }
  return after(write(store, plan, 0), () => {
    if (cookies.length) ctx.apply(cookies, lines)
    return lines
  })
}

/** The plan's store writes from `index` on, one after the other. */
function write(store: SessionStore, plan: Plan, index: number): MaybePromise<void> {
  for (let i = index; i < plan.writes.length; i++) {
    const done = callStore(plan.writes[i]!.what, () => call(store, plan.writes[i]!))
    if (isThenable(done)) return done.then(() => write(store, plan, i + 1))
  }
  plan.done?.()
}

function call(store: SessionStore, w: StoreWrite): MaybePromise<void> {
  switch (w.op) {
    case 'destroy':
      return store.destroy(w.key)
    case 'set':
      return store.set(w.key, w.record)
    case 'update':
      return store.update!(w.key, w.record)
    case 'patch':
      return store.patch!(w.key, w.changes, w.expiresAt)
    case 'touch':
      return store.touch!(w.key, w.expiresAt)
  }
}

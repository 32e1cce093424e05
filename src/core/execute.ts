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
import type { SessionStore, StatelessStore } from './types.js'

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
    return after(write(store, plan, 0), (kept) => (kept ? lines : cleared(ctx, plan, lines)))
  }
  return after(write(store, plan, 0), (kept) => {
    if (!kept) return cleared(ctx, plan, undefined)
    if (cookies.length) ctx.apply(cookies, lines)
    return lines
  })
}

/**
 * A rotation found the session gone: the plan destroys it and its clearing cookies go out instead.
 * `sent`: the cookies already applied (cookies first). Clearing them may then be too late (the
 * head has left); the cookie sent names an id with no record, which loads as a new session.
 */
function cleared(ctx: RequestContext, plan: Plan, sent: string[] | undefined): string[] {
  const cookies = plan.gone!()
  const lines = cookies.map(serializeCookie)
  if (sent === undefined) ctx.apply(cookies, lines)
  else {
    try {
      ctx.apply(cookies, lines)
    } catch {
      return sent
    }
  }
  return lines
}

/** The plan's store writes from `index` on, one after the other; false when a rotation found the session gone. */
function write(store: SessionStore, plan: Plan, index: number): MaybePromise<boolean> {
  for (let i = index; i < plan.writes.length; i++) {
    const w = plan.writes[i]!
    const done = callStore(w.what, () => call(store, w))
    if (isThenable(done)) return done.then((answer) => (w.op === 'rotate' && answer === false ? false : write(store, plan, i + 1)))
    if (w.op === 'rotate' && done === false) return false
  }
  plan.done?.()
  return true
}

function call(store: SessionStore, w: StoreWrite): MaybePromise<void | boolean> {
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
    case 'rotate':
      return store.rotate!(w.oldKey, w.key, w.record)
    case 'revoke-seal':
      return (store as unknown as StatelessStore).revokeSeal!(w.id, w.until)
  }
}

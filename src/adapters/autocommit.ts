// autoCommit for node:http and everything built on it (Express, Connect, micro, Next.js Pages).
// `writeHead` is synchronous, so the cookie is decided and set there and the store write is
// started; `end` waits for that write (or runs the whole commit when no header was written yet),
// so the response is never complete before the session is persisted.
import { SessionError } from '../core/errors.js'
import type { NodeResponse } from '../core/frameworks.js'
import { isThenable } from '../core/maybe.js'
import { commitInternally, type Session } from '../core/session.js'
import { setCookieLines } from './headers.js'

const HOOKED = Symbol.for('tessera.autoCommit')
const ON_ERROR = Symbol.for('tessera.autoCommit.onError')

/** What happens when an automatic commit fails. */
export type CommitErrorHandler = (error: unknown, res: NodeResponse) => void

/** Default: a 500 when the headers are still unsent, otherwise the connection is closed with the error. */
export const answerCommitError: CommitErrorHandler = (error, res) => {
  if (!res.headersSent) {
    res.statusCode = 500
    res.setHeader('Content-Type', 'text/plain; charset=utf-8')
    const code = error instanceof SessionError ? error.code : 'ERROR'
    res.end(`Session error: ${code}`)
  } else {
    res.destroy?.(error instanceof Error ? error : new Error(String(error)))
  }
}

/** What one hooked response remembers, kept on the response itself under HOOKED. */
interface Hook {
  session: Session<object>
  writeHead: NodeResponse['writeHead']
  end: NodeResponse['end']
  pending: Promise<unknown> | undefined
  /** end() already decided (and ran) the commit; the writeHead() that Node's end() calls need not. */
  committedAtEnd: boolean
}

type Hooked = NodeResponse & { [HOOKED]?: Hook | boolean; [ON_ERROR]?: CommitErrorHandler }

/** Makes `res` commit `session` before its headers leave. Idempotent per response; a later call may replace `onError`. */
export function installAutoCommit(session: Session<object>, res: NodeResponse, onError?: CommitErrorHandler): void {
  const hooked = res as Hooked
  if (onError || !hooked[ON_ERROR]) hooked[ON_ERROR] = onError ?? answerCommitError
  if (hooked[HOOKED]) return
  // The patched methods are shared functions that find their state on the response: closures
  // made per request were a measurable share of the allocations on a read (bench/profile.mjs).
  hooked[HOOKED] = { session, writeHead: res.writeHead, end: res.end, pending: undefined, committedAtEnd: false } satisfies Hook
  res.writeHead = hookedWriteHead
  res.end = hookedEnd
}

function hookOf(res: NodeResponse): Hook {
  return (res as Hooked)[HOOKED] as Hook
}

function hookedWriteHead(this: NodeResponse, ...args: unknown[]): unknown {
  const res = this
  const hook = hookOf(res)
  if (!hook.pending && !hook.committedAtEnd) {
    // Set-Cookie passed to writeHead() would replace ours: merge it into the response first.
    const headers = typeof args[1] === 'object' && args[1] !== null ? 1 : typeof args[2] === 'object' && args[2] !== null ? 2 : -1
    if (headers !== -1 && !Array.isArray(args[headers])) args[headers] = moveSetCookie(res, args[headers] as Record<string, unknown>)
    try {
      const done = hook.session[commitInternally](true)
      if (isThenable(done)) hook.pending = done
    } catch (error) {
      hook.pending = Promise.reject(error)
    }
    hook.pending?.catch(() => {}) // reported by end(); no unhandled rejection meanwhile
  }
  return hook.writeHead.apply(res, args)
}

function hookedEnd(this: NodeResponse, ...args: unknown[]): NodeResponse {
  const res = this
  const hook = hookOf(res)
  if (!hook.pending && !res.headersSent) {
    try {
      // A MemoryStore commit completes right here; only an async one makes end() wait.
      const done = hook.session[commitInternally](false)
      if (isThenable(done)) hook.pending = done
      hook.committedAtEnd = true
    } catch (error) {
      failCommit(res, hook, error)
      return res
    }
  }
  if (hook.pending) {
    hook.pending.then(
      () => finishEnd(res, hook, args),
      (error: unknown) => failCommit(res, hook, error),
    )
  } else {
    finishEnd(res, hook, args)
  }
  return res
}

function finishEnd(res: NodeResponse, hook: Hook, args: unknown[]): void {
  // The commit is decided: Node's end() calls writeHead() itself, which need not pass the hook.
  res.end = hook.end
  res.writeHead = hook.writeHead
  hook.end.apply(res, args)
}

function failCommit(res: NodeResponse, hook: Hook, error: unknown): void {
  res.end = hook.end
  res.writeHead = hook.writeHead
  ;(res as Hooked)[ON_ERROR]!(error, res)
}

/** Moves a Set-Cookie given to writeHead() onto the response, so it joins the session's instead of replacing it. */
function moveSetCookie(res: NodeResponse, headers: Record<string, unknown>): Record<string, unknown> {
  const key = Object.keys(headers).find((name) => name.toLowerCase() === 'set-cookie')
  if (key === undefined) return headers
  const { [key]: value, ...rest } = headers
  res.setHeader('Set-Cookie', [...setCookieLines(res.getHeader('set-cookie')), ...setCookieLines(value)])
  return rest
}

// autoCommit for node:http and everything built on it (Express, Connect, micro, Next.js Pages).
// `writeHead` is synchronous, so the cookie is decided and set there and the store write is
// started; `end` waits for that write (or runs the whole commit when no header was written yet),
// so the response is never complete before the session is persisted.
import { SessionError } from '../core/errors.js'
import { commitInHead, prepareCommit, runCommit, type Session } from '../core/session.js'
import type { NodeResponse } from './context.js'

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

/** Makes `res` commit `session` before its headers leave. Idempotent per response; a later call may replace `onError`. */
export function installAutoCommit(session: Session<object>, res: NodeResponse, onError?: CommitErrorHandler): void {
  const hooked = res as NodeResponse & { [HOOKED]?: boolean; [ON_ERROR]?: CommitErrorHandler }
  if (onError || !hooked[ON_ERROR]) hooked[ON_ERROR] = onError ?? answerCommitError
  if (hooked[HOOKED]) return
  hooked[HOOKED] = true
  const writeHead = res.writeHead
  const end = res.end
  let pending: Promise<unknown> | undefined
  // end() already decided (and ran) the commit; the writeHead() that Node's end() calls need not.
  let committedAtEnd = false

  res.writeHead = function (this: NodeResponse, ...args: unknown[]) {
    if (!pending && !committedAtEnd) {
      // Set-Cookie passed to writeHead() would replace ours: merge it into the response first.
      const headers = typeof args[1] === 'object' && args[1] !== null ? 1 : typeof args[2] === 'object' && args[2] !== null ? 2 : -1
      if (headers !== -1 && !Array.isArray(args[headers])) args[headers] = moveSetCookie(res, args[headers] as Record<string, unknown>)
      try {
        const work = prepareCommit(session)
        if (work) pending = commitInHead(session, work)
      } catch (error) {
        pending = Promise.reject(error)
      }
      pending?.catch(() => {}) // reported by end(); no unhandled rejection meanwhile
    }
    return writeHead.apply(this, args)
  }

  res.end = function (this: NodeResponse, ...args: unknown[]) {
    const finish = (): void => {
      res.end = end
      end.apply(this, args)
    }
    const fail = (error: unknown): void => {
      res.end = end
      res.writeHead = writeHead
      hooked[ON_ERROR]!(error, res)
    }
    if (!pending && !res.headersSent) {
      try {
        const work = prepareCommit(session)
        if (work) pending = runCommit(session, work)
        committedAtEnd = true
      } catch (error) {
        fail(error)
        return this
      }
    }
    if (pending) pending.then(finish, fail)
    else finish()
    return this
  } as NodeResponse['end']
}

/** Moves a Set-Cookie given to writeHead() onto the response, so it joins the session's instead of replacing it. */
function moveSetCookie(res: NodeResponse, headers: Record<string, unknown>): Record<string, unknown> {
  const key = Object.keys(headers).find((name) => name.toLowerCase() === 'set-cookie')
  if (key === undefined) return headers
  const { [key]: value, ...rest } = headers
  const previous = res.getHeader('set-cookie')
  const lines = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)])
  res.setHeader('Set-Cookie', [...lines(previous), ...lines(value)])
  return rest
}

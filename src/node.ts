/**
 * Express and Connect middleware.
 *
 * @example
 * import express from 'express'
 * import { sessionMiddleware } from 'tessera/node'
 * app.use(sessionMiddleware(sessions))
 * app.get('/', (req, res) => { req.session.data.views = (req.session.data.views ?? 0) + 1; res.send('ok') })
 *
 * @module
 */
import { installAutoCommit } from './adapters/autocommit.js'
import type { NodeRequest, NodeResponse } from './core/frameworks.js'
import type { Session } from './core/session.js'
import type { Sessions } from './sessions.js'
import type { SessionData } from './core/types.js'

declare module 'node:http' {
  interface IncomingMessage {
    /** Set by Tessera's `sessionMiddleware`. */
    session?: Session<SessionData>
  }
}

type Next = (error?: unknown) => void

/**
 * Puts the request's session on `req.session` and commits it before the headers leave. A store
 * failure (while loading, or while committing before the headers are sent) goes to `next(error)`
 * as a `SessionError`, so the app's error handler answers it.
 */
export function sessionMiddleware<Data extends object = SessionData>(
  sessions: Sessions<Data>,
): (req: NodeRequest, res: NodeResponse, next: Next) => void {
  return (req, res, next) => {
    sessions.get(req, res).then((session) => {
      ;(req as NodeRequest & { session?: Session<Data> }).session = session
      // A commit that fails before the headers leave goes to the app's error handler.
      installAutoCommit(session, res, (error, response) => {
        if (!response.headersSent) next(error)
        else response.destroy?.(error instanceof Error ? error : new Error(String(error)))
      })
      next()
    }, next)
  }
}

export { installAutoCommit, answerCommitError, type CommitErrorHandler } from './adapters/autocommit.js'
export { csrfMiddleware, type CsrfMiddlewareOptions, type CsrfNodeRequest, type CsrfNodeResponse } from './csrf-node.js'

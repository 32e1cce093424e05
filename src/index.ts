/**
 * Tessera: sessions for Next.js and every JavaScript server.
 *
 * @example
 * import { createSessions } from 'tessera'
 * export const sessions = createSessions<{ views?: number }>()
 *
 * const session = await sessions.get(req, res)
 * session.data.views = (session.data.views ?? 0) + 1
 *
 * @module
 */
export { createSessions, type Sessions } from './core/sessions.js'
export { Session } from './core/session.js'
export { SessionError, type SessionErrorCode } from './core/errors.js'
export { MemoryStore, type MemoryStoreOptions } from './stores/memory-store.js'
export { CookieStore, type CookieStoreOptions } from './stores/cookie-store.js'
export type { SessionsOptions, SessionCookieOptions } from './core/options.js'
export type { SessionEvent, SessionEventType } from './core/events.js'
export type { SessionData, SessionRecord, SessionStore, SessionChanges, SessionSummary, StatelessStore } from './core/types.js'
export type {
  GetArgs,
  SessionContext,
  NodeRequest,
  NodeResponse,
  RequestLike,
  ResponseLike,
  CookieStoreLike,
} from './adapters/context.js'

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
import { installAutoCommit } from './adapters/autocommit.js'
import { nodeBackend } from './adapters/node-crypto.js'
import { useBackend } from './core/crypto.js'
import type { SessionsOptions } from './core/options.js'
import type { SessionData } from './core/types.js'
import { sessionsOver, type Sessions } from './sessions.js'

/**
 * Configures sessions once for the whole app.
 *
 * @example
 * // lib/session.ts
 * import { createSessions } from 'tessera'
 * export const sessions = createSessions<{ user?: { name: string }; views?: number }>({
 *   secrets: process.env.SESSION_SECRET,
 * })
 *
 * // any handler
 * const session = await sessions.get(req, res)
 * session.data.views = (session.data.views ?? 0) + 1
 */
export function createSessions<Data extends object = SessionData>(options: SessionsOptions = {}): Sessions<Data> {
  return sessionsOver<Data>(options, installAutoCommit)
}

// Seal, sign and hash on node:crypto where the runtime has it (Node, Bun, Deno): synchronous and
// several times cheaper than Web Crypto (decisions/crypto.md). The Edge build stays on Web Crypto.
if (nodeBackend) useBackend(nodeBackend)

export type { Sessions } from './sessions.js'
export { Session } from './core/session.js'
export { SessionError, type SessionErrorCode } from './core/errors.js'
export { MemoryStore, type MemoryStoreOptions } from './stores/memory-store.js'
export { CookieStore, type CookieStoreOptions } from './stores/cookie-store.js'
export { memoryRevocations, type Revocations, type MemoryRevocationsOptions } from './stores/revocations.js'
export type { SessionsOptions, SessionCookieOptions } from './core/options.js'
export type { SessionEvent, SessionEventType } from './core/events.js'
export type { SessionData, SessionRecord, SessionStore, SessionChanges, SessionSummary, StatelessStore } from './core/types.js'
export type { GetArgs, SessionContext, NodeRequest, NodeResponse, RequestLike, ResponseLike, CookieStoreLike } from './core/frameworks.js'

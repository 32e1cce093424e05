/**
 * express-session stores in Tessera: `fromConnectStore(store)` wraps connect-redis,
 * connect-pg-simple, connect-mongo or any other, and `expressSession` stands in for the
 * express-session module where a store factory wants it. Node only.
 *
 * @example
 * import connectPgSimple from 'connect-pg-simple'
 * import { createSessions } from 'tessera'
 * import { expressSession, fromConnectStore } from 'tessera/connect'
 *
 * const PgStore = connectPgSimple(expressSession)
 * export const sessions = createSessions({
 *   name: 'connect.sid', // the cookie express-session set
 *   secrets: [process.env.SESSION_SECRET!], // the secret express-session signed with
 *   store: fromConnectStore(new PgStore({ pool })),
 * })
 *
 * @module
 */
export { fromConnectStore, type ConnectStoreLike, type ConnectStoreOptions, type ConnectSessionCookie } from './stores/connect-store.js'
export { expressSession, Store, MemoryStore, Cookie } from './stores/express-session-shim.js'

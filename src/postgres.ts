/**
 * The PostgreSQL store, over a `pg` Pool (not imported here; pass yours).
 *
 * @example
 * import pg from 'pg'
 * import { createSessions } from 'tessera'
 * import { PostgresStore } from 'tessera/postgres'
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
 * export const sessions = createSessions({ store: new PostgresStore({ pool }), secrets: process.env.SESSION_SECRET })
 *
 * @module
 */
export { PostgresStore, type PostgresStoreOptions, type PgPoolLike, type PgClientLike } from './stores/postgres-store.js'

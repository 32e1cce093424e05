import type { SessionChanges, SessionRecord, SessionStore, SessionSummary } from '../core/types.js'

/** A `pg` Pool (or anything with the same `query` and `connect`), typed by shape: `pg` is not imported. */
export interface PgPoolLike {
  query(text: string, values?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>
  connect(): Promise<PgClientLike>
  /** A `pg` Pool is an EventEmitter: the store listens for `'error'` when nobody else does. */
  on?(event: 'error', listener: (error: Error) => void): unknown
  listenerCount?(event: 'error'): number
}

/** A client checked out of the pool. */
export interface PgClientLike {
  query(text: string, values?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>
  release(error?: Error | boolean): void
}

/** Options of {@link PostgresStore}. */
export interface PostgresStoreOptions {
  /** A `pg` Pool. The store never ends it. */
  pool: PgPoolLike
  /** Table name, optionally schema-qualified (`auth.sessions`). Letters, digits and `_`. @default 'tessera_sessions' */
  table?: string
  /** Create the table and its indexes on first use (`CREATE TABLE IF NOT EXISTS`, once per store). @default true */
  createTable?: boolean
  /** Seconds between deletions of expired rows, by an unref'd timer; 0 turns it off. @default 600 */
  pruneInterval?: number
  /**
   * Receives the errors no request can be given: an idle pooled connection that the server closed
   * (a PostgreSQL restart or failover; `pg` emits it on the Pool, and an `'error'` event nobody
   * listens for ends the process), and a failed background prune. Without it, the store still
   * listens on the Pool so the process survives, and warns once on the console.
   */
  onError?: (error: unknown) => void
  /** Receives errors of the background prune (which otherwise are ignored: the next run retries). Superseded by `onError`. */
  onPruneError?: (error: unknown) => void
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

function quoteTable(table: unknown): { quoted: string; base: string } {
  const parts = typeof table === 'string' ? table.split('.') : []
  if (parts.length < 1 || parts.length > 2 || !parts.every((part) => IDENTIFIER.test(part))) {
    throw new TypeError(
      `PostgresStore option table must be an identifier (letters, digits, _; at most 63 characters), optionally schema-qualified, got ${JSON.stringify(table)}`,
    )
  }
  return { quoted: parts.map((part) => `"${part}"`).join('.'), base: parts[parts.length - 1]! }
}

interface Row {
  data: Record<string, unknown>
  user_id: string | null
  created_at: Date
  expires_at: Date
}

/**
 * Sessions in PostgreSQL through a `pg` Pool: one row per session, data as `jsonb`. A commit
 * that changed some keys runs one `UPDATE` merging just those keys, so concurrent requests never
 * overwrite each other; expired rows are deleted on a timer.
 *
 * @example
 * import pg from 'pg'
 * import { PostgresStore } from 'tessera/postgres'
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
 * export const sessions = createSessions({ store: new PostgresStore({ pool }), secrets: process.env.SESSION_SECRET })
 */
export class PostgresStore implements SessionStore {
  /** The quoted table name. */
  readonly table: string
  readonly #pool: PgPoolLike
  readonly #base: string
  readonly #createTable: boolean
  readonly #onError: ((error: unknown) => void) | undefined
  readonly #onPruneError: ((error: unknown) => void) | undefined
  #warned = false
  #ready: Promise<void> | undefined
  #timer: ReturnType<typeof setInterval> | undefined

  constructor(options: PostgresStoreOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('PostgresStore options must be an object with a pool')
    const { pool, table = 'tessera_sessions', createTable = true, pruneInterval = 600, onError, onPruneError } = options
    if (typeof pool !== 'object' || pool === null || typeof pool.query !== 'function') {
      throw new TypeError('PostgresStore option pool must be a pg Pool')
    }
    const { quoted, base } = quoteTable(table)
    if (typeof createTable !== 'boolean') throw new TypeError(`PostgresStore option createTable must be true or false, got ${JSON.stringify(createTable)}`)
    if (typeof pruneInterval !== 'number' || !Number.isFinite(pruneInterval) || pruneInterval < 0) {
      throw new TypeError(`PostgresStore option pruneInterval must be a number of seconds ≥ 0 (0 turns pruning off), got ${JSON.stringify(pruneInterval)}`)
    }
    if (onError !== undefined && typeof onError !== 'function') throw new TypeError('PostgresStore option onError must be a function')
    if (onPruneError !== undefined && typeof onPruneError !== 'function') throw new TypeError('PostgresStore option onPruneError must be a function')
    this.#pool = pool
    this.table = quoted
    this.#base = base
    this.#createTable = createTable
    this.#onError = onError
    this.#onPruneError = onPruneError ?? onError
    // pg emits 'error' on the Pool when the server ends an idle client (a restart, a failover);
    // with no listener, Node ends the process. The Pool drops that client itself and the next
    // query connects again, so listening is all it takes for the app to recover.
    if (typeof pool.on === 'function' && typeof pool.listenerCount === 'function' && pool.listenerCount('error') === 0) {
      pool.on('error', (error) => this.#poolError(error))
    }
    if (pruneInterval > 0) {
      this.#timer = setInterval(() => {
        this.prune().catch((error: unknown) => this.#onPruneError?.(error))
      }, pruneInterval * 1000)
      ;(this.#timer as { unref?: () => void }).unref?.()
    }
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const { rows } = await this.#query<Row>(
      `select data, user_id, created_at, expires_at from ${this.table} where id = $1 and expires_at > now()`,
      [id],
    )
    const row = rows[0]
    if (!row || typeof row.data !== 'object' || row.data === null || Array.isArray(row.data)) return undefined
    const record: SessionRecord = { data: row.data, createdAt: row.created_at.getTime(), expiresAt: row.expires_at.getTime() }
    if (row.user_id !== null) record.userId = row.user_id
    return record
  }

  async set(id: string, record: SessionRecord): Promise<void> {
    if (record.expiresAt <= Date.now()) return this.destroy(id)
    await this.#query(
      `insert into ${this.table} (id, data, user_id, created_at, expires_at) values ($1, $2::jsonb, $3, $4, $5)
       on conflict (id) do update set data = excluded.data, user_id = excluded.user_id, created_at = excluded.created_at, expires_at = excluded.expires_at`,
      [id, JSON.stringify(record.data), record.userId ?? null, new Date(record.createdAt), new Date(record.expiresAt)],
    )
  }

  /** As `set`, but only while the session exists (one `UPDATE`): never recreates one. */
  async update(id: string, record: SessionRecord): Promise<void> {
    if (record.expiresAt <= Date.now()) return this.destroy(id)
    await this.#query(
      `update ${this.table} set data = $2::jsonb, user_id = $3, created_at = $4, expires_at = $5 where id = $1 and expires_at > now()`,
      [id, JSON.stringify(record.data), record.userId ?? null, new Date(record.createdAt), new Date(record.expiresAt)],
    )
  }

  async patch(id: string, changes: SessionChanges, expiresAt: number): Promise<void> {
    if (expiresAt <= Date.now()) return this.destroy(id)
    const set: Record<string, unknown> = {}
    const unset = [...changes.unset]
    for (const key of Object.keys(changes.set)) {
      const value = changes.set[key]
      if (value === undefined) unset.push(key) // no value in JSON: the key goes
      else Object.defineProperty(set, key, { value, enumerable: true, writable: true, configurable: true })
    }
    // One statement: the merge happens in the database, on the row as it is now.
    await this.#query(
      `update ${this.table} set data = (data || $2::jsonb) - $3::text[], expires_at = $4 where id = $1 and expires_at > now()`,
      [id, JSON.stringify(set), unset, new Date(expiresAt)],
    )
  }

  async touch(id: string, expiresAt: number): Promise<void> {
    if (expiresAt <= Date.now()) return this.destroy(id)
    await this.#query(`update ${this.table} set expires_at = $2 where id = $1 and expires_at > now()`, [id, new Date(expiresAt)])
  }

  async destroy(id: string): Promise<void> {
    await this.#query(`delete from ${this.table} where id = $1`, [id])
  }

  async listUser(userId: string): Promise<SessionSummary[]> {
    const { rows } = await this.#query<{ id: string; created_at: Date; expires_at: Date }>(
      `select id, created_at, expires_at from ${this.table} where user_id = $1 and expires_at > now() order by created_at`,
      [userId],
    )
    return rows.map((row) => ({ id: row.id, createdAt: row.created_at, expiresAt: row.expires_at }))
  }

  async revokeUser(userId: string, except?: string): Promise<number> {
    const { rows } = await this.#query<{ count: string }>(
      `with gone as (delete from ${this.table} where user_id = $1 and id is distinct from $2 returning expires_at)
       select count(*) filter (where expires_at > now()) as count from gone`,
      [userId, except ?? null],
    )
    return Number(rows[0]?.count ?? 0)
  }

  /** Deletes every expired row now; resolves to how many. The timer calls this every `pruneInterval`. */
  async prune(): Promise<number> {
    const { rowCount } = await this.#query(`delete from ${this.table} where expires_at <= now()`)
    return rowCount ?? 0
  }

  /** Stops the prune timer. The pool stays open (it is yours). */
  close(): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
  }

  #poolError(error: Error): void {
    if (this.#onError) return this.#onError(error)
    // Someone added a listener after the store was made: theirs reports it.
    if (this.#warned || (this.#pool.listenerCount?.('error') ?? 0) > 1) return
    this.#warned = true
    console.warn(
      `tessera: PostgresStore: the pg Pool reported an error on an idle connection (${error.message}); ` +
        'the connection was dropped and the next query reconnects. Pass onError to PostgresStore to see every such error. (Shown once.)',
    )
  }

  async #query<R = any>(text: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }> {
    if (this.#createTable) await (this.#ready ??= this.#ensureTable())
    return this.#pool.query(text, values)
  }

  /**
   * Creates the table and indexes once. Two processes starting together would race inside
   * CREATE ... IF NOT EXISTS (it is not atomic in PostgreSQL), so it runs under an advisory lock.
   */
  #ensureTable(): Promise<void> {
    const run = async (): Promise<void> => {
      const client = await this.#pool.connect()
      try {
        await client.query('begin')
        await client.query('select pg_advisory_xact_lock(hashtext($1))', [`tessera:${this.table}`])
        await client.query(
          `create table if not exists ${this.table} (
             id text primary key,
             data jsonb not null,
             user_id text,
             created_at timestamptz not null,
             expires_at timestamptz not null
           )`,
        )
        await client.query(`create index if not exists "${this.#base}_expires_at_idx" on ${this.table} (expires_at)`)
        await client.query(`create index if not exists "${this.#base}_user_id_idx" on ${this.table} (user_id) where user_id is not null`)
        await client.query('commit')
        client.release()
      } catch (error) {
        await client.query('rollback').catch(() => {})
        client.release(error instanceof Error ? error : true)
        throw error
      }
    }
    const ready = run()
    ready.catch(() => {
      if (this.#ready === ready) this.#ready = undefined // retried by the next query
    })
    return ready
  }
}

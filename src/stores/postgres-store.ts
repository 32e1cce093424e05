import { isObject } from '../core/plain.js'
import type { SessionChanges, SessionRecord, SessionStore, SessionSummary } from '../core/types.js'
import { Deadlines, MAX_TIMER_MS, operationTimeoutMs } from './deadline.js'

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
  /**
   * Create the table and its indexes on first use, when `to_regclass` does not find the table
   * (once per store; an existing table gets no DDL). Creating it takes the CREATE privilege on
   * the schema; a failure the server reports (no privilege, no such schema) is remembered for
   * 10 s, so requests fail at once meanwhile instead of each retrying the DDL. @default true
   */
  createTable?: boolean
  /**
   * Seconds between deletions of expired rows, by an unref'd timer; 0 turns it off. At most
   * 2,147,483 (about 24.8 days, the longest a timer waits). A prune still running when the next
   * one is due is not started again. @default 600
   */
  pruneInterval?: number
  /**
   * Seconds to wait for each operation (the table check on first use included). Past it the
   * operation rejects (the core answers with a `SessionError` `STORE_ERROR`, "timed out")
   * instead of waiting on a lock, a stalled connection or an exhausted pool. The query itself
   * may go on holding its connection: set `statement_timeout` and `query_timeout` on the Pool
   * too. The background prune is not bound by it. @default 2
   */
  operationTimeout?: number
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

/** The longest `pruneInterval`, in seconds: longer, Node would run the timer every millisecond. */
const MAX_PRUNE_INTERVAL = Math.floor(MAX_TIMER_MS / 1000)

/** How long a failed table creation the server refused is remembered before the next try. */
const RETRY_CREATE_MS = 10_000

/** An index name of at most 63 bytes (PostgreSQL truncates longer ones, so two could collide). */
function indexName(base: string, suffix: string): string {
  const name = `${base}_${suffix}`
  if (name.length <= 63) return name // identifiers are ASCII here: characters are bytes
  // FNV-1a of the whole table name, so tables sharing a long prefix keep distinct names.
  let hash = 0x811c9dc5
  for (let i = 0; i < base.length; i++) hash = Math.imul(hash ^ base.charCodeAt(i), 0x01000193)
  const tag = (hash >>> 0).toString(16).padStart(8, '0')
  return `${base.slice(0, 63 - suffix.length - tag.length - 2)}_${tag}_${suffix}`
}

// Rows come back as text, whatever type parsers the app set globally on pg (`pg.types`): jsonb
// as its JSON text, times as epoch milliseconds, counts as decimal text.
const TIMES =
  '(extract(epoch from created_at) * 1000)::bigint::text as created_at, (extract(epoch from expires_at) * 1000)::bigint::text as expires_at'

interface Row {
  data: string
  user_id: string | null
  created_at: string
  expires_at: string
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
  readonly #onError: ((error: unknown) => void) | undefined
  readonly #onPruneError: ((error: unknown) => void) | undefined
  readonly #deadlines: Deadlines
  #warned = false
  /** The table check (and creation) on first use; a remembered failure until #retryAt. */
  #ready: Promise<void> | undefined
  /** No table check left to wait for (done, or createTable: false). */
  #tableReady: boolean
  #retryAt = 0
  #timer: ReturnType<typeof setInterval> | undefined
  #pruning = false

  constructor(options: PostgresStoreOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('PostgresStore options must be an object with a pool')
    const { pool, table = 'tessera_sessions', createTable = true, pruneInterval = 600, operationTimeout = 2, onError, onPruneError } = options
    if (typeof pool !== 'object' || pool === null || typeof pool.query !== 'function') {
      throw new TypeError('PostgresStore option pool must be a pg Pool')
    }
    const { quoted, base } = quoteTable(table)
    if (typeof createTable !== 'boolean') throw new TypeError(`PostgresStore option createTable must be true or false, got ${JSON.stringify(createTable)}`)
    if (typeof pruneInterval !== 'number' || !(pruneInterval >= 0 && pruneInterval <= MAX_PRUNE_INTERVAL)) {
      throw new TypeError(
        `PostgresStore option pruneInterval must be a number of seconds from 0 (pruning off) to ${MAX_PRUNE_INTERVAL} (the longest a timer waits), got ${JSON.stringify(pruneInterval)}`,
      )
    }
    const timeoutMs = operationTimeoutMs('PostgresStore', operationTimeout)
    if (onError !== undefined && typeof onError !== 'function') throw new TypeError('PostgresStore option onError must be a function')
    if (onPruneError !== undefined && typeof onPruneError !== 'function') throw new TypeError('PostgresStore option onPruneError must be a function')
    this.#pool = pool
    this.table = quoted
    this.#base = base
    this.#tableReady = !createTable
    this.#onError = onError
    this.#onPruneError = onPruneError ?? onError
    this.#deadlines = new Deadlines(timeoutMs, 'The PostgreSQL operation')
    // pg emits 'error' on the Pool when the server ends an idle client (a restart, a failover);
    // with no listener, Node ends the process. The Pool drops that client itself and the next
    // query connects again, so listening is all it takes for the app to recover.
    if (typeof pool.on === 'function' && typeof pool.listenerCount === 'function' && pool.listenerCount('error') === 0) {
      pool.on('error', (error) => this.#poolError(error))
    }
    if (pruneInterval > 0) {
      this.#timer = setInterval(() => {
        // A prune slower than the interval (a huge backlog, a lock) is not started twice.
        if (this.#pruning) return
        this.#pruning = true
        this.prune()
          .catch((error: unknown) => this.#onPruneError?.(error))
          .finally(() => (this.#pruning = false))
      }, pruneInterval * 1000)
      ;(this.#timer as { unref?: () => void }).unref?.()
    }
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const { rows } = await this.#query<Row>(
      'get',
      `select data::text as data, user_id, ${TIMES} from ${this.table} where id = $1 and expires_at > now()`,
      [id],
    )
    const row = rows[0]
    if (!row) return undefined
    const data: unknown = JSON.parse(row.data)
    if (!isObject(data) || Array.isArray(data)) return undefined
    const record: SessionRecord = { data, createdAt: Number(row.created_at), expiresAt: Number(row.expires_at) }
    if (row.user_id !== null) record.userId = row.user_id
    return record
  }

  async set(id: string, record: SessionRecord): Promise<void> {
    if (record.expiresAt <= Date.now()) return this.destroy(id)
    await this.#query(
      'set',
      `insert into ${this.table} (id, data, user_id, created_at, expires_at) values ($1, $2::jsonb, $3, $4, $5)
       on conflict (id) do update set data = excluded.data, user_id = excluded.user_id, created_at = excluded.created_at, expires_at = excluded.expires_at`,
      rowOf(id, record),
    )
  }

  /** As `set`, but only while the session exists (one `UPDATE`): never recreates one. */
  async update(id: string, record: SessionRecord): Promise<void> {
    if (record.expiresAt <= Date.now()) return this.destroy(id)
    await this.#query(
      'update',
      `update ${this.table} set data = $2::jsonb, user_id = $3, created_at = $4, expires_at = $5 where id = $1 and expires_at > now()`,
      rowOf(id, record),
    )
  }

  /**
   * Moves a session to `newId`, only while `oldId` exists (one statement: the old row is deleted
   * and the new one inserted only if a live old row was there); false, writing nothing, when it
   * is gone.
   */
  async rotate(oldId: string, newId: string, record: SessionRecord): Promise<boolean> {
    const { rows } = await this.#query<{ rotated: string }>(
      'rotate',
      `with old as (delete from ${this.table} where id = $1 returning expires_at > now() as live),
       moved as (
         insert into ${this.table} (id, data, user_id, created_at, expires_at)
         select $2, $3::jsonb, $4, $5, $6 where exists (select 1 from old where live)
         on conflict (id) do update set data = excluded.data, user_id = excluded.user_id, created_at = excluded.created_at, expires_at = excluded.expires_at
         returning 1
       )
       select (select count(*) from old where live)::text as rotated`,
      [oldId, newId, JSON.stringify(record.data), record.userId ?? null, new Date(record.createdAt), new Date(record.expiresAt)],
    )
    return rows[0]?.rotated === '1'
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
      'patch',
      `update ${this.table} set data = (data || $2::jsonb) - $3::text[], expires_at = $4 where id = $1 and expires_at > now()`,
      [id, JSON.stringify(set), unset, new Date(expiresAt)],
    )
  }

  async touch(id: string, expiresAt: number): Promise<void> {
    if (expiresAt <= Date.now()) return this.destroy(id)
    await this.#query('touch', `update ${this.table} set expires_at = $2 where id = $1 and expires_at > now()`, [id, new Date(expiresAt)])
  }

  async destroy(id: string): Promise<void> {
    await this.#query('destroy', `delete from ${this.table} where id = $1`, [id])
  }

  async listUser(userId: string): Promise<SessionSummary[]> {
    const { rows } = await this.#query<{ id: string; created_at: string; expires_at: string }>(
      'listUser',
      `select id, ${TIMES} from ${this.table} where user_id = $1 and expires_at > now() order by ${this.table}.created_at`,
      [userId],
    )
    return rows.map((row) => ({ id: row.id, createdAt: new Date(Number(row.created_at)), expiresAt: new Date(Number(row.expires_at)) }))
  }

  async revokeUser(userId: string, except?: string): Promise<number> {
    const { rows } = await this.#query<{ count: string }>(
      'revokeUser',
      `with gone as (delete from ${this.table} where user_id = $1 and id is distinct from $2 returning expires_at)
       select (count(*) filter (where expires_at > now()))::text as count from gone`,
      [userId, except ?? null],
    )
    return Number(rows[0]?.count ?? 0)
  }

  /**
   * Deletes every expired row now; resolves to how many. The timer calls this every
   * `pruneInterval`. Not bound by `operationTimeout` (a large backlog may take longer).
   */
  async prune(): Promise<number> {
    await this.#ensureReady()
    const { rowCount } = await this.#pool.query(`delete from ${this.table} where expires_at <= now()`)
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

  /** One statement of a session operation, within operationTimeout (`what` names it in the timeout's message). */
  #query<R = any>(what: string, text: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }> {
    if (this.#tableReady) return this.#deadlines.run(what, () => this.#pool.query(text, values))
    return this.#deadlines.run(what, async () => {
      await this.#ensureReady()
      return this.#pool.query(text, values)
    })
  }

  /** With createTable, waits for the table check (made once, shared by every caller). */
  async #ensureReady(): Promise<void> {
    if (this.#tableReady) return
    if (this.#ready === undefined || (this.#retryAt !== 0 && Date.now() >= this.#retryAt)) {
      this.#retryAt = 0
      this.#ready = this.#ensureTable()
    }
    await this.#ready
  }

  /**
   * Creates the table and indexes once, unless the table exists (then no DDL at all, so a role
   * without CREATE can use a table made for it). Two processes starting together would race
   * inside CREATE ... IF NOT EXISTS (it is not atomic in PostgreSQL), so it runs under an
   * advisory lock. A refusal by the server (SQLSTATE class 42 or 3F: no privilege, no schema) is
   * remembered for RETRY_CREATE_MS; other failures (a lost connection) are retried by the next query.
   */
  #ensureTable(): Promise<void> {
    const run = async (): Promise<void> => {
      const { rows } = await this.#pool.query('select to_regclass($1)::text as found', [this.table]).catch((error: unknown) => {
        throw this.#createError(error)
      })
      if (rows[0]?.found != null) return
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
        await client.query(`create index if not exists "${indexName(this.#base, 'expires_at_idx')}" on ${this.table} (expires_at)`)
        await client.query(`create index if not exists "${indexName(this.#base, 'user_id_idx')}" on ${this.table} (user_id) where user_id is not null`)
        await client.query('commit')
        client.release()
      } catch (error) {
        await client.query('rollback').catch(() => {})
        client.release(error instanceof Error ? error : true)
        throw this.#createError(error)
      }
    }
    const ready = run().then(() => {
      this.#tableReady = true
    })
    ready.catch((error: unknown) => {
      if (this.#ready !== ready) return
      if (refusedByServer(error)) this.#retryAt = Date.now() + RETRY_CREATE_MS
      else this.#ready = undefined // retried by the next query
    })
    return ready
  }

  #createError(error: unknown): unknown {
    if (!refusedByServer(error)) return error
    const code = (error as { code: string }).code
    const hint =
      code === '42501'
        ? 'the role needs the CREATE privilege on the schema, or create the table yourself (docs/stores.md) and pass createTable: false'
        : 'create the table yourself (docs/stores.md) and pass createTable: false'
    const wrapped = new Error(`PostgresStore could not create the table ${this.table} (createTable: true): ${(error as Error).message}; ${hint}. Tried again in ${RETRY_CREATE_MS / 1000} s.`, {
      cause: error,
    })
    return Object.assign(wrapped, { code })
  }
}

/** Whether PostgreSQL refused the DDL (a privilege, a missing schema): the same will happen on the next try. */
function refusedByServer(error: unknown): boolean {
  const code = isObject(error) ? error.code : undefined
  return typeof code === 'string' && /^(42|3F)/.test(code)
}

/** The parameters of `set` and `update`: $1 id, $2 data (JSON), $3 user_id, $4 created_at, $5 expires_at. */
function rowOf(id: string, record: SessionRecord): unknown[] {
  return [id, JSON.stringify(record.data), record.userId ?? null, new Date(record.createdAt), new Date(record.expiresAt)]
}

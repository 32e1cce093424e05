// PostgresStore against a real PostgreSQL 15 server started by the harness.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import pg from 'pg'
import { startPostgres, type PostgresServer } from '../harness/postgres.js'
import { PostgresStore, type PgPoolLike, type PostgresStoreOptions } from '../../src/postgres.js'
import { testSessionStore } from '../../src/testing.js'
import { Jar } from '../helpers.js'
import { expectNoLostUpdates, serveSessions, sleep } from './support.js'

let server: PostgresServer
let pool: pg.Pool
const stores: PostgresStore[] = []

function store(options: Partial<PostgresStoreOptions> = {}): PostgresStore {
  const made = new PostgresStore({ pool, ...options })
  stores.push(made)
  return made
}

async function tableExists(name: string): Promise<boolean> {
  const { rows } = await pool.query<{ t: string | null }>('select to_regclass($1)::text as t', [name])
  return rows[0]!.t !== null
}

beforeAll(async () => {
  server = await startPostgres()
  pool = new pg.Pool({ connectionString: server.url, max: 10 })
}, 120_000)

afterAll(async () => {
  for (const made of stores) made.close()
  await pool?.end()
  await server?.stop()
}, 60_000)

testSessionStore('PostgresStore', () => store(), { describe, it, capabilities: ['touch', 'patch', 'update', 'rotate', 'userIndex'] })

describe('PostgresStore', () => {
  it('creates its table and indexes on first use, once, even when many stores start together', async () => {
    expect(await tableExists('fresh_sessions')).toBe(false)
    const many = Array.from({ length: 6 }, () => store({ table: 'fresh_sessions' }))
    expect(await tableExists('fresh_sessions')).toBe(false) // construction does no I/O
    const results = await Promise.all(many.map((s, i) => s.get(`nosuchsession${i}xxxxx`)))
    expect(results).toEqual([undefined, undefined, undefined, undefined, undefined, undefined])
    expect(await tableExists('fresh_sessions')).toBe(true)
    const { rows: columns } = await pool.query<{ column_name: string; data_type: string }>(
      `select column_name, data_type from information_schema.columns where table_name = 'fresh_sessions' order by ordinal_position`,
    )
    expect(columns.map((c) => `${c.column_name} ${c.data_type}`)).toEqual([
      'id text',
      'data jsonb',
      'user_id text',
      'created_at timestamp with time zone',
      'expires_at timestamp with time zone',
    ])
    const { rows: indexes } = await pool.query<{ indexdef: string }>(`select indexdef from pg_indexes where tablename = 'fresh_sessions'`)
    const defs = indexes.map((i) => i.indexdef).join('\n')
    expect(defs).toMatch(/\(expires_at\)/)
    expect(defs).toMatch(/\(user_id\)/)
  })

  it('with a schema-qualified table name', async () => {
    await pool.query('create schema if not exists auth')
    const s = store({ table: 'auth.sessions' })
    const now = Date.now()
    await s.set('schemasession00001', { data: { a: 1 }, createdAt: now, expiresAt: now + 60_000 })
    expect((await s.get('schemasession00001'))?.data).toEqual({ a: 1 })
    expect(await tableExists('auth.sessions')).toBe(true)
  })

  it('with createTable: false, a missing table is an error (never a silent logout)', async () => {
    const s = store({ table: 'never_created', createTable: false })
    await expect(s.get('nosuchsession0xxxxx')).rejects.toThrow(/never_created/)
    expect(await tableExists('never_created')).toBe(false)
  })

  it('rejects a bad table name (and other bad options) with a TypeError at construction', () => {
    for (const table of ['', 'drop table x; --', 'a"b', 'sessions-1', '1sessions', 'a.b.c', 'x'.repeat(64), 42]) {
      expect(() => new PostgresStore({ pool, table: table as string }), String(table)).toThrow(TypeError)
    }
    expect(() => new PostgresStore({ pool: {} as never })).toThrow(TypeError)
    expect(() => new PostgresStore({ pool, pruneInterval: -1 })).toThrow(/pruneInterval/)
    for (const operationTimeout of [0, -1, Number.NaN, Infinity, '2']) {
      expect(() => new PostgresStore({ pool, operationTimeout: operationTimeout as number }), String(operationTimeout)).toThrow(/operationTimeout/)
    }
  })

  it('patches in one UPDATE that merges into the row as it is', async () => {
    const s = store()
    const now = Date.now()
    await s.set('mergesession000001', { data: { keep: { deep: true }, drop: 1, n: 1 }, createdAt: now, expiresAt: now + 60_000 })
    await pool.query(`update tessera_sessions set data = data || '{"other":"writer"}' where id = 'mergesession000001'`)
    await s.patch('mergesession000001', { set: { n: 2, gone: undefined }, unset: ['drop'] }, now + 120_000)
    const found = await s.get('mergesession000001')
    expect(found?.data).toEqual({ keep: { deep: true }, n: 2, other: 'writer' })
    expect(found?.expiresAt).toBe(now + 120_000)
  })

  it('prunes expired rows on its timer, without any request', async () => {
    const s = store({ table: 'prune_sessions', pruneInterval: 0.5 })
    const now = Date.now()
    await s.set('prunedsoon00000001', { data: { a: 1 }, createdAt: now, expiresAt: now + 300 })
    await s.set('staysalive00000001', { data: { a: 1 }, createdAt: now, expiresAt: now + 60_000 })
    expect(Number((await pool.query('select count(*) from prune_sessions')).rows[0].count)).toBe(2)
    const deadline = Date.now() + 5000
    let ids: string[] = []
    while (Date.now() < deadline) {
      ids = (await pool.query<{ id: string }>('select id from prune_sessions')).rows.map((r) => r.id)
      if (ids.length === 1) break
      await sleep(100)
    }
    expect(ids).toEqual(['staysalive00000001'])
    s.close()
    await s.set('afterclose00000001', { data: {}, createdAt: Date.now(), expiresAt: Date.now() + 200 })
    await sleep(1200)
    expect(Number((await pool.query(`select count(*) from prune_sessions where id = 'afterclose00000001'`)).rows[0].count)).toBe(1)
    expect(await s.prune()).toBe(1) // and by hand
  })

  it('20 concurrent requests with one cookie, each setting a key, keep all 20', async () => {
    await expectNoLostUpdates({ store: store() })
  })
})

describe('PostgresStore and the Pool\'s error events', () => {
  it('listens for the Pool\'s errors when nobody does, and hands them to onError', () => {
    const bare = new pg.Pool({ connectionString: server.url })
    const seen: unknown[] = []
    store({ pool: bare, onError: (error) => seen.push(error) })
    expect(bare.listenerCount('error')).toBe(1)
    const lost = new Error('terminating connection due to administrator command')
    bare.emit('error', lost, {} as pg.PoolClient)
    expect(seen).toEqual([lost])
    store({ pool: bare }) // a second store on the same Pool adds no second listener
    expect(bare.listenerCount('error')).toBe(1)
    void bare.end()
  })

  it('leaves a Pool that has its own error listener alone', () => {
    const own = new pg.Pool({ connectionString: server.url })
    own.on('error', () => {})
    store({ pool: own })
    expect(own.listenerCount('error')).toBe(1)
    void own.end()
  })
})

describe('PostgresStore: the outside review', () => {
  /** The pool, recording every statement (and every checkout) the store sends through it. */
  function recording(target: pg.Pool): { pool: PgPoolLike; statements: string[]; checkouts: () => number } {
    const statements: string[] = []
    let checkouts = 0
    const pool: PgPoolLike = {
      query: (text, values) => {
        statements.push(text)
        return target.query(text, values) as never
      },
      connect: async () => {
        checkouts++
        const client = await target.connect()
        return {
          query: (text: string, values?: unknown[]) => {
            statements.push(text)
            return client.query(text, values) as never
          },
          release: (error?: Error | boolean) => client.release(error),
        }
      },
    }
    return { pool, statements, checkouts: () => checkouts }
  }

  it('review 13: a pruneInterval longer than a timer can wait (2,147,483 s) is a TypeError naming the option and the maximum', () => {
    // Node clamps a longer setInterval delay to 1 ms: a DELETE every millisecond.
    expect(() => new PostgresStore({ pool, pruneInterval: 2_147_484 })).toThrow(TypeError)
    expect(() => new PostgresStore({ pool, pruneInterval: 30 * 86_400 })).toThrow(/pruneInterval.*2147483/)
    expect(() => new PostgresStore({ pool, pruneInterval: Infinity })).toThrow(/pruneInterval/)
    store({ pruneInterval: 2_147_483 }).close() // the longest that works
  })

  it('review 13: the prune timer never starts a prune while the last one still runs', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] })
    try {
      const pending: (() => void)[] = []
      const slow: PgPoolLike = {
        // Every DELETE hangs until the test answers it (a prune slower than its interval).
        query: () => new Promise((resolve) => pending.push(() => resolve({ rows: [], rowCount: 0 }))),
        connect: () => Promise.reject(new Error('not used')),
      }
      const s = store({ pool: slow, createTable: false, pruneInterval: 1 })
      await vi.advanceTimersByTimeAsync(10_000)
      expect(pending).toHaveLength(1)
      pending[0]!()
      await vi.advanceTimersByTimeAsync(1_000)
      expect(pending).toHaveLength(2)
      s.close()
    } finally {
      vi.useRealTimers()
    }
  })

  it('review 14: sessions read right whatever type parsers the app set on pg (timestamps, jsonb, numbers as anything)', async () => {
    const { types } = pg
    // timestamptz, timestamp, jsonb, json: the raw text; int8, numeric, float8: something odd.
    const overrides: Record<number, (value: string) => unknown> = {
      1184: (v) => v,
      1114: (v) => v,
      3802: (v) => v,
      114: (v) => v,
      20: (v) => ({ int8: v }),
      1700: (v) => ({ numeric: v }),
      701: (v) => ({ float8: v }),
    }
    const saved = new Map(Object.keys(overrides).map((oid) => [Number(oid), types.getTypeParser(Number(oid), 'text')]))
    const s = store()
    await s.get('warmupsession00014') // the table exists before the overrides
    for (const [oid, parse] of Object.entries(overrides)) types.setTypeParser(Number(oid), parse)
    try {
      const now = Date.now()
      const record = { data: { user: 'ada', cart: { items: [1, 2] } }, createdAt: now - 1234, expiresAt: now + 60_000, userId: 'user14' }
      await s.set('typeparsers0000014', record)
      expect(await s.get('typeparsers0000014')).toEqual(record)
      await s.patch('typeparsers0000014', { set: { n: 2 }, unset: [] }, now + 90_000)
      expect(await s.get('typeparsers0000014')).toEqual({ ...record, data: { ...record.data, n: 2 }, expiresAt: now + 90_000 })
      expect(await s.listUser('user14')).toEqual([{ id: 'typeparsers0000014', createdAt: new Date(now - 1234), expiresAt: new Date(now + 90_000) }])
      expect(await s.revokeUser('user14')).toBe(1)
      expect(await s.get('typeparsers0000014')).toBeUndefined()
    } finally {
      for (const [oid, parse] of saved) types.setTypeParser(oid, parse)
    }
    expect(types.getTypeParser(1184, 'text')('2020-01-01 00:00:00+00')).toBeInstanceOf(Date) // restored
  })

  describe('review 16: createTable and the privileges of the role', () => {
    let limited: pg.Pool

    beforeAll(async () => {
      await pool.query('create role nocreate login')
      await pool.query('revoke create on schema public from public') // PostgreSQL 15's default, made explicit
      limited = new pg.Pool({ connectionString: server.url.replace('//tessera@', '//nocreate@'), max: 4 })
    })

    afterAll(async () => {
      await limited?.end()
    })

    it('review 16: a role without CREATE uses the existing table with createTable: true, and sends no DDL', async () => {
      await store({ table: 'made_by_admin' }).get('createdbyadmin0001') // the owner creates it
      await pool.query('grant select, insert, update, delete on made_by_admin to nocreate')
      const { pool: watched, statements } = recording(limited)
      const s = store({ pool: watched, table: 'made_by_admin' })
      const now = Date.now()
      await s.set('limitedrole0000001', { data: { a: 1 }, createdAt: now, expiresAt: now + 60_000 })
      expect((await s.get('limitedrole0000001'))?.data).toEqual({ a: 1 })
      await s.get('limitedrole0000001')
      expect(statements.filter((text) => /\bcreate\b|advisory/i.test(text))).toEqual([])
    })

    it('review 16: with the table missing and no CREATE, requests fail with an error naming the privilege, and the DDL is not retried on each', async () => {
      const { pool: watched, checkouts } = recording(limited)
      const s = store({ pool: watched, table: 'nobody_can_create' })
      const errors: unknown[] = []
      for (let i = 0; i < 5; i++) errors.push(await s.get(`missingtable00000${i}`).then(() => 'resolved', (error: unknown) => error))
      for (const error of errors) expect(String(error)).toMatch(/CREATE.*schema|createTable: false/)
      expect(checkouts()).toBe(1) // one attempt, remembered: not four round trips per request
      expect(await tableExists('nobody_can_create')).toBe(false)
    })
  })

  it('review 16: 63-character table names get both indexes, distinct from a neighbour\'s, and listUser uses its index', async () => {
    const first = `s${'e'.repeat(61)}1`
    const second = `s${'e'.repeat(61)}2`
    expect(first).toHaveLength(63)
    for (const table of [first, second]) {
      const s = store({ table })
      await s.set('longtablename00001', { data: {}, createdAt: Date.now(), expiresAt: Date.now() + 60_000, userId: 'u16' })
      expect(await s.listUser('u16')).toHaveLength(1)
      const { rows } = await pool.query<{ indexname: string; indexdef: string }>('select indexname, indexdef from pg_indexes where tablename = $1', [table])
      const defs = rows.map((row) => row.indexdef)
      expect(defs.filter((def) => /\(expires_at\)$/.test(def)), table).toHaveLength(1)
      expect(defs.filter((def) => /\(user_id\) WHERE \(user_id IS NOT NULL\)$/.test(def)), table).toHaveLength(1)
      for (const row of rows) expect(Buffer.byteLength(row.indexname)).toBeLessThanOrEqual(63)
      const userIndex = rows.find((row) => row.indexdef.includes('(user_id)'))!.indexname
      const client = await pool.connect()
      try {
        await client.query('set enable_seqscan = off')
        const plan = await client.query(`explain select id from "${table}" where user_id = 'u16' and expires_at > now() order by created_at`)
        expect(plan.rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n')).toContain(userIndex)
      } finally {
        await client.query('reset enable_seqscan')
        client.release()
      }
    }
  })

  it('review 18: a query blocked in PostgreSQL (a lock held elsewhere) answers STORE_ERROR within operationTimeout', async () => {
    const s = store({ table: 'locked_sessions', operationTimeout: 0.3 })
    const { app } = await serveSessions({ store: s })
    const locker = await pool.connect()
    try {
      const jar = new Jar()
      expect((await jar.fetch(`${app.url}/set?k=a&v=1`)).status).toBe(200)
      await locker.query('begin')
      await locker.query('lock table locked_sessions in access exclusive mode')
      const started = performance.now()
      const response = await jar.fetch(`${app.url}/read`, { signal: AbortSignal.timeout(10_000) })
      expect(response.status).toBe(500)
      const body = (await response.json()) as { error: string; message: string }
      expect(body.error).toBe('STORE_ERROR')
      expect(body.message).toMatch(/timed out.*0\.3 s.*operationTimeout/)
      expect(performance.now() - started).toBeGreaterThanOrEqual(290)
    } finally {
      await locker.query('rollback')
      locker.release()
      await app.close()
    }
    expect((await s.get((await pool.query<{ id: string }>('select id from locked_sessions')).rows[0]!.id))?.data).toEqual({ a: '1' })
  }, 20_000)
})

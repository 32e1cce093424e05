// PostgresStore against a real PostgreSQL 15 server started by the harness.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import { startPostgres, type PostgresServer } from '../harness/postgres.js'
import { PostgresStore, type PostgresStoreOptions } from '../../src/postgres.js'
import { testSessionStore } from '../../src/testing.js'
import { expectNoLostUpdates, sleep } from './support.js'

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

testSessionStore('PostgresStore', () => store(), { describe, it, capabilities: ['touch', 'patch', 'update', 'userIndex'] })

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

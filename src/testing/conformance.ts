import type { SessionRecord, SessionStore } from '../core/types.js'

/** The test-runner functions the suite needs: vitest's, Jest's, node:test's or Mocha's. */
export interface TestRunner {
  describe(name: string, body: () => void): unknown
  /**
   * Registers a test. `it.skip` registers the tests of a capability the store does not declare,
   * so the runner reports them as skipped (never as passed); a runner without `it.skip` does not
   * list them at all.
   */
  it: {
    (name: string, body: () => Promise<void>, timeout?: number): unknown
    skip?: (name: string, body: () => Promise<void>) => unknown
  }
}

/**
 * An optional part of the store contract: `touch`, `patch`, `update`, or `userIndex`
 * (`listUser` and `revokeUser` together).
 */
export type StoreCapability = 'touch' | 'patch' | 'update' | 'rotate' | 'userIndex'

/** Options of {@link testSessionStore}. */
export interface ConformanceOptions extends TestRunner {
  /**
   * The optional methods the store has. The tests of a declared capability fail when its method
   * is missing; those of an undeclared one are registered with `it.skip`, their name ending in
   * `(store declares no <capability>)`. One more test fails when the store has a method it does
   * not declare, so the list cannot go stale in either direction.
   * @default []
   */
  capabilities?: readonly StoreCapability[]
  /** @deprecated Same as listing `'userIndex'` in `capabilities`. */
  userIndex?: boolean
  /** Milliseconds for each test. @default 10000 */
  timeout?: number
}

const CAPABILITIES: Record<StoreCapability, readonly (keyof SessionStore)[]> = {
  touch: ['touch'],
  patch: ['patch'],
  update: ['update'],
  rotate: ['rotate'],
  userIndex: ['listUser', 'revokeUser'],
}
const hasCapability = (store: SessionStore, capability: StoreCapability): boolean =>
  CAPABILITIES[capability].every((method) => typeof store[method] === 'function')

function fail(message: string): never {
  throw new Error(`store conformance: ${message}`)
}
// Key order is not part of the contract (PostgreSQL's jsonb, for one, does not keep it).
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical)
  if (typeof value !== 'object' || value === null) return value
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
  )
}
function equal(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(canonical(actual))
  const e = JSON.stringify(canonical(expected))
  if (a !== e) fail(`${what}: expected ${e}, got ${a}`)
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

let counter = 0
function newId(): string {
  counter++
  return `conformance${Date.now().toString(36)}${counter.toString(36)}x${Math.random().toString(36).slice(2, 10)}`
}

function record(data: Record<string, unknown>, lifetimeMs = 60_000, userId?: string): SessionRecord {
  const now = Date.now()
  return { data, createdAt: now, expiresAt: now + lifetimeMs, ...(userId === undefined ? {} : { userId }) }
}

/**
 * Registers the behaviour every Tessera store must have, with any test runner. `makeStore()`
 * returns a fresh, empty store (or a promise of one).
 *
 * @example
 * import { describe, it } from 'vitest'
 * import { testSessionStore } from 'tessera/testing'
 * testSessionStore('MyStore', () => new MyStore(), { describe, it })
 */
export function testSessionStore(name: string, makeStore: () => SessionStore | Promise<SessionStore>, options: ConformanceOptions): void {
  const { describe, it, timeout = 10_000 } = options
  const declared = new Set<StoreCapability>(options.capabilities ?? [])
  if (options.userIndex) declared.add('userIndex')
  for (const capability of declared) {
    if (!Object.hasOwn(CAPABILITIES, capability)) throw new TypeError(`option capabilities: unknown capability ${JSON.stringify(capability)}`)
  }
  const test = (title: string, body: (store: SessionStore) => Promise<void>) =>
    it(title, async () => body(await makeStore()), timeout)
  // The tests of one optional method: run (and fail without the method) when declared, reported
  // as skipped with the reason in their name when not. Never a silent pass.
  const optional = (capability: StoreCapability, title: string, body: (store: SessionStore) => Promise<void>) => {
    if (!declared.has(capability)) {
      it.skip?.(`${title} (store declares no ${capability})`, async () => {})
      return
    }
    test(title, async (store) => {
      const missing = CAPABILITIES[capability].filter((method) => typeof store[method] !== 'function')
      if (missing.length) fail(`capability ${capability} is declared but the store has no ${missing.join(' or ')}`)
      await body(store)
    })
  }

  describe(`${name} conformance`, () => {
    test(`declares exactly the optional methods it has (${[...declared].join(', ') || 'none'})`, async (store) => {
      for (const capability of Object.keys(CAPABILITIES) as StoreCapability[]) {
        const has = hasCapability(store, capability)
        if (has && !declared.has(capability)) fail(`the store has ${CAPABILITIES[capability].join(' and ')}: add '${capability}' to capabilities so it is tested`)
        if (!has && declared.has(capability)) fail(`capability ${capability} is declared but the store lacks ${CAPABILITIES[capability].join(' or ')}`)
      }
    })

    test('returns undefined for an id it never saw', async (store) => {
      const found = await store.get(newId())
      if (found !== undefined && found !== null) fail(`get of an unknown id returned ${JSON.stringify(found)}`)
    })

    test('returns what was set: data, createdAt, expiresAt and userId', async (store) => {
      const id = newId()
      const saved = record({ user: { name: 'Ada', roles: ['admin'] }, views: 3, flag: true, nothing: null }, 60_000, 'u1')
      await store.set(id, saved)
      const found = await store.get(id)
      if (!found) fail('get after set returned nothing')
      equal(found.data, saved.data, 'data')
      equal(found.createdAt, saved.createdAt, 'createdAt')
      if (Math.abs(found.expiresAt - saved.expiresAt) > 1000) fail(`expiresAt drifted: ${found.expiresAt} vs ${saved.expiresAt}`)
      equal(found.userId, 'u1', 'userId')
    })

    test('keeps copies: changing what was set or what get returned changes nothing stored', async (store) => {
      const id = newId()
      const data = { list: [1, 2], nested: { a: 1 } }
      await store.set(id, record(data))
      data.list.push(3)
      data.nested.a = 99
      const first = await store.get(id)
      equal(first?.data, { list: [1, 2], nested: { a: 1 } }, 'data after mutating the input')
      ;(first!.data.list as number[]).push(4)
      equal((await store.get(id))?.data, { list: [1, 2], nested: { a: 1 } }, 'data after mutating a result')
    })

    test('set replaces the whole record', async (store) => {
      const id = newId()
      await store.set(id, record({ a: 1, b: 2 }))
      await store.set(id, record({ c: 3 }))
      equal((await store.get(id))?.data, { c: 3 }, 'data')
    })

    test('destroy removes the record and is harmless for an unknown id', async (store) => {
      const id = newId()
      await store.set(id, record({ a: 1 }))
      await store.destroy(id)
      if (await store.get(id)) fail('get after destroy returned a record')
      await store.destroy(newId())
    })

    test('does not return a record past its expiry', async (store) => {
      const id = newId()
      await store.set(id, record({ a: 1 }, 1200))
      if (!(await store.get(id))) fail('record missing before its expiry')
      await sleep(1600)
      if (await store.get(id)) fail('record returned after its expiry')
    })

    test('a set whose expiry has passed stores nothing (and deletes what was there)', async (store) => {
      const id = newId()
      await store.set(id, record({ a: 1 }))
      const past = record({ a: 2 })
      past.expiresAt = Date.now() - 1000
      await store.set(id, past)
      if (await store.get(id)) fail('record with a past expiry was kept')
    })

    optional('touch', 'touch moves the expiry and keeps the data', async (store) => {
      const id = newId()
      await store.set(id, record({ a: 1 }, 1200))
      const later = Date.now() + 60_000
      await store.touch!(id, later)
      await sleep(1600)
      const found = await store.get(id)
      if (!found) fail('touched record expired at its old expiry')
      equal(found.data, { a: 1 }, 'data after touch')
      if (Math.abs(found.expiresAt - later) > 1000) fail('expiresAt after touch does not match')
    })

    optional('patch', 'patch sets and unsets only the named keys', async (store) => {
      const id = newId()
      await store.set(id, record({ keep: 1, change: 1, drop: 1 }))
      await store.patch!(id, { set: { change: { deep: [2] }, add: 'new' }, unset: ['drop'] }, Date.now() + 60_000)
      equal((await store.get(id))?.data, { keep: 1, change: { deep: [2] }, add: 'new' }, 'data after patch')
    })

    optional('patch', 'patch loses no update when 20 run at once on different keys', async (store) => {
      const id = newId()
      await store.set(id, record({}))
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.patch!(id, { set: { [`k${i}`]: i }, unset: [] }, Date.now() + 60_000)))
      const data = (await store.get(id))?.data ?? {}
      for (let i = 0; i < 20; i++) if (data[`k${i}`] !== i) fail(`key k${i} was lost by concurrent patches`)
    })

    optional('patch', 'patch does not recreate a destroyed session', async (store) => {
      const id = newId()
      await store.set(id, record({ a: 1 }))
      await store.destroy(id)
      await store.patch!(id, { set: { b: 2 }, unset: [] }, Date.now() + 60_000)
      if (await store.get(id)) fail('patch after destroy brought the session back')
    })

    optional('update', 'update replaces an existing session whole (user included)', async (store) => {
      const id = newId()
      await store.set(id, record({ a: 1, b: 2 }))
      const next = { ...record({ a: 3 }), userId: 'u-update' }
      await store.update!(id, next)
      const got = await store.get(id)
      equal(got?.data, { a: 3 }, 'data after update')
      equal(got?.userId, 'u-update', 'userId after update')
    })

    optional('update', 'update does not recreate a destroyed session', async (store) => {
      const id = newId()
      await store.set(id, record({ a: 1 }))
      await store.destroy(id)
      await store.update!(id, { ...record({ a: 2 }), userId: 'u-update' })
      if (await store.get(id)) fail('update after destroy brought the session back')
      if (store.listUser && (await store.listUser('u-update')).some((s) => s.id === id)) fail('update after destroy indexed the session for its user')
    })

    optional('rotate', 'rotate moves a session to its new id (data, user, index)', async (store) => {
      if (!store.rotate) fail('rotate vanished during the test')
      const [from, to, user] = [newId(), newId(), newId()]
      await store.set(from, record({ a: 1 }))
      const moved = await store.rotate(from, to, record({ a: 1, b: 2 }, 60_000, user))
      if (moved !== true) fail(`rotate of an existing session answered ${JSON.stringify(moved)}, not true`)
      if (await store.get(from)) fail('the old id still loads after rotate')
      const got = await store.get(to)
      equal(got?.data, { a: 1, b: 2 }, 'data under the new id')
      equal(got?.userId, user, 'userId under the new id')
      if (store.listUser) equal((await store.listUser(user)).map((s) => s.id), [to], 'listUser after rotate')
    })

    optional('rotate', 'rotate writes nothing once the old session was destroyed or revoked', async (store) => {
      if (!store.rotate) fail('rotate vanished during the test')
      const user = newId()
      const [destroyed, revoked, to] = [newId(), newId(), newId()]
      await store.set(destroyed, record({ a: 1 }, 60_000, user))
      await store.destroy(destroyed)
      const afterDestroy = await store.rotate(destroyed, to, record({ a: 2 }, 60_000, user))
      if (afterDestroy !== false) fail(`rotate after destroy answered ${JSON.stringify(afterDestroy)}, not false`)
      if (await store.get(to)) fail('rotate after destroy brought the session back under its new id')
      if (store.revokeUser) {
        await store.set(revoked, record({ a: 1 }, 60_000, user))
        await store.revokeUser(user)
        const afterRevoke = await store.rotate(revoked, to, record({ a: 2 }, 60_000, user))
        if (afterRevoke !== false) fail(`rotate after revokeUser answered ${JSON.stringify(afterRevoke)}, not false`)
        if (await store.get(to)) fail('rotate after revokeUser brought the session back under its new id')
      }
      if (store.listUser && (await store.listUser(user)).length) fail('rotate of a gone session indexed the new id for its user')
    })

    optional('userIndex', 'listUser and revokeUser index sessions by user', async (store) => {
      if (!store.listUser || !store.revokeUser) fail('listUser or revokeUser vanished during the test')
      const user = newId()
      const [a, b, c, other] = [newId(), newId(), newId(), newId()]
      await store.set(a, record({ n: 1 }, 60_000, user))
      await store.set(b, record({ n: 2 }, 60_000, user))
      await store.set(c, record({ n: 3 }, 60_000, user))
      await store.set(other, record({ n: 4 }, 60_000, `${user}-other`))
      const listed = (await store.listUser(user)).map((s) => s.id).sort()
      equal(listed, [a, b, c].sort(), 'listUser ids')
      const summary = (await store.listUser(user))[0]!
      if (!(summary.createdAt instanceof Date) || !(summary.expiresAt instanceof Date)) fail('listUser must return Dates')
      const revoked = await store.revokeUser(user, b)
      equal(revoked, 2, 'revokeUser count')
      if (await store.get(a)) fail('revoked session a still loads')
      if (!(await store.get(b))) fail('the excepted session was revoked')
      if (!(await store.get(other))) fail("another user's session was revoked")
      equal((await store.listUser(user)).map((s) => s.id), [b], 'listUser after revoke')
      await store.destroy(b)
      equal(await store.listUser(user), [], 'listUser after destroy')
    })
  })
}

// KVStore over an in-memory stand-in for a KV binding: what it sends to KV and how it reads what
// it finds there. (workers.test.ts runs it on the real binding, inside workerd.)
import { describe, expect, it } from 'vitest'
import { createSessions, SessionError } from '../../src/index.js'
import { KVStore, type KVNamespaceLike } from '../../src/cloudflare.js'
import type { SessionRecord } from '../../src/core/types.js'

/** A KV namespace in a Map, recording every put's options, and refusing a TTL under 60 s as KV does. */
class FakeKV implements KVNamespaceLike {
  readonly values = new Map<string, string>()
  readonly puts: { key: string; expirationTtl: number | undefined }[] = []
  failure: Error | undefined

  async get(key: string, type: 'text'): Promise<string | null> {
    if (this.failure) throw this.failure
    expect(type).toBe('text')
    return this.values.get(key) ?? null
  }
  async put(key: string, value: string, options?: { expirationTtl?: number }): Promise<void> {
    if (this.failure) throw this.failure
    const ttl = options?.expirationTtl
    if (ttl !== undefined && !(Number.isInteger(ttl) && ttl >= 60)) throw new Error(`KV PUT failed: 400 Invalid expiration_ttl of ${ttl}`)
    this.puts.push({ key, expirationTtl: ttl })
    this.values.set(key, value)
  }
  async delete(key: string): Promise<void> {
    if (this.failure) throw this.failure
    this.values.delete(key)
  }
}

const record = (lifetimeMs: number, data: Record<string, unknown> = { a: 1 }): SessionRecord => ({ data, createdAt: Date.now(), expiresAt: Date.now() + lifetimeMs })

describe('KVStore', () => {
  it('refuses options that are not a KV binding, naming the option', () => {
    expect(() => new KVStore(undefined as never)).toThrow(TypeError)
    expect(() => new KVStore({ namespace: {} as never })).toThrow(/option namespace/)
    expect(() => new KVStore({ namespace: new Map() as never })).toThrow(/option namespace/)
    expect(() => new KVStore({ namespace: new FakeKV(), prefix: 1 as never })).toThrow(/option prefix/)
    expect(() => new KVStore({ namespace: new FakeKV(), prefix: 'x'.repeat(300) })).toThrow(/option prefix/)
  })

  it('writes JSON under the prefix, with a TTL in whole seconds that is never under KV’s 60 s minimum', async () => {
    const kv = new FakeKV()
    const store = new KVStore({ namespace: kv, prefix: 'app:' })
    await store.set('short', record(1500))
    await store.set('long', { ...record(3_600_500), userId: 'u1' })
    expect(kv.puts).toEqual([
      { key: 'app:short', expirationTtl: 60 },
      { key: 'app:long', expirationTtl: 3601 },
    ])
    expect(JSON.parse(kv.values.get('app:long')!)).toMatchObject({ data: { a: 1 }, userId: 'u1' })
    expect(await store.get('short')).toMatchObject({ data: { a: 1 } })
  })

  it('deletes instead of writing a record whose expiry has passed', async () => {
    const kv = new FakeKV()
    const store = new KVStore({ namespace: kv })
    await store.set('id', record(60_000))
    await store.set('id', record(-1))
    expect(kv.values.has('tessera:id')).toBe(false)
    expect(kv.puts).toHaveLength(1)
  })

  it('returns nothing for a value past its expiresAt that KV still holds (its TTL is at least a minute)', async () => {
    const kv = new FakeKV()
    kv.values.set('tessera:old', JSON.stringify({ data: { a: 1 }, createdAt: 0, expiresAt: Date.now() - 1 }))
    expect(await new KVStore({ namespace: kv }).get('old')).toBeUndefined()
  })

  it('treats a value that is not a session record as missing, never throwing', async () => {
    const kv = new FakeKV()
    const store = new KVStore({ namespace: kv })
    const later = Date.now() + 60_000
    const values = ['not json', '"a string"', 'null', '[]', JSON.stringify({ data: [], createdAt: 0, expiresAt: later }), JSON.stringify({ data: {}, createdAt: '0', expiresAt: later }), JSON.stringify({ data: {}, createdAt: 0 })]
    for (const [i, value] of values.entries()) kv.values.set(`tessera:bad${i}`, value)
    for (const i of values.keys()) expect(await store.get(`bad${i}`)).toBeUndefined()
  })

  it('keeps a stored __proto__ key as data, never as a prototype', async () => {
    const kv = new FakeKV()
    kv.values.set('tessera:p', `{"data":{"__proto__":{"admin":true}},"createdAt":0,"expiresAt":${Date.now() + 60_000}}`)
    const found = await new KVStore({ namespace: kv }).get('p')
    expect(Object.getPrototypeOf(found!.data)).toBe(Object.prototype)
    expect((found!.data as { admin?: boolean }).admin).toBeUndefined()
  })

  it('a KV failure reaches the app as SessionError STORE_ERROR with the cause', async () => {
    const kv = new FakeKV()
    const sessions = createSessions<{ a?: number }>({ store: new KVStore({ namespace: kv }) })
    const first = await sessions.get(new Request('https://example.com/'))
    first.data.a = 1
    const [cookie] = await first.commit()
    kv.failure = new Error('KV GET failed: 503 Service Unavailable')
    const request = new Request('https://example.com/', { headers: { cookie: cookie!.split(';')[0]! } })
    const error = await sessions.get(request).then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(SessionError)
    expect(error).toMatchObject({ code: 'STORE_ERROR', cause: kv.failure })
  })
})

// The Redis layout as pure functions (src/stores/redis/scripts.ts), shared by RedisStore and any
// other store on the same layout: records map to hashes and back, the builders put keys and flags
// where the Lua reads them, and the module needs no client and no Node built-in.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  CREATED_FIELD,
  EXPIRES_FIELD,
  PATCH_SCRIPT,
  SET_SCRIPT,
  USER_FIELD,
  destroyCall,
  parseSessionHash,
  patchCall,
  recordFields,
  replyText,
  setCall,
  summaryOf,
  userOfReply,
} from '../../src/stores/redis/scripts.js'

const now = 1_800_000_000_000
const later = now + 3_600_000

describe('Redis layout (scripts.ts)', () => {
  it('maps a record to hash fields and back, a __proto__ key and a NUL-led key staying plain data', () => {
    const data = JSON.parse('{"__proto__":{"admin":true},"\\u0000c":"not meta","n":1}')
    const fields = recordFields({ data, createdAt: now, expiresAt: later, userId: 'u1' })
    expect(fields.slice(0, 6)).toEqual([CREATED_FIELD, String(now), EXPIRES_FIELD, String(later), USER_FIELD, 'u1'])
    expect(fields).toContain('\u0000\u0000c')
    const record = parseSessionHash(fields, now)!
    expect(record).toMatchObject({ createdAt: now, expiresAt: later, userId: 'u1' })
    expect(Object.getPrototypeOf(record.data)).toBe(Object.prototype)
    expect(Object.keys(record.data).sort()).toEqual(['\u0000c', '__proto__', 'n'])
    expect((record.data as any).admin).toBeUndefined()
    expect(record.data['\u0000c']).toBe('not meta')
  })

  it('reads a hash given as a Map, an object or bytes, and treats expired, foreign or damaged ones as missing', () => {
    const bytes = (s: string) => new TextEncoder().encode(s)
    const map = new Map<string, unknown>([[CREATED_FIELD, bytes(String(now))], [EXPIRES_FIELD, String(later)], ['a', bytes('"é"')]])
    expect(parseSessionHash(map, now)?.data).toEqual({ a: 'é' })
    expect(parseSessionHash({ [CREATED_FIELD]: String(now), [EXPIRES_FIELD]: String(later) }, now)?.data).toEqual({})
    expect(parseSessionHash([CREATED_FIELD, String(now), EXPIRES_FIELD, String(later)], later)).toBeUndefined()
    expect(parseSessionHash([CREATED_FIELD, String(now), 'a', '1'], now)).toBeUndefined()
    expect(parseSessionHash([CREATED_FIELD, String(now), EXPIRES_FIELD, String(later), 'a', '{oops'], now)).toBeUndefined()
    expect(parseSessionHash(null, now)).toBeUndefined()
    expect(replyText(new Uint8Array([0xef, 0xbb, 0xbf, 0x41]))).toBe('\ufeffA')
  })

  it('puts the index keys of a whole write in KEYS with their flags, or leaves them out for separate commands', () => {
    const record = { data: { a: 1 }, createdAt: now, expiresAt: later, userId: 'u2' }
    const inline = setCall({ key: 's', id: 'id', record, now, existing: true, addIndex: 'add', removeIndex: 'rem' })
    expect(inline).toEqual({ lua: SET_SCRIPT, keys: ['s', 'add', 'rem'], args: ['id', String(later), String(now), '1', '1', '1', ...recordFields(record)] })
    const alone = setCall({ key: 's', id: 'id', record, now, existing: false })
    expect(alone.keys).toEqual(['s'])
    expect(alone.args.slice(3, 6)).toEqual(['', '', ''])
  })

  it('sends a patch as n field/value pairs then the fields to delete, a JSON-undefined value among the deletions', () => {
    const call = patchCall({ key: 's', id: 'id', now, expectedUser: 'u', index: 'idx', expiresAt: later, changes: { set: { a: 1, gone: undefined }, unset: ['b'] } })
    expect(call).toEqual({
      lua: PATCH_SCRIPT,
      keys: ['s', 'idx'],
      args: ['id', 'u', String(later), String(now), '2', EXPIRES_FIELD, String(later), 'a', '1', 'gone', 'b'],
    })
    expect(destroyCall({ key: 's', id: 'id', now }).args).toEqual(['id', '', String(now)])
  })

  it("reads a script's user and a listed session's meta fields", () => {
    expect(userOfReply('u1')).toBe('u1')
    expect(userOfReply('')).toBeUndefined()
    expect(userOfReply(null)).toBeUndefined()
    expect(summaryOf('id', 'u1', [String(now), String(later), 'u1'], now)).toEqual({ id: 'id', createdAt: new Date(now), expiresAt: new Date(later) })
    expect(summaryOf('id', 'u1', [String(now), String(later), 'u2'], now)).toBeUndefined()
    expect(summaryOf('id', 'u1', [null, null, null], now)).toBeUndefined()
  })

  it('imports no client and no Node built-in, so a store on another transport can use it', () => {
    const source = readFileSync(new URL('../../src/stores/redis/scripts.ts', import.meta.url), 'utf8')
    const imports = [...source.matchAll(/^import .* from '([^']+)'/gm)].map((m) => m[1])
    expect(imports).toEqual(['../../core/plain.js', '../../core/types.js'])
  })
})

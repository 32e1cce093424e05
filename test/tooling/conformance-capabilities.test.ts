// The conformance suite's `capabilities`: registered through a recording runner, so each case can
// check what the suite registers and run the tests that matter, failing ones included.
import { describe, expect, it } from 'vitest'
import { MemoryStore, type SessionStore } from '../../src/index.js'
import { testSessionStore, type StoreCapability } from '../../src/testing.js'

interface Registered {
  name: string
  skipped: boolean
  body: () => Promise<void>
}

function register(makeStore: () => SessionStore, options: { capabilities?: StoreCapability[]; userIndex?: boolean; skip?: boolean }) {
  const tests: Registered[] = []
  const runner = Object.assign((name: string, body: () => Promise<void>) => void tests.push({ name, skipped: false, body }), {
    skip: options.skip === false ? undefined : (name: string, body: () => Promise<void>) => void tests.push({ name, skipped: true, body }),
  })
  const { skip: _, ...rest } = options
  testSessionStore('store', makeStore, { describe: (_name, body) => body(), it: runner, ...rest })
  const find = (prefix: string) => tests.find((test) => test.name.startsWith(prefix))!
  return { tests, find }
}

const ALL: StoreCapability[] = ['touch', 'patch', 'update', 'rotate', 'userIndex']
const withoutUpdate = () => Object.assign(new MemoryStore(), { update: undefined }) as SessionStore

describe('testSessionStore capabilities', () => {
  it('runs every test of a store that declares all it has, and skips none', async () => {
    const { tests, find } = register(() => new MemoryStore(), { capabilities: ALL })
    expect(tests.filter((test) => test.skipped)).toEqual([])
    expect(tests).toHaveLength(17)
    await find('declares exactly the optional methods it has').body()
    await find('patch loses no update when 20 run at once').body()
  })

  it('fails the tests of a declared capability whose method is missing', async () => {
    const { find } = register(withoutUpdate, { capabilities: ALL })
    await expect(find('update replaces an existing session whole').body()).rejects.toThrow('capability update is declared but the store has no update')
    await expect(find('update does not recreate a destroyed session').body()).rejects.toThrow('has no update')
    await expect(find('declares exactly').body()).rejects.toThrow('capability update is declared but the store lacks update')
  })

  it('registers the tests of an undeclared capability as skipped, the reason in their name', async () => {
    const { tests } = register(withoutUpdate, { capabilities: ['touch', 'patch', 'rotate', 'userIndex'] })
    expect(tests.filter((test) => test.skipped).map((test) => test.name)).toEqual([
      'update replaces an existing session whole (user included) (store declares no update)',
      'update does not recreate a destroyed session (store declares no update)',
    ])
  })

  it('fails when the store has a method it does not declare', async () => {
    const { find } = register(() => new MemoryStore(), { capabilities: ['touch', 'update', 'rotate', 'userIndex'] })
    await expect(find('declares exactly').body()).rejects.toThrow("the store has patch: add 'patch' to capabilities so it is tested")
  })

  it('declares nothing by default: a get/set/destroy store passes the declaration test and skips the 9 optional tests', async () => {
    const plain = (): SessionStore => {
      const store = new MemoryStore()
      return { get: (id) => store.get(id), set: (id, record) => store.set(id, record), destroy: (id) => store.destroy(id) }
    }
    const { tests, find } = register(plain, {})
    expect(tests.filter((test) => test.skipped)).toHaveLength(9)
    await find('declares exactly the optional methods it has (none)').body()
  })

  it('registers nothing for an undeclared capability when the runner has no it.skip', () => {
    const { tests } = register(withoutUpdate, { capabilities: ['touch', 'patch', 'rotate', 'userIndex'], skip: false })
    expect(tests.map((test) => test.name).filter((name) => name.startsWith('update'))).toEqual([])
    expect(tests).toHaveLength(15)
  })

  it('keeps userIndex: true as an alias of the userIndex capability', () => {
    const { tests } = register(() => new MemoryStore(), { capabilities: ['touch', 'patch', 'update', 'rotate'], userIndex: true })
    expect(tests.filter((test) => test.skipped)).toEqual([])
  })

  it('rejects an unknown capability with a TypeError naming the option', () => {
    expect(() => register(() => new MemoryStore(), { capabilities: ['pacth' as StoreCapability] })).toThrow(TypeError)
    expect(() => register(() => new MemoryStore(), { capabilities: ['pacth' as StoreCapability] })).toThrow(/option capabilities: unknown capability "pacth"/)
  })
})

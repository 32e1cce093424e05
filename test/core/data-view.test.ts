// session.data is a tracking Proxy; what a developer sees of it (console.log, JSON, prototypes)
// must be the data itself, never the machinery behind it.
import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { createSessions } from '../../src/index.js'
import { MemoryStore } from '../../src/stores/memory-store.js'
import { webRequest } from './support.js'

async function sessionWith(data: Record<string, unknown>) {
  const sessions = createSessions<Record<string, unknown>>({ store: new MemoryStore() })
  const session = await sessions.get(webRequest(), new Response())
  Object.assign(session.data, data)
  return session
}

describe('session.data as a developer sees it', () => {
  it('console.log / util.inspect prints the data, nested values included', async () => {
    const session = await sessionWith({ user: { name: 'ada', roles: ['admin'] }, n: 1 })
    expect(inspect(session.data)).toBe(inspect({ user: { name: 'ada', roles: ['admin'] }, n: 1 }))
    expect(inspect(session.data)).not.toContain('tracker')
    // A nested value read through the proxy prints as itself too.
    expect(inspect((session.data as { user: object }).user)).toBe(inspect({ name: 'ada', roles: ['admin'] }))
  })

  it('an empty session prints as {}', async () => {
    const session = await sessionWith({})
    expect(inspect(session.data)).toBe('{}')
  })

  it('JSON.stringify, Object.keys and the prototype are those of the data', async () => {
    const session = await sessionWith({ a: 1, b: [2] })
    expect(JSON.stringify(session.data)).toBe('{"a":1,"b":[2]}')
    expect(Object.keys(session.data)).toEqual(['a', 'b'])
    expect(Object.getPrototypeOf(session.data)).toBe(Object.prototype)
    expect(session.data instanceof Object).toBe(true)
  })
})

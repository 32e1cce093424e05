// Issue 18 (the docs as a new user meets them), items 6, 8 and 9: what a new Next.js user ran into.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { CookieStore, createSessions, MemoryStore } from '../../src/index.js'

const SECRET = 'docs-review-secret-0123456789-abcdefghij'

/** A Next.js cookies() stand-in that records what Tessera sets. */
function cookieJar(): { jar: { get(n: string): { name: string; value: string } | undefined; getAll(): []; set(n: string, v: string, o?: Record<string, unknown>): void; delete(n: string): void }; sets: Record<string, unknown>[] } {
  const sets: Record<string, unknown>[] = []
  return {
    sets,
    jar: {
      get: () => undefined,
      getAll: () => [],
      set: (name, value, options) => void sets.push({ name, value, ...options }),
      delete: () => {},
    },
  }
}

afterEach(() => {
  vi.unstubAllEnvs()
  vi.restoreAllMocks()
  delete (globalThis as Record<symbol, unknown>)[Symbol.for('tessera.warnedMissingSecret')]
  delete (globalThis as Record<symbol, unknown>)[Symbol.for('tessera.warnedSecureOverHttp')]
})

describe('issue 18', () => {
  it('item 6: cookies() gets a whole-second maxAge (a fractional Max-Age is ignored by RFC 6265 clients)', async () => {
    const sessions = createSessions<{ n?: number }>({ store: new CookieStore(), secrets: SECRET })
    const clock = vi.spyOn(Date, 'now').mockReturnValue(1_700_000_000_000)
    const first = cookieJar()
    const created = await sessions.get(first.jar)
    created.data.n = 1
    await created.commit()
    // A server action 184 ms later changes the session: the cookie store re-sends its cookie,
    // with the expiry the session already had.
    clock.mockReturnValue(1_700_000_000_184)
    const second = cookieJar()
    const sealed = first.sets[0]!
    second.jar.get = (name) => (name === sealed.name ? { name, value: sealed.value as string } : undefined)
    const loaded = await sessions.get(second.jar)
    expect(loaded.data.n).toBe(1)
    loaded.data.n = 2
    await loaded.commit()
    expect(second.sets).toHaveLength(1)
    expect(second.sets[0]!.maxAge).toBe(1_209_599)
  })

  it('item 8: secrets given as an unset variable is a TypeError at startup in production, naming the variable to check', () => {
    vi.stubEnv('NODE_ENV', 'production')
    expect(() => createSessions({ secrets: process.env.TESSERA_SURELY_UNSET_SECRET, store: new MemoryStore() })).toThrow(
      /secrets was given but is undefined: is the environment variable that should hold it \(SESSION_SECRET\?\) set\?/,
    )
    // Leaving the option out is a choice, not a mistake.
    expect(() => createSessions({ store: new MemoryStore() })).not.toThrow()
  })

  it('item 8: outside production, and during next build, an unset secret is a warning once', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    createSessions({ secrets: undefined, store: new MemoryStore() })
    vi.stubEnv('NODE_ENV', 'production')
    vi.stubEnv('NEXT_PHASE', 'phase-production-build')
    createSessions({ secrets: undefined, store: new MemoryStore() })
    expect(warn).toHaveBeenCalledTimes(1)
    expect(String(warn.mock.calls[0]![0])).toMatch(/SESSION_SECRET/)
  })

  it('item 9: a Secure cookie set on a plain-HTTP request to a LAN host warns once; localhost does not', async () => {
    vi.stubEnv('NODE_ENV', 'production') // secure: 'auto' turns Secure on in production
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const sessions = createSessions<{ n?: number }>({ store: new MemoryStore() })
    const local = await sessions.get(new Request('http://localhost:3000/'))
    local.data.n = 1
    expect((await local.commit())[0]).toMatch(/; Secure/)
    expect(warn).not.toHaveBeenCalled()
    for (let i = 0; i < 2; i++) {
      const lan = await sessions.get(new Request('http://192.168.1.20:3000/'))
      lan.data.n = 1
      await lan.commit()
    }
    expect(warn).toHaveBeenCalledTimes(1)
    expect(String(warn.mock.calls[0]![0])).toMatch(/Secure session cookie was set on a plain-HTTP request to 192\.168\.1\.20:3000; browsers drop it/)
  })
})

// Compile-only: tessera/compat/next-session accepts what next-session 4's published declarations
// accept, and what it returns fits where next-session's values were used. Run by vitest's
// typecheck (tsc), never executed.
import type { IncomingMessage, ServerResponse } from 'node:http'
import ExpressSession from 'express-session'
import realNextSession from 'next-session'
import { promisifyStore as realPromisifyStore } from 'next-session/lib/compat'
// next-session's lib/session.d.ts imports './types' without an extension, which NodeNext cannot
// resolve (its package is "type": "module"), so its signature comes out as `any`. The types file
// itself resolves: the signature below is session.d.ts's, over those types.
import type * as Real from '../../node_modules/next-session/lib/types.js'
import { describe, expectTypeOf, test } from 'vitest'
import nextSession, {
  applySession,
  expressSession,
  MemoryStore,
  promisifyStore,
  session,
  withSession,
  type Options,
  type Session,
  type SessionStore,
} from '../../src/compat/next-session.js'

declare const req: IncomingMessage
declare const res: ServerResponse
type RealNextSession = <T extends Real.SessionRecord = Real.SessionRecord>(
  options?: Real.Options,
) => (req: IncomingMessage & { session?: Real.Session<T> | undefined }, res: ServerResponse) => Promise<Real.Session<T>>
type RealOptions = Real.Options
type RealSessionStore = Real.SessionStore
type RealSession<T extends Real.SessionRecord> = Real.Session<T>

describe('nextSession (v4) against next-session 4’s declarations', () => {
  test('the default export can stand wherever next-session’s was used', () => {
    expectTypeOf<RealOptions>().not.toBeAny()
    expectTypeOf<RealSession<{ a: 1 }>['cookie']>().not.toBeAny()
    expectTypeOf(nextSession).toExtend<RealNextSession>()
    expectTypeOf(realNextSession).toBeFunction()
    expectTypeOf<Parameters<RealNextSession>[0]>().toExtend<Parameters<typeof nextSession>[0]>()
  })

  test('every documented option type-checks, in next-session’s own Options type too', () => {
    const options: RealOptions = {
      name: 'sid',
      genid: () => 'id',
      encode: (sid) => `s:${sid}`,
      decode: (raw) => raw.slice(2),
      touchAfter: 3600,
      autoCommit: false,
      cookie: { maxAge: 86400, httpOnly: true, path: '/', domain: 'example.com', secure: true, sameSite: 'lax' },
    }
    nextSession(options)
    nextSession()
    nextSession({ store: new MemoryStore() })
    nextSession({ store: realPromisifyStore(new ExpressSession.MemoryStore()) })
    nextSession({ store: promisifyStore(new expressSession.MemoryStore()) })
  })

  test('the session object: the data, id, touch, commit, destroy and cookie', async () => {
    const getSession = nextSession<{ views?: number; user?: { name: string } }>()
    const s = await getSession(req, res)
    expectTypeOf(s.views).toEqualTypeOf<number | undefined>()
    expectTypeOf(s.user).toEqualTypeOf<{ name: string } | undefined>()
    expectTypeOf(s.id).toBeString()
    expectTypeOf(s.touch).toEqualTypeOf<() => void>()
    expectTypeOf(s.commit).toEqualTypeOf<() => Promise<void>>()
    expectTypeOf(s.destroy).toEqualTypeOf<() => Promise<void>>()
    expectTypeOf(s.cookie.httpOnly).toBeBoolean()
    expectTypeOf(s.cookie.path).toBeString()
    expectTypeOf(s.cookie.expires).toEqualTypeOf<Date | undefined>()
    expectTypeOf(s.cookie.maxAge).toEqualTypeOf<number | undefined>()
    // All but `cookie`: there `expires` is always the session's end (Tessera's server ends idle
    // sessions), where next-session's type ties it to `maxAge` (docs/migrate/next-session.md).
    expectTypeOf<Omit<typeof s, 'cookie'>>().toExtend<Omit<RealSession<{ views?: number; user?: { name: string } }>, 'cookie'>>()
    expectTypeOf<RealSession<{ views?: number }>['cookie']>().toExtend<(typeof s)['cookie']>()
    expectTypeOf<RealSession<{ views?: number }>>().toExtend<Session<{ views?: number }>>()
  })

  test('stores written for next-session fit, and the other way round', () => {
    expectTypeOf<RealSessionStore>().toExtend<SessionStore>()
    expectTypeOf<SessionStore>().toExtend<RealSessionStore>()
    class CustomStore implements SessionStore {
      async get() {
        return null
      }
      async set() {}
      async destroy() {}
    }
    nextSession({ store: new CustomStore() })
    expectTypeOf(promisifyStore).returns.toExtend<RealSessionStore>()
    expectTypeOf<Options['store']>().toExtend<RealSessionStore | object | undefined>()
  })
})

describe('next-session 3 names', () => {
  test('session, withSession, applySession', () => {
    expectTypeOf(session).returns.toEqualTypeOf<(req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void>()
    expectTypeOf(applySession(req, res, { rolling: true, touchAfter: 1000 })).toEqualTypeOf<Promise<void>>()
    const api = withSession((_req: IncomingMessage, _res: ServerResponse) => undefined, { cookie: { maxAge: null } })
    expectTypeOf(api).toEqualTypeOf<(req: IncomingMessage, res: ServerResponse) => undefined>()
    const gssp = withSession(async (_ctx: { req: IncomingMessage; res: ServerResponse }) => ({ props: {} }))
    expectTypeOf(gssp).returns.resolves.toEqualTypeOf<{ props: {} }>()
  })
})

// A failing store surfaces as one error type, answers 500, and never costs the user their session.
import express from 'express'
import type { ErrorRequestHandler, RequestHandler } from 'express'
import { afterEach, describe, expect, it } from 'vitest'
import { SessionError } from '../../src/core/errors.js'
import { createSessions } from '../../src/index.js'
import type { Session } from '../../src/core/session.js'
import { sessionMiddleware } from '../../src/node.js'
import { Jar, serve, type Running } from '../helpers.js'
import { FlakyStore, named, webRequest, webRound, type AnyData, type Method, nodeReq } from './support.js'

const running: Running[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()))
})

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

function expectStoreError(error: unknown, store: FlakyStore): void {
  expect(error).toBeInstanceOf(SessionError)
  expect((error as SessionError).code).toBe('STORE_ERROR')
  expect(store.errors.length).toBeGreaterThan(0)
  expect((error as SessionError).cause).toBe(store.errors.at(-1))
}

/** A session already in the store, and the jar that holds its cookie. */
async function existing(store: FlakyStore) {
  const sessions = createSessions<AnyData>({ store })
  const jar = new Jar()
  await webRound(sessions, jar, (session) => void (session.data.user = 'ada'))
  return { sessions, jar }
}

/** How each store method is reached by a commit. */
const commits: Record<Exclude<Method, 'get' | 'listUser' | 'revokeUser'>, (session: Session<AnyData>) => Promise<unknown>> = {
  set: async (session) => {
    session.data.user = 'eve'
    session.bindUser('u1') // a user change writes the whole record with set
    return session.commit()
  },
  patch: async (session) => {
    session.data.user = 'eve'
    return session.commit()
  },
  touch: async (session) => {
    session.touch()
    return session.commit()
  },
  destroy: (session) => session.destroy(),
}

describe('a failing store', () => {
  for (const mode of ['throw', 'reject'] as const) {
    const how = mode === 'throw' ? 'throws synchronously' : 'rejects'

    it(`get: sessions.get() rejects with STORE_ERROR and the original as cause when the store ${how}`, async () => {
      const store = new FlakyStore()
      const { sessions, jar } = await existing(store)
      store.fail.get = mode
      const request = webRequest(jar)
      const error = await rejection(sessions.get(request))
      expectStoreError(error, store)
      expect((error as Error).message).toMatch(/get is down/)
      // The same request can retry once the store is back.
      store.recover()
      const session = await sessions.get(request)
      expect(session.isNew).toBe(false)
      expect(session.data.user).toBe('ada')
    })

    for (const method of Object.keys(commits) as (keyof typeof commits)[]) {
      it(`${method}: commit() rejects with STORE_ERROR and the original as cause when the store ${how}, and a retry succeeds`, async () => {
        const store = new FlakyStore()
        const { sessions, jar } = await existing(store)
        const response = new Response('ok')
        const session = await sessions.get(webRequest(jar), response)
        store.fail[method] = mode
        const error = await rejection(commits[method](session))
        expectStoreError(error, store)
        expect(response.headers.getSetCookie()).toEqual([]) // no cookie for what was not stored
        store.recover()
        await session.commit() // the failed commit's work is still pending, and now lands
        const stored = await store.inner.get(session.id)
        if (method === 'destroy') expect(stored).toBeUndefined()
        else if (method === 'touch') expect(stored?.data).toEqual({ user: 'ada' })
        else expect(stored?.data).toEqual({ user: 'eve' })
      })
    }

    it(`set: committing a new session rejects with STORE_ERROR when the store ${how}`, async () => {
      const store = new FlakyStore()
      const sessions = createSessions<AnyData>({ store })
      const response = new Response('ok')
      const session = await sessions.get(webRequest(), response)
      session.data.a = 1
      store.fail.set = mode
      expectStoreError(await rejection(session.commit()), store)
      expect(response.headers.getSetCookie()).toEqual([])
      expect(store.inner.size).toBe(0)
    })

    it(`destroy: regenerate() then commit rejects with STORE_ERROR when destroying the old id fails (the store ${how})`, async () => {
      const store = new FlakyStore()
      const { sessions, jar } = await existing(store)
      const session = await sessions.get(webRequest(jar), new Response())
      const oldId = session.id
      await session.regenerate()
      store.fail.destroy = mode
      expectStoreError(await rejection(session.commit()), store)
      store.recover()
      await session.commit()
      expect(await store.inner.get(oldId)).toBeUndefined()
      expect((await store.inner.get(session.id))?.data).toEqual({ user: 'ada' })
    })
  }
})

describe('a failing store behind Express 5 and sessionMiddleware', () => {
  async function expressApp(store: FlakyStore) {
    const sessions = createSessions<AnyData>({ store })
    const app = express()
    app.use(sessionMiddleware(sessions) as unknown as RequestHandler) // cast: see nodeReq() in support.ts
    app.get('/set', (req, res) => {
      ;(req as unknown as { session: Session<AnyData> }).session.data.user = String(req.query.user)
      res.send('saved')
    })
    app.get('/read', (req, res) => {
      res.json((req as unknown as { session: Session<AnyData> }).session.data)
    })
    const onError: ErrorRequestHandler = (error, _req, res, _next) => {
      res.status(500).json({ code: (error as SessionError).code, cause: ((error as SessionError).cause as Error | undefined)?.message })
    }
    app.use(onError)
    const server = await serve((req, res) => void app(req, res))
    running.push(server)
    return server.url
  }

  it('answers 500 through the error handler when get fails, and keeps serving', async () => {
    const store = new FlakyStore()
    const url = await expressApp(store)
    const jar = new Jar()
    expect((await jar.fetch(`${url}/set?user=ada`)).status).toBe(200)
    const cookie = jar.cookies.get('sid')

    store.fail.get = 'reject'
    const failed = await jar.fetch(`${url}/read`)
    expect(failed.status).toBe(500)
    expect(await failed.json()).toEqual({ code: 'STORE_ERROR', cause: 'get is down' })
    expect(failed.headers.getSetCookie()).toEqual([])

    store.recover()
    const next = await jar.fetch(`${url}/read`)
    expect(next.status).toBe(200)
    expect(await next.json()).toEqual({ user: 'ada' })
    expect(jar.cookies.get('sid')).toBe(cookie)
  })

  it('answers 500 through the error handler when the autoCommit write fails, and keeps serving', async () => {
    const store = new FlakyStore()
    const url = await expressApp(store)
    const jar = new Jar()

    store.fail.set = 'throw'
    const failedNew = await jar.fetch(`${url}/set?user=ada`)
    expect(failedNew.status).toBe(500)
    expect(await failedNew.json()).toEqual({ code: 'STORE_ERROR', cause: 'set is down' })
    expect(named(failedNew.headers.getSetCookie())).toEqual([]) // no cookie for a session that was not stored
    expect(store.inner.size).toBe(0)

    store.recover()
    expect((await jar.fetch(`${url}/set?user=ada`)).status).toBe(200)
    store.fail.patch = 'reject'
    const failedChange = await jar.fetch(`${url}/set?user=eve`)
    expect(failedChange.status).toBe(500)
    expect(await failedChange.json()).toEqual({ code: 'STORE_ERROR', cause: 'patch is down' })

    store.recover()
    const next = await jar.fetch(`${url}/read`)
    expect(next.status).toBe(200)
    expect(await next.json()).toEqual({ user: 'ada' })
  })
})

describe('a failing store on plain node:http with sessions.get(req, res)', () => {
  it('answers 500 when autoCommit fails, and the stored session survives the outage', async () => {
    const store = new FlakyStore()
    const sessions = createSessions<AnyData>({ store })
    const server = await serve(async (req, res) => {
      const session = await sessions.get(nodeReq(req), res)
      const user = new URL(req.url!, 'http://x').searchParams.get('user')
      if (user) session.data.user = user
      if (req.url?.includes('bind')) session.bindUser('u1') // a user change is written with set
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify(session.data))
    })
    running.push(server)
    const jar = new Jar()
    const created = await jar.fetch(`${server.url}/?user=ada`)
    expect(created.status).toBe(200)
    const cookie = jar.cookies.get('sid')!

    for (const [method, path] of [['patch', '/?user=eve'], ['set', '/?user=eve&bind=1']] as const) {
      store.fail[method] = 'reject'
      const failed = await jar.fetch(`${server.url}${path}`)
      expect(failed.status).toBe(500)
      expect(await failed.text()).toBe('Session error: STORE_ERROR')
      expect(failed.headers.getSetCookie()).toEqual([])
      store.recover()
    }

    // While get fails nothing else is handed out either: no anonymous session, no new cookie.
    store.fail.get = 'throw'
    const down = await jar.fetch(`${server.url}/?user=mallory`)
    expect(down.status).toBe(500)
    expect(down.headers.getSetCookie()).toEqual([])
    expect(jar.cookies.get('sid')).toBe(cookie)
    store.recover()

    const back = await jar.fetch(`${server.url}/`)
    expect(back.status).toBe(200)
    expect(await back.json()).toEqual({ user: 'ada' })
    expect(back.headers.getSetCookie()).toEqual([])
    expect(jar.cookies.get('sid')).toBe(cookie)
    expect(store.inner.size).toBe(1)
  })

  it('closes the connection instead of completing the response when the write fails after the headers left', async () => {
    const store = new FlakyStore()
    const sessions = createSessions<AnyData>({ store })
    const server = await serve(async (req, res) => {
      const session = await sessions.get(nodeReq(req), res)
      session.data.n = ((session.data.n as number | undefined) ?? 0) + 1
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end('done')
    })
    running.push(server)
    const jar = new Jar()
    await (await jar.fetch(server.url)).text()
    store.fail.patch = 'reject'
    const outcome = await jar.fetch(server.url).then(
      (response) => response.text().then((text) => `completed: ${text}`),
      (error: unknown) => `failed: ${String(error)}`,
    ).catch((error: unknown) => `failed: ${String(error)}`)
    expect(outcome).toMatch(/^failed/)
    store.recover()
    expect((await store.inner.get(jar.cookies.get('sid')!))?.data).toEqual({ n: 1 })
  })

  it('leaves the answer to the app when it caught a failed commit(); a second commit() retries', async () => {
    const store = new FlakyStore()
    const sessions = createSessions<AnyData>({ store })
    const server = await serve(async (req, res) => {
      const session = await sessions.get(nodeReq(req), res)
      session.data.n = ((session.data.n as number | undefined) ?? 0) + 1
      try {
        await session.commit()
      } catch (error) {
        if (req.url?.includes('retry')) {
          store.recover()
          await session.commit() // the same changes, written now
          res.end(`retried ${String(session.data.n)}`)
          return
        }
        res.statusCode = 503
        res.end(`try again later (${(error as SessionError).code})`)
        return
      }
      res.end(String(session.data.n))
    })
    running.push(server)
    const jar = new Jar()
    expect(await (await jar.fetch(server.url)).text()).toBe('1')

    store.fail.patch = 'reject'
    const caught = await jar.fetch(server.url)
    // The app's own 503, not autoCommit's 500 from retrying the same failing write at end().
    expect(caught.status).toBe(503)
    expect(await caught.text()).toBe('try again later (STORE_ERROR)')
    expect(store.errors).toHaveLength(1) // one failed write: end() did not try again
    expect((await store.inner.get(jar.cookies.get('sid')!))?.data).toEqual({ n: 1 })

    const retried = await jar.fetch(`${server.url}/retry`)
    expect(await retried.text()).toBe('retried 2')
    expect((await store.inner.get(jar.cookies.get('sid')!))?.data).toEqual({ n: 2 })
  })
})

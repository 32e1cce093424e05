// Shared by the store tests (not a test file itself): a small node:http app over a Sessions
// object, and the concurrency check every server-side store must pass over real HTTP.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { expect } from 'vitest'
import { createSessions, type Sessions, type SessionsOptions } from '../../src/index.js'
import { Jar, serve, type Running } from '../helpers.js'

export type AnyData = Record<string, unknown>

export const SECRET = 'store-tests-secret-0123456789-abcdefghij'

let counter = 0
/** A key prefix no other store in this process uses. */
export function uniquePrefix(label = 't'): string {
  counter++
  return `${label}${process.pid}x${counter}x${Math.random().toString(36).slice(2, 8)}:`
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * GET /set?k=<key>&v=<value> stores data[key] = value; GET /read returns { id, data }. A failing
 * load answers 500 with { error: code }; a failing commit answers 500 through autoCommit
 * ("Session error: STORE_ERROR").
 */
export function sessionHandler(sessions: Sessions<AnyData>) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    let session
    try {
      session = await sessions.get(req, res)
    } catch (error) {
      res.statusCode = 500
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ error: (error as { code?: string }).code ?? 'ERROR', message: (error as Error).message }))
      return
    }
    if (url.pathname === '/set') {
      const key = url.searchParams.get('k')!
      session.data[key] = url.searchParams.has('v') ? url.searchParams.get('v') : 1
    }
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ id: session.id, data: { ...session.data } }))
  }
}

export async function serveSessions(options: SessionsOptions): Promise<{ sessions: Sessions<AnyData>; app: Running }> {
  const sessions = createSessions<AnyData>({ secrets: [SECRET], ...options })
  const app = await serve(sessionHandler(sessions))
  return { sessions, app }
}

/**
 * One browser (one cookie) sends 20 requests at once, each setting a different key, and every
 * request loads the session before any of them commits (a barrier: the interleaving that loses
 * updates with a whole-record `set`). All 20 keys must be there afterwards.
 */
export async function expectNoLostUpdates(options: SessionsOptions): Promise<void> {
  const sessions = createSessions<AnyData>({ secrets: [SECRET], ...options })
  let loaded = 0
  const app = await serve(async (req, res) => {
    const session = await sessions.get(req, res)
    const url = new URL(req.url ?? '/', 'http://localhost')
    const key = url.searchParams.get('k')
    if (key?.startsWith('k')) {
      loaded++
      const deadline = Date.now() + 5000
      while (loaded < 20 && Date.now() < deadline) await sleep(5)
    }
    if (key) session.data[key] = url.searchParams.get('v') ?? 1
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ ...session.data }))
  })
  try {
    const jar = new Jar()
    const first = await jar.fetch(`${app.url}/?k=start`)
    expect(first.status).toBe(200)
    expect(jar.cookies.size).toBe(1)
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => jar.fetch(`${app.url}/?k=k${i}&v=${i}`)))
    for (const response of responses) expect(response.status).toBe(200)
    await Promise.all(responses.map((r) => r.text()))
    expect(loaded).toBe(20)
    const data = (await (await jar.fetch(`${app.url}/`)).json()) as AnyData
    for (let i = 0; i < 20; i++) expect(data[`k${i}`], `key k${i}`).toBe(String(i))
    expect(data.start).toBe(1)
  } finally {
    await app.close()
  }
}

// On node:http (and Express/Connect on top of it) the session commits itself before the response
// completes: a handler only changes session.data. A SlowStore (writes land 150 ms late) makes the
// tests able to fail: a response that did not wait for the write would arrive before the data.
import connect from 'connect'
import express from 'express'
import type { RequestHandler } from 'express'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { createSessions, type Sessions } from '../../src/index.js'
import type { Session } from '../../src/core/session.js'
import { sessionMiddleware } from '../../src/node.js'
import { Jar, serve, type Running } from '../helpers.js'
import { named, SlowStore, valueOf, type AnyData, nodeReq } from './support.js'

const running: Running[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()))
})

async function start(handler: (req: IncomingMessage, res: ServerResponse) => unknown): Promise<string> {
  const server = await serve(async (req, res) => void (await handler(req, res)))
  running.push(server)
  return server.url
}

/** `req.session` as sessionMiddleware leaves it. */
function sessionOf(req: unknown): Session<AnyData> {
  const session = (req as { session?: Session<AnyData> }).session
  if (!session) throw new Error('sessionMiddleware did not set req.session')
  return session
}

function setup() {
  const store = new SlowStore()
  const sessions = createSessions<AnyData>({ store })
  /** What the store holds for the jar's session, read directly (no request). */
  const stored = async (jar: Jar) => {
    const value = jar.cookies.get('sid')
    return value === undefined ? undefined : (await store.inner.get(value))?.data
  }
  return { store, sessions, stored }
}

/** A plain node:http app on `sessions.get(req, res)`, with one route per way of ending the response. */
function nodeApp(sessions: Sessions<AnyData>) {
  return start(async (req, res) => {
    const session = await sessions.get(nodeReq(req), res)
    const url = new URL(req.url ?? '/', 'http://x')
    const value = url.searchParams.get('v')
    if (value !== null) session.data.value = value
    switch (url.pathname) {
      case '/end':
        res.end('done')
        break
      case '/writeHead':
        res.writeHead(200, { 'content-type': 'text/plain' })
        res.end('done')
        break
      case '/writeHead-bare':
        res.writeHead(200)
        res.end()
        break
      case '/writeHead-cookie':
        res.writeHead(200, { 'set-cookie': 'theme=dark', 'content-type': 'text/plain' })
        res.end('done')
        break
      case '/stream':
        res.write('chunk-1;')
        await new Promise((resolve) => setTimeout(resolve, 20))
        res.write('chunk-2;')
        res.end('chunk-3')
        break
      case '/read':
        res.setHeader('content-type', 'application/json')
        res.end(JSON.stringify(session.data))
        break
      default:
        res.statusCode = 404
        res.end()
    }
  })
}

describe('autoCommit on node:http', () => {
  it('persists a handler that only changes session.data and calls res.end()', async () => {
    const { sessions, stored } = setup()
    const url = await nodeApp(sessions)
    const jar = new Jar()
    const response = await jar.fetch(`${url}/end?v=one`)
    expect(await response.text()).toBe('done')
    expect(named(response.headers.getSetCookie())).toHaveLength(1)
    expect(await stored(jar)).toEqual({ value: 'one' }) // landed before the response completed

    // A loaded session that changes is patched before the response completes, too.
    await (await jar.fetch(`${url}/end?v=two`)).text()
    expect(await stored(jar)).toEqual({ value: 'two' })
    expect(await (await jar.fetch(`${url}/read`)).json()).toEqual({ value: 'two' })
  })

  it('persists with res.writeHead(200, headers) and then res.end()', async () => {
    const { sessions, stored } = setup()
    const url = await nodeApp(sessions)
    const jar = new Jar()
    const response = await jar.fetch(`${url}/writeHead?v=head`)
    expect(await response.text()).toBe('done')
    expect(response.headers.get('content-type')).toBe('text/plain')
    expect(named(response.headers.getSetCookie())).toHaveLength(1)
    expect(await stored(jar)).toEqual({ value: 'head' })
  })

  it('persists with a bare res.writeHead(200) and an empty res.end()', async () => {
    const { sessions, stored } = setup()
    const url = await nodeApp(sessions)
    const jar = new Jar()
    const response = await jar.fetch(`${url}/writeHead-bare?v=bare`)
    expect(response.status).toBe(200)
    await response.arrayBuffer()
    expect(named(response.headers.getSetCookie())).toHaveLength(1)
    expect(await stored(jar)).toEqual({ value: 'bare' })
    expect(await (await jar.fetch(`${url}/read`)).json()).toEqual({ value: 'bare' })
  })

  it('keeps the session cookie when writeHead() is given a Set-Cookie header of its own', async () => {
    const { sessions, stored } = setup()
    const url = await nodeApp(sessions)
    const jar = new Jar()
    const response = await jar.fetch(`${url}/writeHead-cookie?v=both`)
    await response.text()
    const lines = response.headers.getSetCookie()
    expect(lines).toContain('theme=dark')
    expect(named(lines)).toHaveLength(1) // without it the session just stored is unreachable
    expect(await stored(jar)).toEqual({ value: 'both' })
  })

  it('persists when the body is streamed with res.write() chunks before res.end()', async () => {
    const { sessions, stored } = setup()
    const url = await nodeApp(sessions)
    const jar = new Jar()
    const response = await jar.fetch(`${url}/stream?v=streamed`)
    expect(named(response.headers.getSetCookie())).toHaveLength(1)
    expect(await response.text()).toBe('chunk-1;chunk-2;chunk-3')
    expect(await stored(jar)).toEqual({ value: 'streamed' })
    expect(await (await jar.fetch(`${url}/read`)).json()).toEqual({ value: 'streamed' })
  })
})

/** The same routes in Express 5 or Connect, on `sessionMiddleware`. */
function expressApp(sessions: Sessions<AnyData>) {
  const app = express()
  app.use(sessionMiddleware(sessions) as unknown as RequestHandler) // cast: see nodeReq() in support.ts
  app.get('/redirect', (req, res) => {
    sessionOf(req).data.flash = 'saved'
    res.redirect('/x')
  })
  app.get('/send', (req, res) => {
    sessionOf(req).data.sent = true
    res.send('sent')
  })
  app.get('/json', (req, res) => {
    sessionOf(req).data.json = [1, 2]
    res.json({ ok: true })
  })
  app.get('/x', (req, res) => {
    res.json(sessionOf(req).data)
  })
  return start((req, res) => app(req, res))
}

describe('autoCommit in Express 5 with sessionMiddleware', () => {
  it('persists a change before a res.redirect() is received (the next request sees it)', async () => {
    const { sessions, stored } = setup()
    const url = await expressApp(sessions)
    const jar = new Jar()
    const redirect = await jar.fetch(`${url}/redirect`)
    expect(redirect.status).toBe(302)
    expect(redirect.headers.get('location')).toBe('/x')
    await redirect.arrayBuffer()
    expect(named(redirect.headers.getSetCookie())).toHaveLength(1)
    expect(await stored(jar)).toEqual({ flash: 'saved' })
    const next = await jar.fetch(new URL(redirect.headers.get('location')!, url).href)
    expect(await next.json()).toEqual({ flash: 'saved' })
  })

  it('persists a change before res.send() completes', async () => {
    const { sessions, stored } = setup()
    const url = await expressApp(sessions)
    const jar = new Jar()
    const response = await jar.fetch(`${url}/send`)
    expect(await response.text()).toBe('sent')
    expect(await stored(jar)).toEqual({ sent: true })
    expect(await (await jar.fetch(`${url}/x`)).json()).toEqual({ sent: true })
  })

  it('persists a change before res.json() completes, for new and for loaded sessions', async () => {
    const { sessions, stored } = setup()
    const url = await expressApp(sessions)
    const jar = new Jar()
    expect(await (await jar.fetch(`${url}/json`)).json()).toEqual({ ok: true })
    expect(await stored(jar)).toEqual({ json: [1, 2] })
    const cookie = jar.cookies.get('sid')
    const second = await jar.fetch(`${url}/send`)
    await second.text()
    expect(second.headers.getSetCookie()).toEqual([]) // loaded session: stored, no cookie
    expect(jar.cookies.get('sid')).toBe(cookie)
    expect(await stored(jar)).toEqual({ json: [1, 2], sent: true })
  })
})

describe('autoCommit in Connect with sessionMiddleware', () => {
  function connectApp(sessions: Sessions<AnyData>) {
    const app = connect()
    app.use(sessionMiddleware(sessions) as connect.NextHandleFunction)
    app.use('/set', (req: IncomingMessage, res: ServerResponse) => {
      sessionOf(req).data.via = 'connect'
      res.statusCode = 302
      res.setHeader('location', '/get')
      res.end()
    })
    app.use('/get', (req: IncomingMessage, res: ServerResponse) => {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify(sessionOf(req).data))
    })
    return start((req, res) => app(req, res))
  }

  it('persists a change before the response is received, and the next request sees it', async () => {
    const { sessions, stored } = setup()
    const url = await connectApp(sessions)
    const jar = new Jar()
    const response = await jar.fetch(`${url}/set`)
    expect(response.status).toBe(302)
    await response.arrayBuffer()
    const lines = named(response.headers.getSetCookie())
    expect(lines).toHaveLength(1)
    expect(await stored(jar)).toEqual({ via: 'connect' })
    expect(valueOf(lines[0]!)).toBe(jar.cookies.get('sid'))
    expect(await (await jar.fetch(`${url}/get`)).json()).toEqual({ via: 'connect' })
  })
})

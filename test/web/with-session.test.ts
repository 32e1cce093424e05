// withSession (tessera/web): a fetch handler in, a fetch handler out, with the session committed
// and its cookies on the response. Web APIs only, so this file runs on Node, Bun and Deno alike.
import { describe, expect, it } from 'vitest'
import { CookieStore, createSessions, MemoryStore } from '../../src/index.js'
import { withSession } from '../../src/web.js'

const SECRET = 'with-session-secret-0123456789abcdefghij'
const url = 'https://app.example/'

function app() {
  return createSessions<{ user?: string; flash?: string }>({ store: new MemoryStore(), secrets: SECRET })
}
const cookieOf = (response: Response) => response.headers.getSetCookie()[0]!.split(';')[0]!
const get = (cookie?: string) => new Request(url, cookie ? { headers: { cookie } } : {})

describe('withSession', () => {
  it('commits a changed session and puts its cookie on the response, with Cache-Control: no-store', async () => {
    const sessions = app()
    const handle = withSession(sessions, async (_request, session) => {
      session.data.user = 'ada'
      return new Response('hi')
    })
    const response = await handle(get())
    expect(response.headers.getSetCookie()).toEqual([expect.stringMatching(/^sid=[^;]+; Max-Age=1209600; .*HttpOnly; Secure; SameSite=Lax$/)])
    expect(response.headers.get('cache-control')).toBe('no-store')
    const read = withSession(sessions, async (_request, session) => new Response(session.data.user))
    expect(await (await read(get(cookieOf(response)))).text()).toBe('ada')
  })

  it('leaves the response as it is when the session did not change', async () => {
    const handle = withSession(app(), async () => new Response('hi', { headers: { 'cache-control': 'max-age=60' } }))
    const response = await handle(get())
    expect(response.headers.getSetCookie()).toEqual([])
    expect(response.headers.get('cache-control')).toBe('max-age=60')
  })

  it('sends the expired cookie of a session destroyed in the handler, and the session is gone', async () => {
    const sessions = app()
    const login = await withSession(sessions, async (_r, session) => ((session.data.user = 'ada'), new Response()))(get())
    const cookie = cookieOf(login)
    const logout = await withSession(sessions, async (_r, session) => {
      await session.destroy()
      return new Response(null, { status: 204 })
    })(get(cookie))
    expect(logout.headers.getSetCookie()).toEqual([expect.stringMatching(/^sid=; Max-Age=0; /)])
    const after = await withSession(sessions, async (_r, session) => new Response(String(session.data.user)))(get(cookie))
    expect(await after.text()).toBe('undefined')
  })

  it('expires a destroyed cookie-store session too (the whole session is the cookie)', async () => {
    const sessions = createSessions<{ user?: string }>({ store: new CookieStore(), secrets: SECRET })
    const login = await withSession(sessions, async (_r, session) => ((session.data.user = 'ada'), new Response()))(get())
    const logout = await withSession(sessions, async (_r, session) => (await session.destroy(), new Response()))(get(cookieOf(login)))
    expect(logout.headers.getSetCookie()).toEqual([expect.stringMatching(/^sid=; Max-Age=0; /)])
  })

  it('sends one cookie, the new session’s, when the handler destroys the session and starts another', async () => {
    const sessions = app()
    const login = await withSession(sessions, async (_r, session) => ((session.data.user = 'ada'), new Response()))(get())
    const response = await withSession(sessions, async (_r, session) => {
      await session.restart()
      session.data.flash = 'signed out'
      return new Response()
    })(get(cookieOf(login)))
    const lines = response.headers.getSetCookie()
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^sid=[^;]+; Max-Age=1209600; /)
    expect(cookieOf(response)).not.toBe(cookieOf(login))
  })

  it('copies a response whose headers are immutable (Response.redirect) to add the cookie', async () => {
    const handle = withSession(app(), async (_request, session) => {
      session.data.user = 'ada'
      return Response.redirect('https://app.example/home', 303)
    })
    const response = await handle(get())
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('https://app.example/home')
    expect(response.headers.getSetCookie()).toHaveLength(1)
  })
})

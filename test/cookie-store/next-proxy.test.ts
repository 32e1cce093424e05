// The cookie store in proxy.ts, with Next.js's own NextRequest / NextResponse (next/server): the
// guard reads a sealed (and chunked) session, refreshSession re-seals it when a touch is due, and a
// tampered or missing cookie is turned away. The e2e suite covers the Edge route in a real build.
import { NextRequest, NextResponse } from 'next/server.js'
import { describe, expect, it } from 'vitest'
import { refreshSession } from '../../src/next.js'
import { cookieSessions, filler, setPairs } from './helpers.js'

interface AppData {
  user?: string
  notes?: string
}

const APP = 'http://app.test'

/** The demo's proxy.ts, over a cookie-store `sessions`. */
function proxyFor(sessions: ReturnType<typeof cookieSessions<AppData>>['sessions']) {
  return async (request: NextRequest): Promise<NextResponse> => {
    const response = NextResponse.next()
    const session = await refreshSession(sessions, request, response)
    if (request.nextUrl.pathname.startsWith('/account') && !session.data.user) {
      return NextResponse.redirect(new URL('/login', request.url))
    }
    return response
  }
}

function request(path: string, cookies: Map<string, string>): NextRequest {
  const cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  return new NextRequest(`${APP}${path}`, { headers: cookie ? { cookie } : {} })
}

async function logIn(sessions: ReturnType<typeof cookieSessions<AppData>>['sessions'], notes: string): Promise<Map<string, string>> {
  const response = new Response(null)
  const session = await sessions.get(new Request(`${APP}/login`, { method: 'POST' }), response)
  session.data.user = 'alice'
  session.data.notes = notes
  await session.commit()
  return setPairs(response.headers.getSetCookie())
}

describe('CookieStore in proxy.ts (NextRequest / NextResponse from next/server)', () => {
  it('lets a sealed session through, re-seals it when a touch is due, and turns away the rest', async () => {
    const { sessions } = cookieSessions<AppData>({ touchAfter: 0 })
    const proxy = proxyFor(sessions)
    const jar = await logIn(sessions, 'short')
    expect([...jar.keys()]).toEqual(['sid'])

    const through = await proxy(request('/account', jar))
    expect(through.headers.get('x-middleware-next')).toBe('1') // NextResponse.next(): the page renders
    const lines = through.headers.getSetCookie()
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/; HttpOnly/i)
    const resealed = setPairs(lines).get('sid')!
    expect(resealed.startsWith('t2.')).toBe(true) // touchAfter 0: the expiry moved, so a new seal
    expect(resealed).not.toBe(jar.get('sid'))

    // The re-sealed cookie opens with the same data.
    const again = await sessions.read(request('/', new Map([['sid', resealed]])))
    expect(again).toEqual({ user: 'alice', notes: 'short' })

    const away = await proxy(request('/account', new Map()))
    expect(away.status).toBe(307)
    expect(away.headers.get('location')).toBe(`${APP}/login`)
    expect(away.headers.getSetCookie()).toEqual([]) // a visitor without a session gets no cookie

    const tampered = new Map([['sid', jar.get('sid')!.slice(0, -2) + (jar.get('sid')!.endsWith('AA') ? 'BB' : 'AA')]])
    expect((await proxy(request('/account', tampered))).status).toBe(307)
  })

  it('reads a chunked session and leaves it alone inside touchAfter', async () => {
    const { sessions } = cookieSessions<AppData>({ touchAfter: 3600 })
    const proxy = proxyFor(sessions)
    const jar = await logIn(sessions, filler(4000)) // over 4096 bytes: sid.0, sid.1, ...
    expect([...jar.keys()].every((name) => /^sid\.\d$/.test(name))).toBe(true)
    expect(jar.size).toBeGreaterThan(1)

    const through = await proxy(request('/account', jar))
    expect(through.headers.get('x-middleware-next')).toBe('1')
    expect(through.headers.getSetCookie()).toEqual([]) // unchanged, no touch due: no cookie at all

    const missingChunk = new Map(jar)
    missingChunk.delete('sid.1')
    expect((await proxy(request('/account', missingChunk))).status).toBe(307)
  })
})

/** The names of the Set-Cookie lines, in order. */
function lineNames(lines: readonly string[]): string[] {
  return lines.map((line) => line.slice(0, line.indexOf('=')).trim())
}

describe('review 17: one Set-Cookie per cookie name in a response, whatever ran before', () => {
  it('review 17: proxy.ts refreshes, then logs in on the same NextResponse: one sid line, the new session', async () => {
    const { sessions } = cookieSessions<AppData>({ touchAfter: 0 })
    const jar = await logIn(sessions, 'short')
    const req = request('/login', jar)
    const response = NextResponse.next()
    const refreshed = await refreshSession(sessions, req, response) // a touch is due: the old id, re-sealed
    expect(response.headers.getSetCookie()).toHaveLength(1)
    // Written as a header, not through response.cookies: Next would then also copy it into every
    // route handler's response (x-middleware-set-cookie → the handler's mutable cookies), a second sid.
    expect(response.headers.get('x-middleware-set-cookie')).toBeNull()
    const oldId = refreshed.id
    const session = await sessions.get(req, response) // the same request: the same session
    await session.regenerate()
    session.bindUser('alice')
    await session.commit()
    const lines = response.headers.getSetCookie()
    expect(lineNames(lines)).toEqual(['sid'])
    const opened = await sessions.get(request('/', setPairs(lines)))
    expect(opened.id).not.toBe(oldId)
    expect(opened.userId).toBe('alice')
  })

  it('review 17: a session that shrinks after a chunked commit in the same response leaves no live chunk behind', async () => {
    const { sessions } = cookieSessions<AppData>()
    const response = NextResponse.next()
    const session = await sessions.get(request('/', new Map()), response)
    session.data.notes = filler(3500) // sid.0, sid.1
    await session.commit()
    expect(lineNames(response.headers.getSetCookie())).toEqual(['sid.0', 'sid.1'])
    session.data.notes = 'short' // one cookie now
    await session.commit()
    const lines = response.headers.getSetCookie()
    const names = lineNames(lines)
    expect(new Set(names).size).toBe(names.length) // one line per name
    const live = setPairs(lines) // lines without Max-Age=0
    expect([...live.keys()]).toEqual(['sid'])
    expect(names.sort()).toEqual(['sid', 'sid.0', 'sid.1']) // the chunks are expired, not left live
    const opened = await sessions.read(request('/', live))
    expect(opened).toEqual({ notes: 'short' })
  })
})

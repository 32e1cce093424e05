// A Cloudflare Worker with sessions: a visit counter, a login that regenerates the session id, a
// logout, and a CSRF-protected form. SESSION_STORE picks where sessions live: "kv" (a KV
// namespace bound as SESSIONS, the default) or "cookie" (sealed into the cookie, no storage).
import { CookieStore, createSessions, type Session } from 'tessera'
import { KVStore, type KVNamespaceLike } from 'tessera/cloudflare'
import { csrfField, csrfForbidden, verifyRequest } from 'tessera/csrf'
import { withSession } from 'tessera/web'

export interface Env {
  /** `KVNamespace` with @cloudflare/workers-types. */
  SESSIONS: KVNamespaceLike
  /** At least 32 characters: `wrangler secret put SESSION_SECRET`. */
  SESSION_SECRET: string
  SESSION_STORE?: 'kv' | 'cookie'
}

interface Data {
  views?: number
  user?: string
  note?: string
}

// One sessions object per isolate, made on its first request (bindings arrive with the request).
let handle: ((request: Request) => Promise<Response>) | undefined

export default {
  fetch(request: Request, env: Env): Promise<Response> {
    handle ??= withSession(
      createSessions<Data>({
        store: env.SESSION_STORE === 'cookie' ? new CookieStore() : new KVStore({ namespace: env.SESSIONS }),
        secrets: env.SESSION_SECRET,
      }),
      route,
    )
    return handle(request)
  },
}

async function route(request: Request, session: Session<Data>): Promise<Response> {
  const { pathname } = new URL(request.url)
  const key = `${request.method} ${pathname}`

  // Every state-changing request proves it came from our own page: same origin and a token.
  if (request.method === 'POST') {
    const result = await verifyRequest(session, request)
    if (!result.ok) return csrfForbidden(result)
  }

  switch (key) {
    case 'GET /':
      return json(session)
    case 'POST /count':
      session.data.views = (session.data.views ?? 0) + 1
      return json(session)
    case 'POST /login': {
      const form = await request.formData()
      const user = form.get('user')
      if (typeof user !== 'string' || user === '') return new Response('user is required\n', { status: 400 })
      await session.regenerate() // a new id at every change of privilege (session fixation)
      session.data.user = user
      return json(session)
    }
    case 'POST /logout':
      await session.destroy()
      return new Response(null, { status: 204 })
    case 'GET /form':
      return html(session)
    case 'POST /form': {
      const note = (await request.formData()).get('note')
      session.data.note = typeof note === 'string' ? note.slice(0, 200) : ''
      return json(session)
    }
    default:
      return new Response('Not found\n', { status: 404 })
  }
}

function json(session: Session<Data>): Response {
  const { views = 0, user = null, note = null } = session.data
  return Response.json({ views, user, note, isNew: session.isNew })
}

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

function html(session: Session<Data>): Response {
  const { name, value } = csrfField(session)
  const hidden = `<input type="hidden" name="${name}" value="${escape(value)}">`
  const body = `<!doctype html>
<title>Tessera on Workers</title>
<p>Views: ${session.data.views ?? 0}. ${session.data.user ? `Signed in as ${escape(session.data.user)}.` : 'Not signed in.'}</p>
<form method="post" action="/form">${hidden}<input name="note" value="${escape(session.data.note ?? '')}"><button>Save note</button></form>
<form method="post" action="/count">${hidden}<button>Count a visit</button></form>
<form method="post" action="/login">${hidden}<input name="user" placeholder="name"><button>Sign in</button></form>
<form method="post" action="/logout">${hidden}<button>Sign out</button></form>
`
  return new Response(body, { headers: { 'content-type': 'text/html; charset=utf-8' } })
}

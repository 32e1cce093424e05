// verifyOrigin (fetch metadata, Origin, Referer) on Web Requests and Node-shaped requests, and
// verifyRequest reading the token from a Web Request: header, form fields from a clone, never
// the query string.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createSessions } from '../../src/index.js'
import { MemoryStore } from '../../src/stores/memory-store.js'
import {
  createCsrfToken,
  CSRF_VARY,
  csrfForbidden,
  csrfToken,
  csrfVary,
  verifyOrigin,
  verifyRequest,
  type CsrfResult,
  type NodeLikeRequest,
} from '../../src/csrf.js'

const APP = 'https://app.example'
const allowed = [APP]
const OK: CsrfResult = { ok: true }
const BAD_ORIGIN: CsrfResult = { ok: false, reason: 'invalid-origin' }
const SECRET = 'a-csrf-secret-of-at-least-thirty-two-characters'

/** A POST to `url` carrying `headers`. */
const post = (headers: Record<string, string>, url = `${APP}/submit`) => new Request(url, { method: 'POST', headers })
/** The same request as node:http would hand it over (path-only url, lowercase headers). */
const nodePost = (headers: Record<string, string>, extra: Partial<NodeLikeRequest> = {}): NodeLikeRequest => ({
  method: 'POST',
  url: '/submit',
  headers: { host: 'app.example', ...headers },
  socket: { encrypted: true },
  ...extra,
})

describe('verifyOrigin', () => {
  it('lets GET, HEAD and OPTIONS through whatever the headers say', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'get']) {
      expect(verifyOrigin({ method, headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } }, { allowed })).toEqual(OK)
    }
    expect(verifyOrigin(new Request(`${APP}/`, { headers: { origin: 'null', 'sec-fetch-site': 'cross-site' } }), { allowed })).toEqual(OK)
  })

  it('checks every other method, and a request without one', () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'TRACE', 'PROPFIND']) {
      expect(verifyOrigin({ method, headers: { origin: 'https://evil.example' } }, { allowed })).toEqual(BAD_ORIGIN)
    }
    expect(verifyOrigin({ headers: { origin: 'https://evil.example' } }, { allowed })).toEqual(BAD_ORIGIN)
  })

  it('checklist 44: Sec-Fetch-Site cross-site is rejected even with an allowed Origin', () => {
    expect(verifyOrigin(post({ origin: APP, 'sec-fetch-site': 'cross-site' }), { allowed })).toEqual(BAD_ORIGIN)
    expect(verifyOrigin(nodePost({ origin: APP, 'sec-fetch-site': 'cross-site' }), { allowed })).toEqual(BAD_ORIGIN)
  })

  it('checklist 44: Sec-Fetch-Site same-origin is allowed', () => {
    expect(verifyOrigin(post({ origin: APP, 'sec-fetch-site': 'same-origin' }), { allowed })).toEqual(OK)
    expect(verifyOrigin(nodePost({ origin: APP, 'sec-fetch-site': 'same-origin' }))).toEqual(OK)
  })

  it('checklist 44: Sec-Fetch-Site same-site is rejected unless allowSameSite, and its origin must still be allowed', () => {
    const sibling = 'https://admin.app.example'
    expect(verifyOrigin(post({ origin: sibling, 'sec-fetch-site': 'same-site' }), { allowed: [APP, sibling] })).toEqual(BAD_ORIGIN)
    expect(verifyOrigin(post({ origin: sibling, 'sec-fetch-site': 'same-site' }), { allowed: [APP, sibling], allowSameSite: true })).toEqual(OK)
    expect(verifyOrigin(post({ origin: 'https://other.app.example', 'sec-fetch-site': 'same-site' }), { allowed, allowSameSite: true })).toEqual(BAD_ORIGIN)
  })

  it('checklist 44: an unknown Sec-Fetch-Site value fails closed; none goes on to the origin check', () => {
    expect(verifyOrigin(post({ origin: APP, 'sec-fetch-site': 'same-origin, cross-site' }), { allowed })).toEqual(BAD_ORIGIN)
    expect(verifyOrigin(post({ origin: APP, 'sec-fetch-site': 'bogus' }), { allowed })).toEqual(BAD_ORIGIN)
    expect(verifyOrigin(post({ origin: APP, 'sec-fetch-site': 'none' }), { allowed })).toEqual(OK)
    expect(verifyOrigin(post({ origin: 'https://evil.example', 'sec-fetch-site': 'none' }), { allowed })).toEqual(BAD_ORIGIN)
  })

  it('checklist 45: Origin must match a configured origin exactly', () => {
    const other = 'https://partner.example:8443'
    const options = { allowed: [`${APP}/`, other] } // a trailing slash in the option is tolerated
    expect(verifyOrigin(post({ origin: APP }, 'https://internal:3000/x'), options)).toEqual(OK)
    expect(verifyOrigin(post({ origin: other }, 'https://internal:3000/x'), options)).toEqual(OK)
    for (const origin of [
      'https://app.example.attacker.com',
      'https://evil-app.example',
      'https://sub.app.example',
      'http://app.example',
      'https://app.example:444',
      'https://partner.example',
      'https://app.example/',
      'HTTPS://APP.EXAMPLE',
      ' https://evil.example',
      'https://app.example, https://evil.example',
      '',
    ]) {
      expect({ origin, result: verifyOrigin(post({ origin }, 'https://internal:3000/x'), options) }).toEqual({ origin, result: BAD_ORIGIN })
    }
  })

  it('checklist 45: https://example.org.attacker.com does not pass for https://example.org', () => {
    const options = { allowed: ['https://example.org'] }
    expect(verifyOrigin(post({ origin: 'https://example.org' }, 'https://internal/x'), options)).toEqual(OK)
    expect(verifyOrigin(post({ origin: 'https://example.org.attacker.com' }, 'https://internal/x'), options)).toEqual(BAD_ORIGIN)
  })

  it('checklist 45: Origin: null is cross-origin, not missing — even with allowMissingOrigin', () => {
    expect(verifyOrigin(post({ origin: 'null' }), { allowed })).toEqual(BAD_ORIGIN)
    expect(verifyOrigin(post({ origin: 'null' }), { allowed, allowMissingOrigin: true })).toEqual(BAD_ORIGIN)
    expect(verifyOrigin(post({ origin: 'null', referer: `${APP}/form` }), { allowed, allowMissingOrigin: true })).toEqual(BAD_ORIGIN)
    expect(verifyOrigin(nodePost({ origin: 'null' }), { allowed, allowMissingOrigin: true })).toEqual(BAD_ORIGIN)
  })

  it('checklist 45: the request’s own origin is allowed (Web URL, or Host with the socket’s scheme on Node)', () => {
    expect(verifyOrigin(post({ origin: 'http://localhost:3000' }, 'http://localhost:3000/x'))).toEqual(OK)
    expect(verifyOrigin(post({ origin: 'https://localhost:3000' }, 'http://localhost:3000/x'))).toEqual(BAD_ORIGIN)
    expect(verifyOrigin(nodePost({ origin: APP }))).toEqual(OK)
    expect(verifyOrigin(nodePost({ origin: 'http://app.example' }))).toEqual(BAD_ORIGIN) // the socket is TLS
    expect(verifyOrigin(nodePost({ origin: 'http://app.example' }, { socket: {} }))).toEqual(OK)
    expect(verifyOrigin(nodePost({ origin: APP }, { headers: {} }))).toEqual(BAD_ORIGIN) // no Host
    expect(verifyOrigin(nodePost({ origin: 'https://evil.example' }, { headers: { host: 'evil.example@app.example' } }))).toEqual(BAD_ORIGIN)
  })

  it('checklist 45: a Web request whose URL is the listening address (Next.js) matches its Host too', () => {
    // next start builds request.url from its own address; the browser asked for the Host.
    const next = (headers: Record<string, string>) => post({ host: '127.0.0.1:4123', ...headers }, 'http://localhost:4123/api/count')
    expect(verifyOrigin(next({ origin: 'http://127.0.0.1:4123' }))).toEqual(OK)
    expect(verifyOrigin(next({ origin: 'http://localhost:4123' }))).toEqual(OK)
    expect(verifyOrigin(next({ origin: 'https://127.0.0.1:4123' }))).toEqual(BAD_ORIGIN) // the scheme still counts
    expect(verifyOrigin(next({ origin: 'http://127.0.0.1:4124' }))).toEqual(BAD_ORIGIN)
    expect(verifyOrigin(next({ origin: 'http://evil.example', 'x-forwarded-host': 'evil.example' }), { trustProxy: false })).toEqual(BAD_ORIGIN)
  })

  // Changed with issue 18: the forwarded headers used to count only with trustProxy: true, so an
  // HTTPS deployment refused every action that Next.js's own origin check had let through.
  it('checklist 45: X-Forwarded-Proto and -Host name the own origin by default, as Next.js reads them; trustProxy: false ignores them', () => {
    const proxied: NodeLikeRequest = {
      method: 'POST',
      url: '/submit',
      socket: {},
      headers: { host: 'internal:3000', origin: APP, 'x-forwarded-proto': 'https', 'x-forwarded-host': 'app.example' },
    }
    expect(verifyOrigin(proxied)).toEqual(OK)
    expect(verifyOrigin(proxied, { trustProxy: true })).toEqual(OK)
    expect(verifyOrigin(proxied, { trustProxy: false })).toEqual(BAD_ORIGIN)
    // What a form on another site sends: it cannot set X-Forwarded-Host (nor can fetch() without a
    // preflight), so its Origin never equals the forwarded host.
    expect(verifyOrigin({ ...proxied, headers: { ...proxied.headers, origin: 'https://evil.example' } })).toEqual(BAD_ORIGIN)
    expect(verifyOrigin({ ...proxied, headers: { ...proxied.headers, origin: 'http://app.example' } })).toEqual(BAD_ORIGIN) // the proxy said https
  })

  it('issue 18: an HTTPS deployment without APP_ORIGIN accepts its own server actions (headers() with X-Forwarded-Proto)', () => {
    // What a platform's proxy hands next start for a server action posted from https://shop.example.
    const action = (headers: Record<string, string>) => ({ method: 'POST', headers: new Headers({ host: 'shop.example', ...headers }) })
    expect(verifyOrigin(action({ origin: 'https://shop.example', 'x-forwarded-proto': 'https' }))).toEqual(OK)
    expect(verifyOrigin(action({ origin: 'https://shop.example', 'x-forwarded-proto': 'https', 'sec-fetch-site': 'same-origin' }))).toEqual(OK)
    expect(verifyOrigin(action({ origin: 'https://shop.example:8443', 'x-forwarded-proto': 'https' }))).toEqual(BAD_ORIGIN)
    expect(verifyOrigin(action({ origin: 'https://evil.example', 'x-forwarded-proto': 'https' }))).toEqual(BAD_ORIGIN)
    expect(verifyOrigin(action({ origin: 'http://shop.example', 'x-forwarded-proto': 'https' }))).toEqual(BAD_ORIGIN)
    // No X-Forwarded-Proto and no URL: nothing says the scheme, so the host is compared, as Next.js does.
    expect(verifyOrigin(action({ origin: 'https://shop.example' }))).toEqual(OK)
    expect(verifyOrigin(action({ origin: 'http://shop.example' }))).toEqual(OK)
    expect(verifyOrigin(action({ origin: 'https://evil.example' }))).toEqual(BAD_ORIGIN)
    // An http: page of the same host posting to the https: site: its browser says cross-site.
    expect(verifyOrigin(action({ origin: 'http://shop.example', 'sec-fetch-site': 'cross-site' }))).toEqual(BAD_ORIGIN)
    // X-Forwarded-Host names the public host behind a proxy that rewrites Host (Next.js reads it first).
    expect(verifyOrigin(action({ host: 'internal:3000', origin: 'https://shop.example', 'x-forwarded-host': 'shop.example', 'x-forwarded-proto': 'https' }))).toEqual(OK)
  })

  it('checklist 46: without Origin, the origin of Referer is compared', () => {
    expect(verifyOrigin(post({ referer: `${APP}/form?x=1#top` }, 'https://internal/x'), { allowed })).toEqual(OK)
    expect(verifyOrigin(post({ referer: 'https://app.example.attacker.com/form' }, 'https://internal/x'), { allowed })).toEqual(BAD_ORIGIN)
    expect(verifyOrigin(post({ referer: 'http://app.example/form' }, 'https://internal/x'), { allowed })).toEqual(BAD_ORIGIN)
    expect(verifyOrigin(post({ referer: 'not a url' }), { allowed, allowMissingOrigin: true })).toEqual(BAD_ORIGIN)
    expect(verifyOrigin(post({ referer: 'data:text/html,hi' }), { allowed, allowMissingOrigin: true })).toEqual(BAD_ORIGIN)
    expect(verifyOrigin(nodePost({ referer: `${APP}/form` }))).toEqual(OK)
  })

  it('checklist 46: with neither Origin nor Referer an unsafe request is blocked unless allowMissingOrigin', () => {
    expect(verifyOrigin(post({}), { allowed })).toEqual(BAD_ORIGIN)
    expect(verifyOrigin(nodePost({}), { allowed })).toEqual(BAD_ORIGIN)
    expect(verifyOrigin(post({ 'sec-fetch-site': 'same-origin' }), { allowed })).toEqual(BAD_ORIGIN)
    expect(verifyOrigin(post({}), { allowed, allowMissingOrigin: true })).toEqual(OK)
    expect(verifyOrigin(post({ 'sec-fetch-site': 'cross-site' }), { allowed, allowMissingOrigin: true })).toEqual(BAD_ORIGIN)
  })

  it('reads { method, headers } with a Headers object (Next.js headers() in a server action)', () => {
    const headers = new Headers({ host: 'app.example', origin: APP, 'x-forwarded-proto': 'https' })
    expect(verifyOrigin({ method: 'POST', headers }, { allowed })).toEqual(OK)
    expect(verifyOrigin({ method: 'POST', headers: new Headers({ origin: 'null' }) }, { allowed })).toEqual(BAD_ORIGIN)
  })

  it('rejects an allowed entry that is not a full origin, with a TypeError naming it', () => {
    for (const entry of ['app.example', '*', 'null', 'https://app.example/path', 'https://user@app.example', 'ftp://app.example', 'https://app.example?x']) {
      expect(() => verifyOrigin(post({}), { allowed: [entry] })).toThrow(new RegExp(`allowed: ${JSON.stringify(entry).replace(/[?*]/g, '\\$&')}`))
    }
  })
})

describe('verifyRequest on a Web Request', () => {
  async function setup() {
    const sessions = createSessions({ store: new MemoryStore() })
    const session = await sessions.get(new Request(`${APP}/`))
    return { session, token: csrfToken(session) }
  }

  it('checklist 40: passes with the token in x-csrf-token and a same-origin Origin; fails without', async () => {
    const { session, token } = await setup()
    expect(await verifyRequest(session, post({ origin: APP, 'x-csrf-token': token }))).toEqual(OK)
    expect(await verifyRequest(session, post({ origin: APP }))).toEqual({ ok: false, reason: 'missing-token' })
    expect(await verifyRequest(session, post({ origin: APP, 'x-csrf-token': 'nope' }))).toEqual({ ok: false, reason: 'invalid-token' })
    expect(await verifyRequest(session, new Request(`${APP}/`))).toEqual(OK)
  })

  it('checks the origin before the token', async () => {
    const { session, token } = await setup()
    expect(await verifyRequest(session, post({ origin: 'https://evil.example', 'x-csrf-token': token }))).toEqual(BAD_ORIGIN)
    expect(await verifyRequest(session, post({ origin: APP, 'sec-fetch-site': 'cross-site', 'x-csrf-token': token }))).toEqual(BAD_ORIGIN)
  })

  it('reads csrf_token from a urlencoded body through a clone, leaving the body to the app', async () => {
    const { session, token } = await setup()
    const request = new Request(`${APP}/submit`, {
      method: 'POST',
      headers: { origin: APP, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ title: 'hello', csrf_token: token }),
    })
    expect(await verifyRequest(session, request)).toEqual(OK)
    expect(request.bodyUsed).toBe(false)
    expect(Object.fromEntries(await request.formData())).toEqual({ title: 'hello', csrf_token: token })
  })

  it('reads csrf_token from a multipart body through a clone, leaving the body to the app', async () => {
    const { session, token } = await setup()
    const form = new FormData()
    form.set('file', new Blob(['x'.repeat(1000)]), 'a.txt')
    form.set('csrf_token', token)
    const request = new Request(`${APP}/upload`, { method: 'POST', headers: { origin: APP }, body: form })
    expect(await verifyRequest(session, request)).toEqual(OK)
    const body = await request.formData()
    expect(body.get('csrf_token')).toBe(token)
    expect(await (body.get('file') as File).text()).toHaveLength(1000)
  })

  it('does not read a body larger than maxBodySize, nor a JSON body, nor a body already read', async () => {
    const { session, token } = await setup()
    const big = () =>
      new Request(`${APP}/submit`, {
        method: 'POST',
        headers: { origin: APP, 'content-type': 'application/x-www-form-urlencoded' },
        body: `csrf_token=${token}&pad=${'x'.repeat(2000)}`,
      })
    expect(await verifyRequest(session, big(), { maxBodySize: 1000 })).toEqual({ ok: false, reason: 'missing-token' })
    expect(await verifyRequest(session, big())).toEqual(OK)
    const json = new Request(`${APP}/submit`, { method: 'POST', headers: { origin: APP, 'content-type': 'application/json' }, body: JSON.stringify({ csrf_token: token }) })
    expect(await verifyRequest(session, json)).toEqual({ ok: false, reason: 'missing-token' })
    const used = big()
    await used.text()
    expect(await verifyRequest(session, used)).toEqual({ ok: false, reason: 'missing-token' })
  })

  it('reads a streamed body without Content-Length up to maxBodySize', async () => {
    const { session, token } = await setup()
    const streamed = (size: number) => {
      const bytes = new TextEncoder().encode(`csrf_token=${token}&pad=${'y'.repeat(size)}`)
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 100) controller.enqueue(bytes.slice(i, i + 100))
          controller.close()
        },
      })
      return new Request(`${APP}/submit`, { method: 'POST', headers: { origin: APP, 'content-type': 'application/x-www-form-urlencoded' }, body, duplex: 'half' } as RequestInit)
    }
    expect(await verifyRequest(session, streamed(100), { maxBodySize: 1000 })).toEqual(OK)
    const tooBig = streamed(5000)
    expect(await verifyRequest(session, tooBig, { maxBodySize: 1000 })).toEqual({ ok: false, reason: 'missing-token' })
    expect(await tooBig.text()).toContain('csrf_token=') // the app's copy is intact
  })

  it('checklist 43: a token in the query string is ignored', async () => {
    const { session, token } = await setup()
    const url = `${APP}/submit?csrf_token=${token}&x-csrf-token=${token}`
    expect(await verifyRequest(session, post({ origin: APP }, url))).toEqual({ ok: false, reason: 'missing-token' })
    const form = new Request(url, { method: 'POST', headers: { origin: APP, 'content-type': 'application/x-www-form-urlencoded' }, body: 'title=x' })
    expect(await verifyRequest(session, form)).toEqual({ ok: false, reason: 'missing-token' })
  })

  it('checklist 41: with secrets, checks a signed token against session.id', async () => {
    const { session } = await setup()
    const other = await createSessions({ store: new MemoryStore() }).get(new Request(`${APP}/`))
    const mine = await createCsrfToken(SECRET, session.id)
    const theirs = await createCsrfToken(SECRET, other.id)
    expect(await verifyRequest(session, post({ origin: APP, 'x-csrf-token': mine }), { secrets: SECRET })).toEqual(OK)
    expect(await verifyRequest(session, post({ origin: APP, 'x-csrf-token': theirs }), { secrets: SECRET })).toEqual({ ok: false, reason: 'invalid-token' })
    expect(await verifyRequest(session, post({ origin: APP }), { secrets: SECRET })).toEqual({ ok: false, reason: 'missing-token' })
  })

  it('honours singleUse, and custom header and field names', async () => {
    const { session, token } = await setup()
    expect(await verifyRequest(session, post({ origin: APP, 'x-xsrf': token }), { header: 'X-XSRF', singleUse: true })).toEqual(OK)
    expect(await verifyRequest(session, post({ origin: APP, 'x-xsrf': token }), { header: 'X-XSRF' })).toEqual({ ok: false, reason: 'invalid-token' })
    const fresh = csrfToken(session)
    const form = new Request(`${APP}/`, { method: 'POST', headers: { origin: APP, 'content-type': 'application/x-www-form-urlencoded' }, body: `_csrf=${fresh}` })
    expect(await verifyRequest(session, form, { field: '_csrf' })).toEqual(OK)
  })

  it('reads a parsed req.body on a Node request, only for form content types', async () => {
    const { session, token } = await setup()
    const form = { 'content-type': 'application/x-www-form-urlencoded', origin: APP }
    expect(await verifyRequest(session, nodePost(form, { body: { csrf_token: token } }))).toEqual(OK)
    expect(await verifyRequest(session, nodePost(form, { body: { csrf_token: [token] } }))).toEqual({ ok: false, reason: 'missing-token' })
    expect(await verifyRequest(session, nodePost(form, { body: undefined }))).toEqual({ ok: false, reason: 'missing-token' })
    const json = { 'content-type': 'application/json', origin: APP }
    expect(await verifyRequest(session, nodePost(json, { body: { csrf_token: token } }))).toEqual({ ok: false, reason: 'missing-token' })
    expect(await verifyRequest(session, nodePost({ origin: APP }, { url: `/submit?csrf_token=${token}` }))).toEqual({ ok: false, reason: 'missing-token' })
  })
})

describe('Vary and the 403 answer', () => {
  it('checklist 47: csrfVary adds Origin and Sec-Fetch-Site once, keeping what is there', () => {
    expect(csrfVary()).toBe('Origin, Sec-Fetch-Site')
    expect(csrfVary(null)).toBe(CSRF_VARY)
    expect(csrfVary('Accept-Encoding')).toBe('Accept-Encoding, Origin, Sec-Fetch-Site')
    expect(csrfVary('origin,Accept')).toBe('origin, Accept, Sec-Fetch-Site')
    expect(csrfVary(['Accept', 'Sec-Fetch-Site'])).toBe('Accept, Sec-Fetch-Site, Origin')
    expect(csrfVary('*')).toBe('*')
    expect(csrfVary(csrfVary('Cookie'))).toBe('Cookie, Origin, Sec-Fetch-Site')
  })

  it('checklist 47: csrfForbidden is a 403 naming the reason, with Vary', async () => {
    const response = csrfForbidden({ ok: false, reason: 'invalid-origin' })
    expect(response.status).toBe(403)
    expect(response.headers.get('vary')).toBe('Origin, Sec-Fetch-Site')
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(await response.text()).toBe('Forbidden: CSRF check failed (invalid-origin)\n')
  })
})

describe('never throws', () => {
  const headerName = fc.constantFrom('origin', 'referer', 'sec-fetch-site', 'host', 'x-csrf-token', 'content-type', 'x-forwarded-host', 'x-forwarded-proto', 'Origin', '__proto__', 'constructor')
  const headerValue = fc.oneof(
    fc.string(),
    fc.constantFrom('null', 'https://app.example', 'cross-site', 'same-origin', 'same-site', 'none', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded'),
    fc.webUrl(),
    fc.array(fc.string(), { maxLength: 3 }),
    fc.anything(),
  )
  const nodeRequest = fc.record(
    {
      method: fc.oneof(fc.constantFrom('GET', 'POST', 'DELETE', 'options'), fc.string(), fc.anything()),
      url: fc.oneof(fc.string(), fc.webUrl(), fc.anything()),
      headers: fc.dictionary(headerName, headerValue),
      socket: fc.oneof(fc.constant(null), fc.record({ encrypted: fc.anything() })),
      body: fc.anything(),
    },
    { requiredKeys: ['headers'] },
  )

  it('verifyOrigin and verifyRequest answer a CsrfResult for arbitrary Node-shaped requests', async () => {
    const session = await createSessions({ store: new MemoryStore() }).get(new Request(`${APP}/`))
    csrfToken(session)
    const valid = (result: CsrfResult) => result.ok === true || ['missing-token', 'invalid-token', 'invalid-origin'].includes(result.reason)
    await fc.assert(
      fc.asyncProperty(nodeRequest, fc.boolean(), fc.boolean(), async (request, allowSameSite, allowMissingOrigin) => {
        const options = { allowed, allowSameSite, allowMissingOrigin, trustProxy: allowSameSite }
        expect(valid(verifyOrigin(request as NodeLikeRequest, options))).toBe(true)
        expect(valid(await verifyRequest(session, request as NodeLikeRequest, options))).toBe(true)
        expect(valid(await verifyRequest(session, request as NodeLikeRequest, { ...options, secrets: SECRET }))).toBe(true)
      }),
      { numRuns: 400 },
    )
    expect(verifyOrigin(null as never)).toEqual(BAD_ORIGIN)
    expect(await verifyRequest(session, 'POST /' as never)).toEqual(BAD_ORIGIN)
  })

  it('verifyRequest answers a CsrfResult for arbitrary Web Requests and bodies', async () => {
    const session = await createSessions({ store: new MemoryStore() }).get(new Request(`${APP}/`))
    const token = csrfToken(session)
    const webRequest = fc.record({
      headers: fc.dictionary(fc.constantFrom('origin', 'referer', 'sec-fetch-site', 'x-csrf-token', 'content-type'), fc.oneof(fc.string(), fc.constantFrom(APP, 'multipart/form-data; boundary=b', 'application/x-www-form-urlencoded'))),
      body: fc.oneof(fc.string(), fc.constant(`csrf_token=${token}`), fc.constant('--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\nx\r\n--b--'), fc.uint8Array()),
      path: fc.string(),
    })
    await fc.assert(
      fc.asyncProperty(webRequest, async ({ headers, body, path }) => {
        let request: Request
        try {
          request = new Request(`${APP}/${encodeURIComponent(path)}`, { method: 'POST', headers, body })
        } catch {
          return // the Request constructor refused the headers: nothing to check
        }
        const result = await verifyRequest(session, request, { allowed, maxBodySize: 2000 })
        expect(result.ok === true || ['missing-token', 'invalid-token', 'invalid-origin'].includes(result.reason)).toBe(true)
      }),
      { numRuns: 300 },
    )
  })
})

// Shared helpers for the core behaviour tests (not a test file itself).
import type { IncomingMessage } from 'node:http'
import { connect as netConnect } from 'node:net'
import { vi } from 'vitest'
import type { NodeRequest } from '../../src/core/frameworks.js'
import type { Session } from '../../src/core/session.js'
import type { Sessions } from '../../src/sessions.js'
import type { SessionChanges, SessionRecord, SessionStore, SessionSummary } from '../../src/core/types.js'
import { MemoryStore } from '../../src/stores/memory-store.js'
import { Jar } from '../helpers.js'

export type AnyData = Record<string, unknown>

/**
 * node:http's request typed as Tessera's NodeRequest. WORKAROUND for a type bug (see
 * test/types.test-d.ts): `NodeRequest.socket` is the weak type `{ encrypted?: boolean }`, which
 * `net.Socket` shares no property with, so `sessions.get(req, res)` does not compile with
 * node:http's own types. Remove once src/adapters/context.ts is fixed.
 */
export function nodeReq(req: IncomingMessage): NodeRequest {
  return req as unknown as NodeRequest
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** The Set-Cookie lines of `lines` that set cookie `name`. */
export function named(lines: readonly string[], name = 'sid'): string[] {
  return lines.filter((line) => line.startsWith(`${name}=`))
}

/** The value part of a Set-Cookie line. */
export function valueOf(line: string): string {
  const pair = line.split(';')[0]!
  return pair.slice(pair.indexOf('=') + 1)
}

/** The attribute part of a Set-Cookie line, as a lower-cased map (flags map to ''). */
export function attributes(line: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const part of line.split(';').slice(1)) {
    const eq = part.indexOf('=')
    if (eq === -1) out.set(part.trim().toLowerCase(), '')
    else out.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim())
  }
  return out
}

/** A MemoryStore whose every method is a vitest spy (calling through). */
export function spiedStore(store = new MemoryStore()) {
  return {
    store,
    get: vi.spyOn(store, 'get'),
    set: vi.spyOn(store, 'set'),
    patch: vi.spyOn(store, 'patch'),
    touch: vi.spyOn(store, 'touch'),
    destroy: vi.spyOn(store, 'destroy'),
    /** Forgets the calls so far (the spies keep calling through). */
    reset() {
      for (const spy of [this.get, this.set, this.patch, this.touch, this.destroy]) spy.mockClear()
    },
    writes() {
      return this.set.mock.calls.length + this.patch.mock.calls.length + this.touch.mock.calls.length + this.destroy.mock.calls.length
    },
  }
}

/** A MemoryStore whose writes take `ms` before they land: shows whether a response waited for them. */
export class SlowStore implements SessionStore {
  constructor(
    readonly inner = new MemoryStore(),
    readonly ms = 150,
  ) {}
  get(id: string) {
    return this.inner.get(id)
  }
  async set(id: string, record: SessionRecord) {
    await sleep(this.ms)
    return this.inner.set(id, record)
  }
  async patch(id: string, changes: SessionChanges, expiresAt: number) {
    await sleep(this.ms)
    return this.inner.patch(id, changes, expiresAt)
  }
  async touch(id: string, expiresAt: number) {
    await sleep(this.ms)
    return this.inner.touch(id, expiresAt)
  }
  async destroy(id: string) {
    await sleep(this.ms)
    return this.inner.destroy(id)
  }
}

export type Method = 'get' | 'set' | 'patch' | 'touch' | 'destroy' | 'listUser' | 'revokeUser'

/** A MemoryStore that fails on demand: `fail.set = 'throw'` throws synchronously, `'reject'` rejects. Answers synchronously otherwise, as MemoryStore does. */
export class FlakyStore implements SessionStore {
  readonly inner = new MemoryStore()
  readonly fail: Partial<Record<Method, 'throw' | 'reject'>> = {}
  readonly errors: Error[] = []

  #run<T>(method: Method, call: () => T | Promise<T>): T | Promise<T> {
    const mode = this.fail[method]
    if (mode) {
      const error = new Error(`${method} is down`)
      this.errors.push(error)
      if (mode === 'throw') throw error
      return Promise.reject(error)
    }
    return call()
  }
  get(id: string) {
    return this.#run('get', () => this.inner.get(id))
  }
  set(id: string, record: SessionRecord) {
    return this.#run('set', () => this.inner.set(id, record))
  }
  patch(id: string, changes: SessionChanges, expiresAt: number) {
    return this.#run('patch', () => this.inner.patch(id, changes, expiresAt))
  }
  touch(id: string, expiresAt: number) {
    return this.#run('touch', () => this.inner.touch(id, expiresAt))
  }
  destroy(id: string) {
    return this.#run('destroy', () => this.inner.destroy(id))
  }
  listUser(userId: string) {
    return this.#run('listUser', () => this.inner.listUser(userId))
  }
  revokeUser(userId: string, except?: string) {
    return this.#run('revokeUser', () => this.inner.revokeUser(userId, except))
  }
  recover() {
    for (const key of Object.keys(this.fail)) delete this.fail[key as Method]
  }
}

/** A Web request carrying `jar`'s cookies (or a literal Cookie header). */
export function webRequest(cookie?: Jar | string, init: { url?: string; headers?: Record<string, string> } = {}): Request {
  const headers = new Headers(init.headers)
  const header = typeof cookie === 'string' ? cookie : cookie?.header
  if (header) headers.set('cookie', header)
  return new Request(init.url ?? 'http://app.test/', { headers })
}

/**
 * One Web round trip: load the jar's session, run `body`, commit, and hand the response's
 * Set-Cookie lines back to the jar.
 */
export async function webRound<T>(
  sessions: Sessions<AnyData>,
  jar: Jar,
  body: (session: Session<AnyData>) => T | Promise<T>,
  init: { url?: string; headers?: Record<string, string> } = {},
): Promise<{ session: Session<AnyData>; result: T; setCookies: string[]; committed: string[]; response: Response }> {
  const response = new Response('ok')
  const session = await sessions.get(webRequest(jar, init), response)
  const result = await body(session)
  const committed = await session.commit()
  const setCookies = response.headers.getSetCookie()
  jar.take(setCookies)
  return { session, result, setCookies, committed, response }
}

/** Sends raw bytes as an HTTP/1.1 request (to repeat a header, which fetch cannot). */
export function rawRequest(url: string, head: string): Promise<{ status: number; headers: string[]; text: string }> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = netConnect(Number(port), hostname, () => socket.end(head))
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', reject)
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('latin1')
      const [headText = ''] = text.split('\r\n\r\n')
      const [statusLine = '', ...headers] = headText.split('\r\n')
      resolve({ status: Number(statusLine.split(' ')[1]), headers, text })
    })
  })
}

/** What Next.js throws from `cookies().set()` in a server component. */
function readOnlyCookies(): never {
  throw new Error('Cookies can only be modified in a Server Action or Route Handler.')
}

/**
 * Next.js `cookies()` in miniature: a Map with get/getAll/set/delete.
 * - `'writable'`: a route handler or server action.
 * - `'server-component'`: as Next.js seals it, `set` and `delete` are one and the same throwing function.
 * - `'read-only-unrecognised'`: distinct `set` and `delete` that both throw (a store Tessera cannot recognise).
 */
export class FakeCookieStore {
  readonly jar = new Map<string, { name: string; value: string }>()
  readonly writes: { name: string; value: string; options: Record<string, unknown> | undefined }[] = []

  constructor(
    initial: Iterable<[string, string]> = [],
    readonly mode: 'writable' | 'server-component' | 'read-only-unrecognised' = 'writable',
  ) {
    for (const [name, value] of initial) this.jar.set(name, { name, value })
    if (mode === 'server-component') {
      this.set = readOnlyCookies
      this.delete = readOnlyCookies
    } else if (mode === 'read-only-unrecognised') {
      this.set = () => readOnlyCookies()
      this.delete = () => readOnlyCookies()
    }
  }
  get(name: string) {
    return this.jar.get(name)
  }
  getAll() {
    return [...this.jar.values()]
  }
  set(name: string, value: string, options?: Record<string, unknown>): unknown {
    this.writes.push({ name, value, options })
    if (options?.maxAge === 0) this.jar.delete(name)
    else this.jar.set(name, { name, value })
    return this
  }
  delete(name: string): unknown {
    this.jar.delete(name)
    return this
  }
  /** The cookies as [name, value] pairs, to build another store from. */
  pairs(): [string, string][] {
    return [...this.jar.values()].map(({ name, value }) => [name, value])
  }
}

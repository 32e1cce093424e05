// UpstashStore through the real @upstash/redis client, over HTTP to a local server that speaks the
// Upstash REST protocol (test/harness/upstash-rest.ts) in front of a real redis-server.
import { createHash } from 'node:crypto'
import { builtinModules } from 'node:module'
import { fileURLToPath } from 'node:url'
import vm from 'node:vm'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis as IoRedis } from 'ioredis'
import { Redis } from '@upstash/redis'
import { Redis as CloudflareRedis } from '@upstash/redis/cloudflare'
import { startRedis, type RedisServer } from '../harness/redis.js'
import { startUpstashRest, type UpstashRest } from '../harness/upstash-rest.js'
import { UpstashStore } from '../../src/upstash.js'
import { RedisStore } from '../../src/redis.js'
import { SessionError } from '../../src/index.js'
import { testSessionStore } from '../../src/testing.js'
import { Jar } from '../helpers.js'
import { expectNoLostUpdates, serveSessions, uniquePrefix } from './support.js'

let server: RedisServer
let rest: UpstashRest
let io: IoRedis
/** The client as most apps create it: base64 responses, auto-pipelining and JSON deserialization on, default retries. */
let client: Redis

beforeAll(async () => {
  server = await startRedis()
  rest = await startUpstashRest({ redisUrl: server.url })
  io = new IoRedis(server.url)
  client = new Redis({ url: rest.url, token: rest.token, enableTelemetry: false })
}, 60_000)

afterAll(async () => {
  io?.disconnect()
  await rest?.close()
  await server?.stop()
}, 60_000)

testSessionStore('UpstashStore', () => new UpstashStore({ client, prefix: uniquePrefix() }), { describe, it, capabilities: ['touch', 'patch', 'update', 'rotate', 'userIndex'] })
testSessionStore(
  'UpstashStore on a client without base64 responses or auto-pipelining',
  () =>
    new UpstashStore({
      client: new Redis({ url: rest.url, token: rest.token, responseEncoding: false, enableAutoPipelining: false, enableTelemetry: false }),
      prefix: uniquePrefix(),
    }),
  { describe, it, capabilities: ['touch', 'patch', 'update', 'rotate', 'userIndex'] },
)

const minute = () => ({ createdAt: Date.now(), expiresAt: Date.now() + 60_000 })

describe('UpstashStore', () => {
  it('keeps the RedisStore layout: one hash per session, a field per key, the user index; either store reads the other’s sessions', async () => {
    const prefix = uniquePrefix()
    const store = new UpstashStore({ client, prefix })
    const now = Date.now()
    await store.set('layoutsession00001', { data: { a: { deep: [1] }, b: 'x' }, createdAt: now, expiresAt: now + 60_000, userId: 'ada' })
    expect(await io.hgetall(`${prefix}{layoutsession00001}`)).toEqual({
      '\u0000c': String(now),
      '\u0000e': String(now + 60_000),
      '\u0000u': 'ada',
      a: '{"deep":[1]}',
      b: '"x"',
    })
    expect(await io.pexpiretime(`${prefix}{layoutsession00001}`)).toBe(now + 60_000)
    expect(await io.zscore(`${prefix}user:{ada}`, 'layoutsession00001')).toBe(String(now + 60_000))

    const redisStore = new RedisStore({ client: io, prefix })
    expect(await redisStore.get('layoutsession00001')).toEqual({ data: { a: { deep: [1] }, b: 'x' }, createdAt: now, expiresAt: now + 60_000, userId: 'ada' })
    await redisStore.patch('layoutsession00001', { set: { b: 'y' }, unset: ['a'] }, now + 120_000)
    expect(await store.get('layoutsession00001')).toEqual({ data: { b: 'y' }, createdAt: now, expiresAt: now + 120_000, userId: 'ada' })
  })

  it('reads values raw whatever the client deserializes: keys and strings that look like JSON stay as written', async () => {
    const store = new UpstashStore({ client, prefix: uniquePrefix() })
    const data = JSON.parse('{"\\"quoted\\"":"\\"x\\"","123":"123","true":"null","__proto__":{"polluted":true},"\\u0000e":"not meta","emoji":"✓ 🎉"}') as Record<string, unknown>
    await store.set('rawvalues00000001', { data, ...minute() })
    const found = await store.get('rawvalues00000001')
    expect(found!.data).toEqual(data)
    expect(Object.keys(found!.data).sort()).toEqual(Object.keys(data).sort())
    expect(Object.getPrototypeOf(found!.data)).toBe(Object.prototype)
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined()
  })

  it('takes one HTTP request per read and per write (set, update, patch, touch, destroy), index changes included', async () => {
    const store = new UpstashStore({ client, prefix: uniquePrefix() })
    const id = 'countedsession0001'
    // Each script once, so the server knows them all (the first run of a script on a server is an EVALSHA and an EVAL).
    await store.set('warmupsession00001', { data: { a: 1 }, ...minute(), userId: 'warm' })
    await store.update('warmupsession00001', { data: { a: 2 }, ...minute(), userId: 'warm' })
    await store.patch('warmupsession00001', { set: { b: 1 }, unset: [] }, Date.now() + 60_000)
    await store.touch('warmupsession00001', Date.now() + 90_000)
    await store.destroy('warmupsession00001')

    const cost = async (operation: () => Promise<unknown>): Promise<string[][]> => {
      rest.reset()
      await operation()
      return rest.log.map((entry) => entry.commands)
    }
    expect(await cost(() => store.set(id, { data: { n: 0 }, ...minute(), userId: 'counted' }))).toEqual([['EVALSHA']])
    expect(await cost(() => store.get(id))).toEqual([['HGETALL']])
    expect(await cost(() => store.patch(id, { set: { n: 1 }, unset: [] }, Date.now() + 60_000))).toEqual([['EVALSHA']])
    expect(await cost(() => store.touch(id, Date.now() + 120_000))).toEqual([['EVALSHA']])
    expect(await cost(() => store.update(id, { data: { n: 2 }, ...minute(), userId: 'counted' }))).toEqual([['EVALSHA']])
    expect(await cost(() => store.destroy(id))).toEqual([['EVALSHA']])
    expect(await io.exists(store.userKey('counted'))).toBe(0)
  })

  it('costs one request per read and one per write behind createSessions over HTTP', async () => {
    const store = new UpstashStore({ client, prefix: uniquePrefix() })
    const { app } = await serveSessions({ store })
    try {
      const jar = new Jar()
      expect((await jar.fetch(`${app.url}/set?k=warm&v=1`)).status).toBe(200) // new session: one write
      expect((await jar.fetch(`${app.url}/set?k=warm&v=2`)).status).toBe(200) // the patch script, once
      rest.reset()
      expect((await jar.fetch(`${app.url}/read`)).status).toBe(200)
      expect(rest.requests).toBe(1)
      rest.reset()
      expect((await jar.fetch(`${app.url}/set?k=theme&v=dark`)).status).toBe(200)
      expect(rest.log.map((entry) => entry.commands)).toEqual([['HGETALL'], ['EVALSHA']])
    } finally {
      await app.close()
    }
  })

  it('sends a script the server does not know (after SCRIPT FLUSH) once more as EVAL, and it still applies', async () => {
    const store = new UpstashStore({ client, prefix: uniquePrefix() })
    await store.set('flushedscripts0001', { data: { n: 1 }, ...minute() })
    await io.script('FLUSH')
    rest.reset()
    await store.patch('flushedscripts0001', { set: { n: 2 }, unset: [] }, Date.now() + 60_000)
    expect(rest.log.map((entry) => entry.commands)).toEqual([['EVALSHA'], ['EVAL']])
    expect((await store.get('flushedscripts0001'))?.data).toEqual({ n: 2 })
  })

  it('lists a user’s sessions in two requests and revokes them in three, reading only that user’s index', async () => {
    const store = new UpstashStore({ client, prefix: uniquePrefix() })
    for (let i = 0; i < 5; i++) await store.set(`listedsession${i}xxxx`, { data: {}, ...minute(), userId: 'linus' })
    await store.set('othersession0xxxxx', { data: {}, ...minute(), userId: 'other' })
    rest.reset()
    expect((await store.listUser('linus')).map((s) => s.id).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `listedsession${i}xxxx`))
    expect(rest.log.map((entry) => entry.path)).toEqual(['/', '/pipeline'])
    await store.revokeUser('other') // the revoke script's first run on this server: it is known from here on
    rest.reset()
    expect(await store.revokeUser('linus', 'listedsession0xxxx')).toBe(4)
    expect(rest.log.map((entry) => entry.path)).toEqual(['/', '/pipeline', '/'])
    expect(rest.log.flatMap((entry) => entry.commands)).not.toContain('SCAN')
    expect(await store.get('listedsession0xxxx')).toBeDefined()
    expect(await store.get('listedsession1xxxx')).toBeUndefined()
  })

  it('never puts session data in its errors (the client quotes the whole command in its own)', async () => {
    const store = new UpstashStore({ client: new Redis({ url: rest.url, token: 'wrong-token', enableTelemetry: false, retry: false }), prefix: uniquePrefix() })
    const error = await store.set('secretsession00001', { data: { apiKey: 'sk-live-SECRET' }, ...minute() }).then(() => new Error('no error'), (e: unknown) => e as Error)
    expect(error).toBeInstanceOf(Error)
    expect(error.message).toMatch(/Unauthorized/)
    let text = ''
    for (let e: unknown = error; e instanceof Error; e = e.cause) text += `${e.message}\n`
    expect(text).not.toContain('SECRET')
  })

  it('works with the client of @upstash/redis/cloudflare (the Workers build)', async () => {
    const store = new UpstashStore({ client: new CloudflareRedis({ url: rest.url, token: rest.token, enableTelemetry: false }), prefix: uniquePrefix() })
    await store.set('workersclient00001', { data: { a: 1 }, ...minute(), userId: 'cf' })
    await store.patch('workersclient00001', { set: { b: 2 }, unset: [] }, Date.now() + 60_000)
    expect((await store.get('workersclient00001'))?.data).toEqual({ a: 1, b: 2 })
    expect((await store.listUser('cf')).map((s) => s.id)).toEqual(['workersclient00001'])
  })

  it('keeps a body that is not JSON out of its errors too', async () => {
    const { createServer } = await import('node:http')
    const broken = createServer((_req, res) => res.end('<html>{"apiKey":"sk-live-SECRET"</html>'))
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve))
    const { port } = broken.address() as { port: number }
    try {
      const store = new UpstashStore({ client: new Redis({ url: `http://127.0.0.1:${port}`, token: 't', enableTelemetry: false }) })
      const error = await store.get('brokenbody0000001').then(() => new Error('no error'), (e: unknown) => e as Error)
      expect(error.message).toMatch(/not JSON/)
      let text = ''
      for (let e: unknown = error; e instanceof Error; e = e.cause) text += `${e.message}\n`
      expect(text).not.toContain('SECRET')
    } finally {
      broken.closeAllConnections()
      broken.close()
    }
  })

  it('rejects bad options with a TypeError naming the option', () => {
    expect(() => new UpstashStore({ client: {} as never })).toThrow(/client/)
    expect(() => new UpstashStore({ client: new IoRedis({ lazyConnect: true }) as never })).toThrow(/client/)
    expect(() => new UpstashStore({ client, prefix: 'a{b}' })).toThrow(/prefix/)
    expect(() => new UpstashStore({ client, operationTimeout: 0 })).toThrow(/operationTimeout/)
  })

  it('bundles for the Edge runtime and Workers: no Node built-in in its module graph', async () => {
    const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]))
    const found: string[] = []
    await build({
      entryPoints: [fileURLToPath(new URL('../../src/upstash.ts', import.meta.url))],
      bundle: true,
      platform: 'neutral',
      write: false,
      logLevel: 'silent',
      plugins: [
        {
          name: 'record-builtins',
          setup(b) {
            b.onResolve({ filter: /.*/ }, (args) => {
              if (!builtins.has(args.path)) return undefined
              found.push(args.path)
              return { path: args.path, external: true }
            })
          },
        },
      ],
    })
    expect(found).toEqual([])
  })
})

describe('UpstashStore with Web globals only (Edge runtime, Workers)', () => {
  it('creates, changes, reloads and destroys a session, bundled with the Workers client and run in a bare V8 context', async () => {
    const src = fileURLToPath(new URL('../../src/', import.meta.url))
    const result = await build({
      stdin: {
        contents: `
          export { createSessions } from './index.ts'
          export { UpstashStore } from './upstash.ts'
          export { Redis } from '@upstash/redis/cloudflare'`,
        resolveDir: src,
        loader: 'ts',
      },
      bundle: true,
      platform: 'browser',
      format: 'iife',
      globalName: 'bundle',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
    })
    const context = vm.createContext({
      ...{ fetch, Request, Response, Headers, URL, AbortController, AbortSignal, EventTarget, Event, Blob, TextEncoder, TextDecoder, atob, btoa },
      ...{ crypto: globalThis.crypto, structuredClone, setTimeout, clearTimeout, setInterval, clearInterval, queueMicrotask, console },
    })
    vm.runInContext(result.outputFiles[0]!.text, context)
    expect(vm.runInContext('typeof process + typeof Buffer + typeof require', context)).toBe('undefinedundefinedundefined')
    const prefix = uniquePrefix('edge')
    const run = vm.runInContext(
      `(async () => {
        const client = new bundle.Redis({ url: ${JSON.stringify(rest.url)}, token: ${JSON.stringify(rest.token)}, enableTelemetry: false })
        const store = new bundle.UpstashStore({ client, prefix: ${JSON.stringify(prefix)} })
        const sessions = bundle.createSessions({ secrets: 'an edge secret of at least thirty-two chars', store })
        const first = await sessions.get(new Request('https://edge.example/'))
        first.data.views = 1
        const [setCookie] = await first.commit()
        const cookie = setCookie.split(';')[0]
        const second = await sessions.get(new Request('https://edge.example/', { headers: { cookie } }))
        second.data.views += 1
        await second.commit()
        const third = await sessions.get(new Request('https://edge.example/', { headers: { cookie } }))
        const views = third.data.views
        await third.destroy()
        const gone = await sessions.read(new Request('https://edge.example/', { headers: { cookie } }))
        return { views, gone }
      })()`,
      context,
    ) as Promise<{ views: number; gone: unknown }>
    const { views, gone } = await run
    expect(views).toBe(2)
    expect(gone).toBeUndefined()
    expect(await io.keys(`${prefix}*`)).toEqual([])
  })
})

describe('UpstashStore behind createSessions over HTTP', () => {
  it('20 concurrent requests with one cookie, each setting a key, keep all 20', async () => {
    await expectNoLostUpdates({ store: new UpstashStore({ client, prefix: uniquePrefix() }) })
  })

  it('with hashIds, no key in Redis contains a live session id', async () => {
    const prefix = uniquePrefix()
    const { app } = await serveSessions({ store: new UpstashStore({ client, prefix }), hashIds: true })
    try {
      const jar = new Jar()
      const { id } = (await (await jar.fetch(`${app.url}/set?k=user&v=ada`)).json()) as { id: string }
      expect(jar.header).toContain(id)
      const keys = await io.keys(`${prefix}*`)
      expect(keys.length).toBeGreaterThan(0)
      for (const key of keys) expect(key).not.toContain(id)
      expect(keys).toContain(`${prefix}{${createHash('sha256').update(id).digest('base64url')}}`)
      expect(((await (await jar.fetch(`${app.url}/read`)).json()) as { data: unknown }).data).toEqual({ user: 'ada' })
    } finally {
      await app.close()
    }
  })

  it('answers STORE_ERROR while the REST server is down, and recovers when it is back', async () => {
    // Few, fast retries so the outage shows within the test; operationTimeout bounds the rest.
    const outageClient = new Redis({ url: rest.url, token: rest.token, enableTelemetry: false, retry: { retries: 2, backoff: () => 20 } })
    const store = new UpstashStore({ client: outageClient, prefix: uniquePrefix('outage'), operationTimeout: 1 })
    const { app, sessions } = await serveSessions({ store })
    try {
      const jar = new Jar()
      expect((await jar.fetch(`${app.url}/set?k=before&v=1`)).status).toBe(200)

      await rest.stop()
      const down = await jar.fetch(`${app.url}/read`)
      expect(down.status).toBe(500)
      expect(((await down.json()) as { error: string }).error).toBe('STORE_ERROR')
      const failed = await sessions.get(new Request(app.url, { headers: { cookie: jar.header } })).catch((e: unknown) => e)
      expect(failed).toBeInstanceOf(SessionError)
      expect((failed as SessionError).code).toBe('STORE_ERROR')
      expect((failed as SessionError).cause).toBeInstanceOf(Error)

      await rest.start()
      const up = await jar.fetch(`${app.url}/set?k=after&v=2`)
      expect(up.status).toBe(200)
      expect(((await up.json()) as { data: unknown }).data).toEqual({ before: '1', after: '2' })
    } finally {
      if (!rest.listening) await rest.start()
      await app.close()
    }
  })

  it('gives up after operationTimeout when the server accepts but never answers', async () => {
    const { createServer } = await import('node:http')
    const silent = createServer(() => {}) // takes the request, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const { port } = silent.address() as { port: number }
    try {
      const store = new UpstashStore({ client: new Redis({ url: `http://127.0.0.1:${port}`, token: 't', enableTelemetry: false }), operationTimeout: 0.3 })
      // Only the store's own timer produces this message: the server never answers.
      await expect(store.get('silentsession00001')).rejects.toThrow(/operationTimeout/)
    } finally {
      silent.closeAllConnections()
      silent.close()
    }
  })
})

// Runs beside the example Worker in workerd, bound to the same KV namespace, for the tests only:
// lists what KV holds, and runs KVStore's methods inside workerd on the real binding (the
// conformance suite drives it over HTTP from the test process).
import { KVStore } from '../../src/cloudflare.js'

interface KVListed {
  keys: { name: string; expiration?: number }[]
}
interface Env {
  SESSIONS: KVNamespaceLike & { list(options?: { prefix?: string }): Promise<KVListed> }
}
type KVNamespaceLike = ConstructorParameters<typeof KVStore>[0]['namespace']

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url)
    const store = new KVStore({ namespace: env.SESSIONS, prefix: url.searchParams.get('prefix') ?? 'tessera:' })
    if (url.pathname === '/__probe/keys') {
      const { keys } = await env.SESSIONS.list()
      return Response.json(keys.map(({ name, expiration }) => ({ name, expiration: expiration ?? null })))
    }
    if (url.pathname === '/__probe/methods') {
      return Response.json(Object.getOwnPropertyNames(KVStore.prototype).filter((name) => name !== 'constructor'))
    }
    const method = url.pathname.match(/^\/__probe\/store\/(get|set|destroy)$/)?.[1] as 'get' | 'set' | 'destroy' | undefined
    if (method && request.method === 'POST') {
      const args = (await request.json()) as [string, never]
      try {
        const result = await store[method](...args)
        return Response.json({ result: result ?? null })
      } catch (error) {
        return Response.json({ error: String(error) }, { status: 500 })
      }
    }
    return new Response('Not found\n', { status: 404 })
  },
}

/**
 * Cloudflare Workers: sessions in a Workers KV namespace. Web APIs only; nothing is imported from
 * `cloudflare:*` or `@cloudflare/workers-types` (the binding is typed by shape).
 *
 * @example
 * // wrangler.toml: [[kv_namespaces]] binding = "SESSIONS", id = "…"
 * import { createSessions, type Sessions } from 'tessera'
 * import { withSession } from 'tessera/web'
 * import { KVStore } from 'tessera/cloudflare'
 *
 * interface Env { SESSIONS: KVNamespace; SESSION_SECRET: string }
 * let sessions: Sessions<{ views?: number }> | undefined // one per isolate, made on its first request
 *
 * export default {
 *   fetch(request: Request, env: Env) {
 *     sessions ??= createSessions({ store: new KVStore({ namespace: env.SESSIONS }), secrets: env.SESSION_SECRET })
 *     return withSession(sessions, async (request, session) => {
 *       session.data.views = (session.data.views ?? 0) + 1
 *       return new Response(`views: ${session.data.views}`)
 *     })(request)
 *   },
 * }
 *
 * @module
 */
export { KVStore, type KVStoreOptions, type KVNamespaceLike } from './stores/kv-store.js'

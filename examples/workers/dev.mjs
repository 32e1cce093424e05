#!/usr/bin/env node
// Runs the example Worker locally in workerd (the runtime of Cloudflare Workers), through
// Miniflare, with a local KV namespace. Needs Node 22 or later (Miniflare 4 does).
//
//   node examples/workers/dev.mjs            sessions in KV
//   node examples/workers/dev.mjs cookie     sessions sealed in the cookie
//
// The Worker is bundled with esbuild straight from this repository's src/ (an app would import
// `tessera` from node_modules and deploy with `wrangler deploy`, which bundles the same way).
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'

const root = fileURLToPath(new URL('../../', import.meta.url))
const COMPATIBILITY_DATE = '2025-09-01'

/** `tessera` and `tessera/<entry>` from src/<entry>.ts, as the package's exports map them from dist/. */
const tesseraFromSource = {
  name: 'tessera-from-source',
  setup(b) {
    b.onResolve({ filter: /^tessera(\/.+)?$/ }, (args) => {
      const entry = args.path === 'tessera' ? 'index' : args.path.slice('tessera/'.length)
      return { path: `${root}src/${entry}.ts` }
    })
  },
}

/** One ES module for workerd: everything inlined, Web APIs only (no Node built-ins, no nodejs_compat). */
export async function bundle(entry) {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    write: false,
    logLevel: 'silent',
    plugins: [tesseraFromSource],
  })
  return result.outputFiles[0].text
}

/**
 * Starts the example in workerd. `store`: 'kv' or 'cookie'. `workers`: more Workers to run beside
 * it in the same runtime (each with `routes`), sharing its KV namespace. Resolves once it listens.
 */
export async function start({ store = 'kv', port = 0, workers = [] } = {}) {
  const mf = new Miniflare({
    host: '127.0.0.1',
    port,
    workers: [
      {
        name: 'tessera-example',
        modules: true,
        script: await bundle(`${root}examples/workers/src/worker.ts`),
        compatibilityDate: COMPATIBILITY_DATE,
        kvNamespaces: { SESSIONS: 'sessions' },
        bindings: { SESSION_STORE: store, SESSION_SECRET: 'example-secret-of-at-least-32-characters!' },
      },
      ...workers.map((worker) => ({ compatibilityDate: COMPATIBILITY_DATE, kvNamespaces: { SESSIONS: 'sessions' }, ...worker })),
    ],
  })
  const url = await mf.ready
  return { url: url.href, mf }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const store = process.argv[2] ?? 'kv'
  if (store !== 'kv' && store !== 'cookie') throw new TypeError(`store must be kv or cookie, got ${store}`)
  const { url, mf } = await start({ store, port: Number(process.env.PORT ?? 8787) })
  console.log(`Tessera example (${store} store) in workerd on ${url}form`)
  const stop = () => mf.dispose().then(() => process.exit(0))
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

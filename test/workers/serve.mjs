// Child process of workers.test.ts, on Node 22+ (Miniflare 4 needs it): starts the example Worker
// in workerd twice, with the KV store (and the probe Worker beside it) and with the cookie store,
// prints their URLs as one JSON line, and stops both when its stdin closes (the test is done, or
// its process died).
import { fileURLToPath } from 'node:url'
import { bundle, start } from '../../examples/workers/dev.mjs'

const probe = {
  name: 'probe',
  modules: true,
  script: await bundle(fileURLToPath(new URL('probe-worker.ts', import.meta.url))),
  routes: ['*/__probe/*'],
}
const [kv, cookie] = await Promise.all([start({ store: 'kv', workers: [probe] }), start({ store: 'cookie' })])
process.stdout.write(`${JSON.stringify({ kv: kv.url, cookie: cookie.url })}\n`)

process.stdin.resume()
process.stdin.on('end', async () => {
  await Promise.allSettled([kv.mf.dispose(), cookie.mf.dispose()])
  process.exit(0)
})

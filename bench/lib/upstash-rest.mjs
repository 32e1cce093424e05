// The local Upstash REST server the Upstash scenarios talk to: the test harness itself
// (test/harness/upstash-rest.ts, transpiled once with esbuild into node_modules/.cache), run in a
// process of its own in front of the bench's redis-server, like a service. Its CPU counts as
// service time (+svc), and it counts the HTTP requests it receives, so the bench reports the
// round trips per request of each Upstash scenario.
//
// Imported: startUpstashRest(redisUrl). Run as a script (the child): starts the harness and
// answers { count } messages over IPC with the number of requests so far.
import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { track } from './services.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const HARNESS = path.join(ROOT, 'test/harness/upstash-rest.ts')
// Inside the repository, so its `ioredis` import resolves from node_modules.
const BUILT = path.join(ROOT, 'node_modules/.cache/tessera-bench/upstash-rest.mjs')

async function transpile() {
  const { transform } = await import('esbuild')
  const { code } = await transform(readFileSync(HARNESS, 'utf8'), { loader: 'ts', format: 'esm', target: 'node20' })
  mkdirSync(path.dirname(BUILT), { recursive: true })
  writeFileSync(BUILT, code)
}

/**
 * Starts the REST server process in front of `redisUrl`.
 * @returns {Promise<{ url: string, token: string, pid: number, requests(): Promise<number>, stop(): Promise<void> }>}
 */
export async function startUpstashRest(redisUrl) {
  await transpile()
  const child = track(
    spawn(process.execPath, [fileURLToPath(import.meta.url)], {
      cwd: ROOT,
      env: { ...process.env, REDIS_URL: redisUrl, NODE_ENV: 'production' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  )
  const first = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the Upstash REST server did not start within 30 s')), 30_000)
    child.once('message', (message) => {
      clearTimeout(timer)
      resolve(message)
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`the Upstash REST server exited (${signal ?? code}) before listening`))
    })
  })
  let asked = 0
  const pending = new Map()
  child.on('message', (message) => {
    pending.get(message.reply)?.(message.requests)
    pending.delete(message.reply)
  })
  return {
    url: first.url,
    token: first.token,
    pid: child.pid,
    requests() {
      const id = ++asked
      return new Promise((resolve) => {
        pending.set(id, resolve)
        child.send({ count: id })
      })
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const gone = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 3000))])
      child.kill('SIGKILL')
    },
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { startUpstashRest: startHarness } = await import(pathToFileURL(BUILT).href)
  const rest = await startHarness({ redisUrl: process.env.REDIS_URL, log: false })
  process.on('message', (message) => process.send({ reply: message.count, requests: rest.requests }))
  process.once('SIGTERM', () => rest.close().finally(() => process.exit(0)))
  process.send({ url: rest.url, token: rest.token })
}

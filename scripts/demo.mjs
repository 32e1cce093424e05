#!/usr/bin/env node
// `npm run demo`: builds the library, builds the Next.js demo app (examples/next-app) and serves it
// with `next start` on http://localhost:3000 (PORT overrides). Ctrl+C stops it.
//   SESSION_SECRET   the signing secret (a development-only one is used, with a warning, when unset)
//   SESSION_STORE    redis://... or postgres://... for a real store (default: in-process memory)
import { spawn, spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

const root = resolve(import.meta.dirname, '..')
const app = resolve(root, 'examples/next-app')
const next = resolve(root, 'node_modules/next/dist/bin/next')
const port = process.env.PORT ?? '3000'
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: process.env.NEXT_TELEMETRY_DISABLED ?? '1' }

function step(title, command, args, cwd) {
  console.log(`\n> ${title}`)
  const result = spawnSync(command, args, { cwd, env, stdio: 'inherit' })
  if (result.status !== 0) {
    console.error(`demo: ${title} failed${result.error ? `: ${result.error.message}` : ''}`)
    process.exit(result.status ?? 1)
  }
}

step('npm run build (the tessera library)', 'npm', ['run', 'build'], root)
step('next build (examples/next-app)', process.execPath, [next, 'build'], app)

console.log(`\n> next start -p ${port}`)
const server = spawn(process.execPath, [next, 'start', '-p', port], { cwd: app, env, stdio: 'inherit' })
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.kill(signal))
server.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)))

const url = `http://localhost:${port}`
for (let i = 0; i < 100 && server.exitCode === null; i++) {
  try {
    await fetch(url, { redirect: 'manual' })
    console.log(`\nTessera demo: ${url}  (Ctrl+C to stop)\n`)
    break
  } catch {
    await sleep(200)
  }
}

#!/usr/bin/env node
// CPU profile of one bench server under load:
//   node bench/profile.mjs [scenario = tessera-memory] [read|modify|both = both]
// Starts the server with `node --cpu-prof` (a fresh process per path, so each profile holds one
// path), loads it like the bench does (warm-up, then BENCH_SECONDS, default 5), stops it, and
// prints the top self-time functions and the self time per code area. Profiles are kept in
// bench/profiles/ (open them in Chrome DevTools → Performance, or VS Code).
import { spawn } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import readline from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { makeJars, runLoad } from './lib/load.mjs'
import { SCENARIOS } from './lib/scenarios.mjs'
import { installCleanup, startPostgres, startRedis, track } from './lib/services.mjs'

const BENCH = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.dirname(BENCH)
const name = process.argv[2] ?? 'tessera-memory'
const which = process.argv[3] ?? 'both'
const seconds = Number(process.env.BENCH_SECONDS ?? 5)
const top = Number(process.env.PROFILE_TOP ?? 25)
const sc = SCENARIOS.find((s) => s.name === name)
if (!sc) throw new TypeError(`unknown scenario ${name}; one of ${SCENARIOS.map((s) => s.name).join(', ')}`)

/** Where a frame's code lives, for the per-area totals. */
function area(url, fn) {
  if (!url) return fn === '(garbage collector)' ? 'GC' : fn.startsWith('(') ? fn : 'V8 builtins / native'
  if (url.includes('/dist/esm/')) return `tessera ${url.slice(url.indexOf('/dist/esm/') + 10)}`
  if (url.includes('/bench/')) return 'bench server'
  const nm = url.lastIndexOf('/node_modules/')
  if (nm !== -1) return url.slice(nm + 14).split('/').slice(0, url.slice(nm + 14).startsWith('@') ? 2 : 1).join('/')
  if (url.startsWith('node:')) return url
  return url
}

function summarize(file) {
  const profile = JSON.parse(readFileSync(file, 'utf8'))
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const selfUs = new Map()
  const dt = profile.timeDeltas
  for (let i = 0; i < profile.samples.length; i++) selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + (dt[i] ?? 0))
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0)
  const fns = new Map()
  const areas = new Map()
  for (const [id, us] of selfUs) {
    const { callFrame: f } = byId.get(id)
    const fn = f.functionName || '(anonymous)'
    if (fn === '(idle)' || fn === '(program)') continue
    const where = f.url ? `${f.url.replace(/^file:\/\//, '').replace(ROOT + '/', '')}:${f.lineNumber + 1}` : ''
    const key = `${fn} ${where}`
    fns.set(key, (fns.get(key) ?? 0) + us)
    const a = area(f.url, fn)
    areas.set(a, (areas.get(a) ?? 0) + us)
  }
  const idle = [...selfUs].filter(([id]) => ['(idle)', '(program)'].includes(byId.get(id).callFrame.functionName)).reduce((a, [, us]) => a + us, 0)
  return { total, idle, fns: [...fns].sort((a, b) => b[1] - a[1]), areas: [...areas].sort((a, b) => b[1] - a[1]) }
}

async function profileOne(pathName, env) {
  const dir = path.join(BENCH, 'profiles', `${name}-${pathName}`)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const child = track(
    spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, path.join(BENCH, 'servers', sc.file), sc.serve ?? sc.name], {
      cwd: ROOT,
      env: { ...process.env, ...env, ...sc.env, NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  )
  const line = await new Promise((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).once('line', resolve)
    child.once('exit', () => reject(new Error(`${name} exited before listening`)))
  })
  const msg = JSON.parse(line)
  if (msg.skip) throw new Error(`${name}: ${msg.skip}`)
  const jars = makeJars(50)
  const verify = pathName === 'modify' ? 'counter' : 'zero'
  await runLoad({ port: msg.port, path: pathName, seconds: 2, jars, verify })
  const r = await runLoad({ port: msg.port, path: pathName, seconds, jars, verify })
  const gone = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  await Promise.race([gone, sleep(10_000)])
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))
  if (!file) throw new Error(`no .cpuprofile written in ${dir}`)
  const s = summarize(path.join(dir, file))
  const ms = (us) => (us / 1000).toFixed(0).padStart(6)
  const pct = (us) => ((100 * us) / s.total).toFixed(1).padStart(5)
  console.log(`\n## ${name} ${pathName}: ${Math.round(r.rps).toLocaleString('en-US')} req/s during the profile; ${ms(s.total)} ms sampled, ${pct(s.idle)} % idle`)
  console.log(`\nself time by area (% of all samples):`)
  for (const [a, us] of s.areas.slice(0, 15)) console.log(`  ${pct(us)} %  ${ms(us)} ms  ${a}`)
  console.log(`\ntop ${top} functions by self time:`)
  for (const [key, us] of s.fns.slice(0, top)) console.log(`  ${pct(us)} %  ${ms(us)} ms  ${key}`)
  console.log(`\nprofile: ${path.relative(ROOT, path.join(dir, file))}`)
}

installCleanup()
const env = {}
const stops = []
try {
  if (sc.needs?.includes('redis')) {
    const redis = await startRedis()
    stops.push(() => redis.stop())
    env.REDIS_URL = redis.url
  }
  if (sc.needs?.includes('postgres')) {
    const pg = await startPostgres()
    stops.push(() => pg.stop())
    env.PG_URL = pg.url
  }
  for (const p of which === 'both' ? ['read', 'modify'] : [which]) await profileOne(p, env)
} finally {
  for (const stop of stops) await stop()
}
process.exit(0)

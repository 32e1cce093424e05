#!/usr/bin/env node
// npm run bench: every scenario's server in its own Node process, loaded from this process with
// autocannon, several rounds, medians; then the memory-scale bench; then bench/RESULTS.md,
// bench/chart.svg and bench/results/<date>.json. See bench/README.md.
//
// Environment:
//   BENCH_SECONDS=5      measured seconds per path        BENCH_WARMUP=2   warm-up seconds per path
//   BENCH_ROUNDS=3       rounds (scenario order alternates)  BENCH_CONNECTIONS=50
//   BENCH_QUICK=1        smoke run: 1 round, 1 s + 0.5 s warm-up, 100,000 sessions in the memory bench
//   BENCH_ONLY=a,b       only these scenarios (bare always runs) and their variants
//   BENCH_VARIANTS=name:KEY=VALUE,...;...  each Tessera scenario again with these server env vars
//                        (e.g. web:BENCH_HIDE_NODE_BUILTINS=1, old:BENCH_TESSERA_DIST=/path/dist; see lib/scenarios.mjs)
//   BENCH_SKIP_MEMORY=1  no memory-scale bench          BENCH_SESSIONS=1000000 (memory bench)
//   BENCH_REDIS_CLIENT=node-redis|ioredis  client of tessera-redis and bare-redis (default node-redis)
//   BENCH_BUSY_CORES=0.25  other-process CPU (in cores) above which a window is flagged busy
//   BENCH_QUIET_WAIT=15  seconds to wait, before each warm-up, for other processes to go quiet
//   BENCH_RETRIES=1      a window flagged busy is measured again (after waiting) up to this often
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { makeJars, runLoad } from './lib/load.mjs'
import { childPids, cpuDelta, cpuOf, machineTicks, peakRss, TICK_US } from './lib/proc.mjs'
import { bundleMarkdown, edgeBundleSizes } from './lib/bundle-size.mjs'
import { chartSvg, markdown, median } from './lib/report.mjs'
import { PATHS, SCENARIOS } from './lib/scenarios.mjs'
import { selfCheck } from './lib/selfcheck.mjs'
import { installCleanup, postmasterPid, startPostgres, startRedis, track } from './lib/services.mjs'
import { startUpstashRest } from './lib/upstash-rest.mjs'

const BENCH = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.dirname(BENCH)

function num(name, fallback) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value < 0) throw new TypeError(`${name} must be a non-negative number, got ${JSON.stringify(raw)}`)
  return value
}

const quick = process.env.BENCH_QUICK === '1'
const config = {
  seconds: num('BENCH_SECONDS', quick ? 1 : 5),
  warmup: num('BENCH_WARMUP', quick ? 0.5 : 2),
  rounds: Math.max(1, Math.round(num('BENCH_ROUNDS', quick ? 1 : 3))),
  connections: Math.max(1, Math.round(num('BENCH_CONNECTIONS', 50))),
  busyCores: num('BENCH_BUSY_CORES', 0.25),
  quietWait: num('BENCH_QUIET_WAIT', quick ? 2 : 15),
  retries: Math.round(num('BENCH_RETRIES', quick ? 0 : 1)),
  redisClient: process.env.BENCH_REDIS_CLIENT === 'ioredis' ? 'ioredis' : 'node-redis',
  quick,
}
const only = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',').map((s) => s.trim()).filter(Boolean)) : undefined

// ---------------------------------------------------------------------------
// Progress line

const progress = {
  startedAt: Date.now(),
  runsLeft: 0,
  runStartedAt: 0,
  perRun: 0,
  text: '',
  timer: undefined,
  tty: process.stderr.isTTY === true,
  left() {
    const inRun = Math.max(0, this.perRun - (Date.now() - this.runStartedAt) / 1000)
    return this.runsLeft * this.perRun + inRun
  },
  line() {
    const s = Math.round(this.left())
    return `${this.text} · ~${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s left`
  },
  set(text) {
    this.text = text
    if (this.tty) process.stderr.write(`\r\x1b[K${this.line()}`)
    else process.stderr.write(`${this.line()}\n`)
  },
  /** A passing state (waiting): shown live on a terminal, logged once per phase otherwise. */
  note(key, text) {
    if (this.tty) return this.set(text)
    if (this.noted === key) return
    this.noted = key
    this.set(text)
  },
  start() {
    if (this.tty) this.timer = setInterval(() => process.stderr.write(`\r\x1b[K${this.line()}`), 1000)
  },
  clear() {
    if (this.timer) clearInterval(this.timer)
    if (this.tty) process.stderr.write('\r\x1b[K')
  },
  log(message) {
    if (this.tty) process.stderr.write(`\r\x1b[K${message}\n${this.text ? this.line() : ''}`)
    else process.stderr.write(`${message}\n`)
  },
}

// ---------------------------------------------------------------------------
// Build and optional entries

function newestMtime(dir) {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name)
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(file))
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(file).mtimeMs)
  }
  return newest
}

function ensureBuilt() {
  const built = path.join(ROOT, 'dist/esm/index.js')
  if (!existsSync(built)) {
    console.error('bench: dist/ missing, running npm run build')
    const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' })
    if (r.status !== 0) throw new Error('npm run build failed')
    return
  }
  if (newestMtime(path.join(ROOT, 'src')) > statSync(built).mtimeMs) {
    console.error('bench: warning: src/ is newer than dist/; the bench measures dist/ (run npm run build to refresh it)')
  }
}

/** Why an optional Tessera entry/export cannot be used, or undefined when it can. */
async function missing(requires) {
  try {
    const mod = await import(requires.entry)
    if (typeof mod[requires.export] !== 'function') return `not built yet: ${requires.entry} has no ${requires.export} export`
    return undefined
  } catch (error) {
    return `not built yet: ${requires.entry} cannot be imported (${error.code ?? error.message})`
  }
}

// ---------------------------------------------------------------------------
// Servers

async function startServer(sc, env) {
  const child = track(
    spawn(process.execPath, [path.join(BENCH, 'servers', sc.file), sc.serve ?? sc.name], {
      cwd: ROOT,
      env: { ...process.env, ...env, ...sc.env, NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  )
  let stderr = ''
  child.stderr.on('data', (c) => (stderr = (stderr + c).slice(-4000)))
  const lines = readline.createInterface({ input: child.stdout })
  const first = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ error: 'no port announced within 30 s' }), 30_000)
    lines.once('line', (line) => {
      clearTimeout(timer)
      try {
        resolve(JSON.parse(line))
      } catch {
        resolve({ error: `unexpected output: ${line}` })
      }
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ error: `exited (${signal ?? code}) before listening` })
    })
  })
  lines.on('line', (line) => process.stderr.write(`[${sc.name}] ${line}\n`))
  if (first.error) {
    child.kill('SIGKILL')
    return { error: `${first.error}\n${stderr.trim()}` }
  }
  if (first.skip) return { skip: first.skip }
  return { port: first.port, pid: child.pid, child, stderr: () => stderr }
}

async function stopServer(server) {
  const { child } = server
  if (child.exitCode !== null || child.signalCode !== null) return
  const gone = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  if (await Promise.race([gone.then(() => true), sleep(3000, false)])) return
  child.kill('SIGKILL')
  await gone
}

// ---------------------------------------------------------------------------
// Measurement

const services = { redis: undefined, postgres: undefined, upstash: undefined }

function servicePids() {
  const pids = []
  if (services.redis) pids.push(services.redis.pid)
  if (services.upstash) pids.push(services.upstash.pid)
  if (services.postgres) {
    const master = postmasterPid(services.postgres.dataDir)
    if (master) pids.push(master, ...childPids(master))
  }
  return pids
}

/**
 * Waits (at most config.quietWait seconds) until processes other than ours use less than
 * config.busyCores of CPU over half a second. Returns the seconds waited.
 */
async function waitForQuiet(server, label) {
  const started = Date.now()
  for (;;) {
    const pids = [server.pid, process.pid, ...servicePids()]
    const before = cpuOf(pids)
    const machineBefore = machineTicks()
    await sleep(500)
    const other = (machineTicks().busy - machineBefore.busy - cpuDelta(before, cpuOf(pids))) / 50
    const waited = (Date.now() - started) / 1000
    if (other < config.busyCores || waited >= config.quietWait) return waited
    progress.note(label, `${label} waiting up to ${config.quietWait} s for other processes to go quiet (${other.toFixed(2)} cores busy)`)
  }
}

/** Quiet wait, warm-up, then a measured window with CPU accounting; a busy window is retried. */
async function measure(sc, server, pathName, jars, label) {
  let best
  for (let attempt = 0; attempt <= config.retries; attempt++) {
    const m = await measureOnce(sc, server, pathName, jars, label + (attempt ? ` (retry ${attempt}, last window was busy)` : ''))
    m.attempt = attempt + 1
    if (!best || m.otherCores < best.otherCores) best = m
    if (!m.busy) break
  }
  return best
}

async function measureOnce(sc, server, pathName, jars, label) {
  const verify = sc.check === 'session' ? (pathName === 'modify' ? 'counter' : 'zero') : null
  const waited = await waitForQuiet(server, `${label} ${pathName}`)
  if (config.warmup > 0) {
    progress.set(`${label} ${pathName} warm-up`)
    await runLoad({ port: server.port, path: pathName, seconds: config.warmup, jars, verify })
  }
  progress.set(`${label} ${pathName} measuring`)
  const svcBefore = servicePids()
  const before = cpuOf([server.pid, process.pid, ...svcBefore])
  const machineBefore = machineTicks()
  const upstash = sc.needs?.includes('upstash') ? services.upstash : undefined
  const restBefore = await upstash?.requests()
  const r = await runLoad({ port: server.port, path: pathName, seconds: config.seconds, jars, verify })
  const restAfter = await upstash?.requests()
  const machineAfter = machineTicks()
  const svcAfter = [...new Set([...svcBefore, ...servicePids()])]
  const after = cpuOf([server.pid, process.pid, ...svcAfter])
  const serverTicks = (after.get(server.pid) ?? 0) - (before.get(server.pid) ?? 0)
  const genTicks = (after.get(process.pid) ?? 0) - (before.get(process.pid) ?? 0)
  const allTicks = cpuDelta(before, after)
  const svcTicks = allTicks - serverTicks - genTicks
  const windowTicks = (r.seconds * 1e6) / TICK_US
  const otherTicks = machineAfter.busy - machineBefore.busy - allTicks
  const otherCores = otherTicks / windowTicks
  return {
    ...r,
    cpuUs: r.requests ? (serverTicks * TICK_US) / r.requests : NaN,
    svcCpuUs: svcAfter.length && r.requests ? (svcTicks * TICK_US) / r.requests : undefined,
    // HTTP requests the Upstash REST server received per request measured (its round trips).
    roundTrips: upstash && r.requests ? (restAfter - restBefore) / r.requests : undefined,
    serverCores: serverTicks / windowTicks,
    generatorCores: genTicks / windowTicks,
    otherCores,
    busy: otherCores > config.busyCores,
    quietWaitSeconds: waited,
  }
}

/** One server: start, self-check, read and modify windows, peak RSS, stop. */
async function runScenario(sc, label, statuses, env) {
  const server = await startServer(sc, env)
  if (server.skip) {
    statuses[sc.name] = { state: 'skipped', reason: server.skip }
    progress.log(`${sc.name}: skipped — ${server.skip}`)
    return undefined
  }
  if (server.error) {
    statuses[sc.name] = { state: 'failed', problems: [server.error] }
    progress.log(`${sc.name}: server did not start — ${server.error}`)
    return undefined
  }
  try {
    progress.set(`${label} self-check`)
    const problems = await selfCheck(server.port, sc.check)
    if (problems.length) {
      const stderr = server.stderr().trim()
      statuses[sc.name] = { state: 'failed', problems: stderr ? [...problems, `server stderr: ${stderr.slice(-2000)}`] : problems }
      progress.log(`${sc.name}: self-check FAILED, not measured:\n  ${problems.join('\n  ')}`)
      return undefined
    }
    statuses[sc.name] ??= { state: 'ok' }
    const out = {}
    for (const p of PATHS) {
      out[p] = await measure(sc, server, p, makeJars(config.connections), label)
      if (out[p].mismatches) progress.log(`${sc.name} ${p}: ${out[p].mismatches} answers did not match the connection's session (${out[p].firstMismatch})`)
      if (out[p].errors || out[p].non2xx) progress.log(`${sc.name} ${p}: ${out[p].errors} errors, ${out[p].non2xx} non-2xx ${JSON.stringify(out[p].statuses)}`)
    }
    out.rss = peakRss(server.pid)
    return out
  } finally {
    await stopServer(server)
  }
}

// ---------------------------------------------------------------------------
// Summary

function summarize(rounds, statuses) {
  const bareMean = (round, p) => {
    const values = round.bare.map((m) => m[p].rps)
    return values.reduce((a, b) => a + b, 0) / values.length
  }
  const summary = {}
  for (const sc of SCENARIOS) {
    const perRound = rounds.map((round) => ({ round, runs: sc.name === 'bare' ? round.bare : round.runs[sc.name] ? [round.runs[sc.name]] : [] }))
    const runs = perRound.flatMap((x) => x.runs)
    if (runs.length === 0) continue
    const s = { rssMax: Math.max(...runs.map((r) => r.rss ?? 0)) }
    for (const p of PATHS) {
      const ms = perRound.flatMap(({ round, runs }) => runs.map((r) => ({ m: r[p], xBare: r[p].rps / bareMean(round, p) })))
      s[p] = {
        rounds: ms.length,
        rps: median(ms.map((x) => x.m.rps)),
        xBare: median(ms.map((x) => x.xBare)),
        p50: median(ms.map((x) => x.m.p50)),
        p99: median(ms.map((x) => x.m.p99)),
        cpuUs: median(ms.map((x) => x.m.cpuUs)),
        svcCpuUs: sc.needs ? median(ms.map((x) => x.m.svcCpuUs)) : undefined,
        roundTrips: sc.needs?.includes('upstash') ? median(ms.map((x) => x.m.roundTrips)) : undefined,
        setCookieShare: median(ms.map((x) => x.m.setCookieShare)),
        generatorCores: median(ms.map((x) => x.m.generatorCores)),
        otherCores: median(ms.map((x) => x.m.otherCores)),
        busyRounds: ms.filter((x) => x.m.busy).length,
        mismatches: ms.reduce((a, x) => a + x.m.mismatches, 0),
        errors: ms.reduce((a, x) => a + x.m.errors, 0),
        non2xx: ms.reduce((a, x) => a + x.m.non2xx, 0),
      }
    }
    summary[sc.name] = s
  }

  const targets = []
  for (const sc of SCENARIOS) {
    for (const t of sc.targets ?? []) {
      if (!statuses[sc.name]) continue
      const perRound = []
      for (const round of rounds) {
        const mine = round.runs[sc.name]?.[t.path]?.rps
        const ref = t.ref === 'bare' ? bareMean(round, t.refPath) : round.runs[t.ref]?.[t.refPath]?.rps
        if (Number.isFinite(mine) && Number.isFinite(ref)) perRound.push(mine / ref)
      }
      const ratio = median(perRound)
      const refX = t.ref === 'bare' ? 1 : summary[t.ref]?.[t.refPath]?.xBare
      targets.push({
        scenario: sc.name,
        path: t.path,
        text: t.text,
        min: t.min,
        perRound,
        ratio,
        pass: Number.isFinite(ratio) ? ratio >= t.min : undefined,
        markAt: Number.isFinite(refX) ? t.min * refX : NaN,
      })
    }
  }
  return { summary, targets }
}

function stamp(date) {
  return date.toISOString().slice(0, 16).replace('T', '-').replace(':', '')
}

// ---------------------------------------------------------------------------

async function main() {
  installCleanup()
  ensureBuilt()
  const started = Date.now()
  const statuses = {}
  const selected = SCENARIOS.filter((sc) => sc.name === 'bare' || !only || only.has(sc.serve ?? sc.name))
  if (only) for (const name of only) if (!SCENARIOS.some((sc) => sc.name === name)) throw new TypeError(`BENCH_ONLY: unknown scenario ${name}`)

  for (const sc of selected) {
    if (!sc.requires) continue
    const reason = await missing(sc.requires)
    if (reason) {
      statuses[sc.name] = { state: 'skipped', reason }
      console.error(`bench: ${sc.name} skipped — ${reason}`)
    }
  }
  const runnable = () => selected.filter((sc) => statuses[sc.name]?.state !== 'skipped' && statuses[sc.name]?.state !== 'failed')
  const env = { BENCH_REDIS_CLIENT: config.redisClient }
  try {
    if (runnable().some((sc) => sc.needs?.includes('redis'))) {
      services.redis = await startRedis()
      env.REDIS_URL = services.redis.url
      console.error(`bench: redis-server on port ${services.redis.port}`)
    }
    if (runnable().some((sc) => sc.needs?.includes('postgres'))) {
      services.postgres = await startPostgres()
      env.PG_URL = services.postgres.url
      console.error(`bench: PostgreSQL on port ${services.postgres.port}`)
    }
    if (runnable().some((sc) => sc.needs?.includes('upstash'))) {
      services.upstash = await startUpstashRest(services.redis.url)
      env.UPSTASH_URL = services.upstash.url
      env.UPSTASH_TOKEN = services.upstash.token
      console.error(`bench: Upstash REST server at ${services.upstash.url}`)
    }

    const middle = () => runnable().filter((sc) => sc.name !== 'bare')
    progress.perRun = 2 * (config.warmup + config.seconds) + 1.5
    progress.runsLeft = config.rounds * (middle().length + 2)
    progress.start()
    const rounds = []
    for (let r = 0; r < config.rounds; r++) {
      const order = r % 2 === 0 ? middle() : middle().reverse()
      const bare = SCENARIOS.find((sc) => sc.name === 'bare')
      const round = { round: r + 1, order: ['bare', ...order.map((sc) => sc.name), 'bare'], bare: [], runs: {} }
      const sequence = [bare, ...order, bare]
      for (let i = 0; i < sequence.length; i++) {
        const sc = sequence[i]
        progress.runsLeft--
        progress.runStartedAt = Date.now()
        const label = `[round ${r + 1}/${config.rounds}] ${sc.name}${sc.name === 'bare' ? (i === 0 ? ' (start)' : ' (end)') : ''}`
        if (statuses[sc.name]?.state === 'skipped' || statuses[sc.name]?.state === 'failed') continue
        const out = await runScenario(sc, label, statuses, env)
        if (!out) {
          if (sc.name === 'bare') throw new Error(`the bare server failed: ${JSON.stringify(statuses.bare)}`)
          continue
        }
        if (sc.name === 'bare') round.bare.push(out)
        else round.runs[sc.name] = out
      }
      rounds.push(round)
    }
    progress.clear()

    const { summary, targets } = summarize(rounds, statuses)
    const results = {
      date: new Date(started).toISOString(),
      durationSeconds: 0,
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model?.trim() ?? 'unknown CPU',
        node: process.versions.node,
        platform: `${os.type()} ${os.release()}`,
        memoryGB: Math.round(os.totalmem() / 2 ** 30),
      },
      config,
      statuses,
      summary,
      targets,
      rounds,
      memory: undefined,
    }

    if (process.env.BENCH_SKIP_MEMORY !== '1') {
      progress.log('bench: memory scale (bench/memory.mjs)…')
      const { runMemoryBench } = await import('./memory.mjs')
      results.memory = await runMemoryBench({ sessions: process.env.BENCH_SESSIONS ? num('BENCH_SESSIONS', 0) : quick ? 100_000 : 1_000_000 })
    }
    progress.log('bench: Edge bundle size (bench/lib/bundle-size.mjs)…')
    results.bundle = await edgeBundleSizes()
    for (const sizes of Object.values(results.bundle)) delete sizes.inputs
    results.durationSeconds = (Date.now() - started) / 1000

    mkdirSync(path.join(BENCH, 'results'), { recursive: true })
    const jsonFile = path.join(BENCH, 'results', `${stamp(new Date(started))}.json`)
    writeFileSync(jsonFile, JSON.stringify(results, null, 2) + '\n')
    const md = markdown(results).replace(/\n!\[× bare per scenario\]/, `\n${bundleMarkdown(results.bundle).join('\n')}\n\n![× bare per scenario]`)
    writeFileSync(path.join(BENCH, 'RESULTS.md'), md)
    writeFileSync(path.join(BENCH, 'chart.svg'), chartSvg(results))
    console.log(md)
    console.log(`bench: wrote ${path.relative(ROOT, jsonFile)}, bench/RESULTS.md, bench/chart.svg (${Math.round(results.durationSeconds)} s)`)
  } finally {
    progress.clear()
    await services.upstash?.stop().catch((e) => console.error(`bench: stopping the Upstash REST server: ${e.message}`))
    await services.redis?.stop().catch((e) => console.error(`bench: stopping redis: ${e.message}`))
    await services.postgres?.stop().catch((e) => console.error(`bench: stopping PostgreSQL: ${e.message}`))
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then(
    () => process.exit(0),
    (error) => {
      progress.clear()
      console.error(error)
      process.exit(1)
    },
  )
}

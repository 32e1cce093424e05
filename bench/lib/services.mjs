// The real Redis and PostgreSQL servers the bench loads: started on free loopback ports in temp
// dirs, tuned for throughput (no persistence), and always stopped: on success, on error, on
// Ctrl-C. Plain-JS counterparts of test/harness/{redis,postgres}.ts, which the bench cannot
// import (TypeScript).
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process'
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { ensureSystem, findPostgresBin } from '../../scripts/ensure-system.mjs'

const execFileAsync = promisify(execFile)
const HOST = '127.0.0.1'

/** Synchronous stops, run on exit and on signals. */
const cleanups = new Set()
/** Child processes the bench started (servers under test included): killed on exit. */
const children = new Set()
let hooked = false

function cleanupAll() {
  for (const child of children) {
    try {
      child.kill('SIGKILL')
    } catch {
      // already gone
    }
  }
  children.clear()
  for (const stop of [...cleanups]) {
    try {
      stop()
    } catch {
      // best effort
    }
  }
  cleanups.clear()
}

/** Installs exit/signal hooks once: whatever the bench started dies with it. */
export function installCleanup() {
  if (hooked) return
  hooked = true
  process.on('exit', cleanupAll)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping servers…\n`)
      cleanupAll()
      process.exit(130)
    })
  }
}

/** Tracks a child process so it is killed when the bench exits, however it exits. */
export function track(child) {
  installCleanup()
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, HOST, () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** One RESP command over a fresh socket (enough for PING). */
function redisPing(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port })
    let buf = ''
    const done = (ok) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1000, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'))
    socket.on('data', (chunk) => {
      buf += chunk
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'))
    })
  })
}

/**
 * Starts a throwaway redis-server with persistence off.
 * @returns {Promise<{ port: number, url: string, pid: number, stop(): Promise<void> }>}
 */
export async function startRedis() {
  await ensureSystem({ need: ['redis'] })
  installCleanup()
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-bench-redis-'))
  const removeDir = () => rmSync(dir, { recursive: true, force: true })
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    const args = ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'no', '--daemonize', 'no']
    const child = track(spawn('redis-server', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }))
    let output = ''
    child.stdout.on('data', (c) => (output = (output + c).slice(-4000)))
    child.stderr.on('data', (c) => (output = (output + c).slice(-4000)))
    let exited = false
    child.once('exit', () => (exited = true))
    const deadline = Date.now() + 10_000
    while (!exited && Date.now() < deadline && !(await redisPing(port))) await sleep(50)
    if (!exited && Date.now() < deadline) {
      const stopSync = () => {
        child.kill('SIGKILL')
        removeDir()
      }
      cleanups.add(stopSync)
      return {
        port,
        url: `redis://${HOST}:${port}`,
        pid: child.pid,
        async stop() {
          cleanups.delete(stopSync)
          if (child.exitCode === null && child.signalCode === null) {
            const gone = new Promise((resolve) => child.once('exit', resolve))
            child.kill('SIGTERM')
            await Promise.race([gone, sleep(5000)])
            child.kill('SIGKILL')
          }
          removeDir()
        },
      }
    }
    child.kill('SIGKILL')
    if (attempt >= 3 || !/Address already in use/i.test(output)) {
      removeDir()
      throw new Error(`redis-server did not start on port ${port}:\n${output}`)
    }
  }
}

/** uid/gid of the `postgres` user when we run as root (PostgreSQL refuses to run as root). */
function runAsUser() {
  if (process.getuid?.() !== 0) return {}
  try {
    const id = (flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim())
    return { uid: id('-u'), gid: id('-g') }
  } catch {
    throw new Error('bench: running as root and there is no "postgres" user to run PostgreSQL as (node scripts/ensure-system.mjs installs it)')
  }
}

/**
 * Starts a throwaway PostgreSQL (initdb in a temp dir, trust auth for user "tessera", fsync off).
 * @returns {Promise<{ port: number, url: string, dataDir: string, stop(): Promise<void> }>}
 */
export async function startPostgres() {
  await ensureSystem({ need: ['postgres'] })
  installCleanup()
  const initdb = findPostgresBin('initdb')
  const pgCtl = findPostgresBin('pg_ctl')
  const runAs = runAsUser()
  const base = mkdtempSync(path.join(os.tmpdir(), 'tessera-bench-pg-'))
  const dataDir = path.join(base, 'data')
  const logFile = path.join(base, 'log')
  const removeBase = () => rmSync(base, { recursive: true, force: true })
  const run = async (file, args) => {
    try {
      await execFileAsync(file, args, { cwd: base, ...runAs, timeout: 60_000 })
    } catch (err) {
      throw new Error(`${path.basename(file)} ${args.join(' ')} failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`)
    }
  }
  try {
    if (runAs.uid !== undefined) chownSync(base, runAs.uid, runAs.gid)
    await run(initdb, ['-D', dataDir, '-A', 'trust', '-U', 'tessera', '--no-sync', '-E', 'UTF8', '--locale=C'])
  } catch (err) {
    removeBase()
    throw err
  }
  const stopSync = () => {
    spawnSync(pgCtl, ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '10'], { ...runAs, stdio: 'ignore' })
    removeBase()
  }
  cleanups.add(stopSync)
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    const options = `-p ${port} -c listen_addresses=${HOST} -k '${base}' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100`
    try {
      await run(pgCtl, ['-D', dataDir, '-o', options, '-w', '-t', '30', 'start', '-l', logFile])
      return {
        port,
        url: `postgres://tessera@${HOST}:${port}/postgres`,
        dataDir,
        async stop() {
          if (!cleanups.has(stopSync)) return
          cleanups.delete(stopSync)
          try {
            await run(pgCtl, ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '30'])
          } finally {
            removeBase()
          }
        },
      }
    } catch (err) {
      if (attempt >= 3 || !/could not bind|already in use/i.test(err.message)) {
        cleanups.delete(stopSync)
        stopSync()
        throw err
      }
    }
  }
}

/** The postmaster's pid (first line of postmaster.pid), for CPU accounting. */
export function postmasterPid(dataDir) {
  try {
    return Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]) || undefined
  } catch {
    return undefined
  }
}

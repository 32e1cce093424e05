// Throwaway redis-server processes for integration tests: a single server that
// can be killed and restarted on the same port/data, and a 3-master cluster.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { rmSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { freePort, isPortFree } from './ports.js'

const execFileAsync = promisify(execFile)

const HOST = '127.0.0.1'
const READY_TIMEOUT_MS = 10_000
const CLUSTER_TIMEOUT_MS = 30_000
const STOP_TIMEOUT_MS = 10_000
const CLUSTER_SLOTS = 16384
const CLUSTER_BUS_OFFSET = 10_000

export interface RedisServer {
  readonly port: number
  /** redis://127.0.0.1:PORT */
  readonly url: string
  /**
   * Graceful stop (SIGTERM; the append-only file is flushed). Removes the data
   * dir unless `keepData` is set; a later start() then begins with an empty dataset.
   */
  stop(opts?: { keepData?: boolean }): Promise<void>
  /** Hard stop (SIGKILL) to simulate an outage. The data dir is kept for start(). */
  kill(): Promise<void>
  /** Starts again on the same port with the same data dir, after stop() or kill(). */
  start(): Promise<void>
}

export interface RedisCluster {
  readonly nodes: { host: string; port: number }[]
  stop(): Promise<void>
}

// ---------------------------------------------------------------------------
// Bookkeeping: whatever we spawned dies with the test process, even on a crash.

const live = new Set<ChildProcess>()
const tempDirs = new Set<string>()
let exitHooksInstalled = false

function cleanupSync(): void {
  for (const child of live) child.kill('SIGKILL')
  live.clear()
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 })
    } catch {
      // best effort: the OS cleans /tmp eventually
    }
  }
  tempDirs.clear()
}

function installExitHooks(): void {
  if (exitHooksInstalled) return
  exitHooksInstalled = true
  process.on('exit', cleanupSync)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      cleanupSync()
      process.removeListener(signal, onSignal)
      // Listening to a signal cancels its default action: re-raise it unless someone else handles it.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
    }
    process.on(signal, onSignal)
  }
}

interface Tracked {
  readonly child: ChildProcess
  readonly exited: Promise<void>
  running(): boolean
  /** Last few KB of the process's stdout+stderr, for error messages. */
  output(): string
}

function spawnTracked(command: string, args: string[], cwd: string): Tracked {
  installExitHooks()
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  live.add(child)
  let out = ''
  const collect = (chunk: Buffer): void => {
    out = (out + chunk.toString('utf8')).slice(-8192)
  }
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)
  // Don't let a forgotten server keep the test process alive; the exit hook kills it.
  child.unref()
  ;(child.stdout as net.Socket | null)?.unref()
  ;(child.stderr as net.Socket | null)?.unref()

  let done = false
  const exited = new Promise<void>((resolve) => {
    const finish = (): void => {
      done = true
      live.delete(child)
      resolve()
    }
    child.once('exit', finish)
    child.once('error', (err) => {
      out += `\n${err.message}`
      finish()
    })
  })
  return { child, exited, running: () => !done, output: () => out.trim() }
}

async function halt(proc: Tracked | null, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  if (proc === null || !proc.running()) return
  proc.child.kill(signal)
  const timedOut = await Promise.race([
    proc.exited.then(() => false),
    sleep(STOP_TIMEOUT_MS, true, { ref: false }),
  ])
  if (timedOut) {
    proc.child.kill('SIGKILL')
    await proc.exited
  }
}

// ---------------------------------------------------------------------------
// Minimal RESP client, enough for PING / INFO / CLUSTER INFO.

type Reply = { ok: true; value: string } | { ok: false; error: string }

function encodeCommand(args: readonly string[]): string {
  return `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')
}

/** Parses one simple/error/integer/bulk reply; undefined while incomplete. */
function parseReply(buf: Buffer): Reply | undefined {
  return parseAt(buf, 0)?.reply
}

/**
 * The reply starting at `offset` and where it ends. An array of bulk strings (what SENTINEL
 * get-master-addr-by-name answers) comes back as its items joined by CRLF.
 */
function parseAt(buf: Buffer, offset: number): { reply: Reply; end: number } | undefined {
  const lineEnd = buf.indexOf('\r\n', offset)
  if (lineEnd < 0) return undefined
  const type = buf.toString('latin1', offset, offset + 1)
  const line = buf.toString('utf8', offset + 1, lineEnd)
  switch (type) {
    case '+':
    case ':':
      return { reply: { ok: true, value: line }, end: lineEnd + 2 }
    case '-':
      return { reply: { ok: false, error: line }, end: lineEnd + 2 }
    case '$': {
      const length = Number(line)
      if (length < 0) return { reply: { ok: true, value: '' }, end: lineEnd + 2 }
      const start = lineEnd + 2
      if (buf.length < start + length + 2) return undefined
      return { reply: { ok: true, value: buf.toString('utf8', start, start + length) }, end: start + length + 2 }
    }
    case '*': {
      const items: string[] = []
      let end = lineEnd + 2
      for (let i = 0; i < Number(line); i++) {
        const item = parseAt(buf, end)
        if (item === undefined) return undefined
        if (!item.reply.ok) return item
        items.push(item.reply.value)
        end = item.end
      }
      return { reply: { ok: true, value: items.join('\r\n') }, end }
    }
    default:
      return { reply: { ok: false, error: `unexpected reply type ${JSON.stringify(type)}` }, end: buf.length }
  }
}

function redisCommand(port: number, args: readonly string[], timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port })
    let buf = Buffer.alloc(0)
    let settled = false
    const settle = (err: Error | null, value = ''): void => {
      if (settled) return
      settled = true
      socket.destroy()
      if (err) reject(err)
      else resolve(value)
    }
    socket.setTimeout(timeoutMs, () => settle(new Error(`no reply within ${timeoutMs} ms`)))
    socket.once('error', (err) => settle(err))
    socket.once('close', () => settle(new Error('connection closed before a reply')))
    socket.once('connect', () => socket.write(encodeCommand(args)))
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk])
      const reply = parseReply(buf)
      if (reply === undefined) return
      if (reply.ok) settle(null, reply.value)
      else settle(new Error(reply.error))
    })
  })
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** Waits until *this* process (not some other server on the port) answers PING. */
async function waitForRedis(port: number, proc: Tracked, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = 'no answer'
  while (Date.now() < deadline) {
    if (!proc.running()) {
      throw new Error(`redis-server on port ${port} exited early:\n${proc.output()}`)
    }
    try {
      if ((await redisCommand(port, ['PING'])) === 'PONG') {
        const info = await redisCommand(port, ['INFO', 'server'])
        if (info.includes(`\r\nprocess_id:${proc.child.pid}\r\n`)) return
        last = 'another process answers on this port'
      }
    } catch (err) {
      last = message(err) // ECONNREFUSED until it listens, LOADING while it reads the AOF
    }
    await sleep(50)
  }
  throw new Error(
    `redis-server on port ${port} did not answer PING within ${timeoutMs} ms (${last}):\n${proc.output()}`,
  )
}

const isPortClash = (err: unknown): boolean => /Address already in use/i.test(message(err))

// ---------------------------------------------------------------------------
// Single server

function serverArgs(port: number, dir: string): string[] {
  return [
    '--port', String(port),
    '--bind', HOST,
    '--save', '',
    // Acknowledged writes must survive kill() + start().
    '--appendonly', 'yes',
    '--appendfsync', 'always',
    '--dir', dir,
    '--protected-mode', 'no',
    '--daemonize', 'no',
  ]
}

export async function startRedis(opts: { port?: number } = {}): Promise<RedisServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tessera-redis-'))
  tempDirs.add(dir)
  let proc: Tracked | null = null

  const launch = async (port: number): Promise<void> => {
    await mkdir(dir, { recursive: true }) // stop() may have removed it
    tempDirs.add(dir)
    proc = spawnTracked('redis-server', serverArgs(port, dir), dir)
    await waitForRedis(port, proc)
  }
  const removeDir = async (): Promise<void> => {
    await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 })
    tempDirs.delete(dir)
  }

  // The port from freePort() can be taken before redis binds it: retry with another.
  let port = opts.port ?? (await freePort())
  for (let attempt = 1; ; attempt++) {
    try {
      await launch(port)
      break
    } catch (err) {
      await halt(proc, 'SIGKILL')
      if (opts.port !== undefined || attempt >= 3 || !isPortClash(err)) {
        await removeDir()
        throw err
      }
      port = await freePort()
    }
  }

  const fixedPort = port
  return {
    port: fixedPort,
    url: `redis://${HOST}:${fixedPort}`,
    async stop({ keepData = false } = {}) {
      await halt(proc, 'SIGTERM')
      if (!keepData) await removeDir()
    },
    async kill() {
      await halt(proc, 'SIGKILL')
    },
    async start() {
      if (proc?.running()) throw new Error(`redis-server on port ${fixedPort} is already running`)
      await launch(fixedPort)
    },
  }
}

// ---------------------------------------------------------------------------
// Cluster: 3 masters, no replicas

/** Ports whose cluster-bus port (port + 10000) is free too, none clashing with another's bus. */
async function clusterPorts(count: number): Promise<number[]> {
  const ports: number[] = []
  for (let tries = 0; ports.length < count; tries++) {
    if (tries > 200) throw new Error('startRedisCluster: could not find free port pairs')
    const p = await freePort()
    const bus = p + CLUSTER_BUS_OFFSET
    if (bus > 65535) continue
    if (ports.some((q) => q === p || q === bus || q + CLUSTER_BUS_OFFSET === p)) continue
    if (!(await isPortFree(bus))) continue
    ports.push(p)
  }
  return ports
}

function clusterNodeArgs(port: number, base: string): string[] {
  return [
    '--port', String(port),
    '--bind', HOST,
    '--cluster-enabled', 'yes',
    '--cluster-config-file', path.join(base, `nodes-${port}.conf`),
    '--cluster-node-timeout', '5000',
    '--save', '',
    '--appendonly', 'no',
    '--dir', path.join(base, String(port)),
    '--protected-mode', 'no',
    '--daemonize', 'no',
  ]
}

function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>()
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1))
  }
  return fields
}

async function waitForClusterOk(ports: readonly number[]): Promise<void> {
  const deadline = Date.now() + CLUSTER_TIMEOUT_MS
  let last = ''
  while (Date.now() < deadline) {
    try {
      const infos = await Promise.all(ports.map((p) => redisCommand(p, ['CLUSTER', 'INFO'])))
      const ready = infos.every((text) => {
        const info = parseInfo(text)
        return (
          info.get('cluster_state') === 'ok' &&
          info.get('cluster_slots_assigned') === String(CLUSTER_SLOTS) &&
          info.get('cluster_slots_ok') === String(CLUSTER_SLOTS) &&
          info.get('cluster_known_nodes') === String(ports.length)
        )
      })
      if (ready) return
      last = infos.map((t, i) => `${ports[i]}: ${t.split('\r\n').slice(0, 4).join(' ')}`).join('\n')
    } catch (err) {
      last = message(err)
    }
    await sleep(100)
  }
  throw new Error(`redis cluster not ready within ${CLUSTER_TIMEOUT_MS} ms:\n${last}`)
}

async function launchCluster(base: string, procs: Tracked[]): Promise<number[]> {
  const ports = await clusterPorts(3)
  for (const port of ports) {
    await mkdir(path.join(base, String(port)))
    procs.push(spawnTracked('redis-server', clusterNodeArgs(port, base), base))
  }
  await Promise.all(procs.map((proc, i) => waitForRedis(ports[i]!, proc)))

  const createArgs = ['--cluster', 'create', ...ports.map((p) => `${HOST}:${p}`), '--cluster-replicas', '0', '--cluster-yes']
  try {
    await execFileAsync('redis-cli', createArgs, { timeout: CLUSTER_TIMEOUT_MS })
  } catch (err) {
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string }
    throw new Error(`redis-cli ${createArgs.join(' ')} failed: ${message(err)}\n${stdout}${stderr}`)
  }
  await waitForClusterOk(ports)
  return ports
}

export async function startRedisCluster(): Promise<RedisCluster> {
  for (let attempt = 1; ; attempt++) {
    const base = await mkdtemp(path.join(os.tmpdir(), 'tessera-redis-cluster-'))
    tempDirs.add(base)
    const procs: Tracked[] = []
    const stop = async (): Promise<void> => {
      await Promise.all(procs.map((proc) => halt(proc, 'SIGTERM')))
      await rm(base, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 })
      tempDirs.delete(base)
    }
    try {
      const ports = await launchCluster(base, procs)
      return { nodes: ports.map((port) => ({ host: HOST, port })), stop }
    } catch (err) {
      await Promise.all(procs.map((proc) => halt(proc, 'SIGKILL')))
      await stop()
      if (attempt >= 3 || !isPortClash(err)) throw err
    }
  }
}

// ---------------------------------------------------------------------------
// Sentinel: one `redis-server --sentinel` watching a master started with startRedis()

export interface RedisSentinel {
  /** The sentinel's own port (clients connect here and ask for `name`). */
  readonly port: number
  /** The master name the sentinel monitors. */
  readonly name: string
  readonly sentinels: { host: string; port: number }[]
  stop(): Promise<void>
}

async function waitForSentinel(port: number, name: string, masterPort: number, proc: Tracked): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  let last = 'no answer'
  while (Date.now() < deadline) {
    if (!proc.running()) throw new Error(`redis sentinel on port ${port} exited early:\n${proc.output()}`)
    try {
      // A bulk-string array reply; the port is the last line of the raw text.
      const reply = await redisCommand(port, ['SENTINEL', 'get-master-addr-by-name', name])
      if (reply === String(masterPort) || reply.endsWith(`\r\n${masterPort}`)) return
      last = `master reported as ${JSON.stringify(reply)}`
    } catch (err) {
      last = message(err)
    }
    await sleep(50)
  }
  throw new Error(`redis sentinel on port ${port} did not report master ${name} within ${READY_TIMEOUT_MS} ms (${last}):\n${proc.output()}`)
}

/** Starts one sentinel monitoring `master` (quorum 1) under the name `name`. */
export async function startRedisSentinel(master: { port: number }, name = 'mymaster'): Promise<RedisSentinel> {
  for (let attempt = 1; ; attempt++) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tessera-sentinel-'))
    tempDirs.add(dir)
    const port = await freePort()
    const conf = path.join(dir, 'sentinel.conf')
    // The sentinel rewrites its config file at run time, so it must be a writable file.
    await writeFile(conf, [`port ${port}`, `bind ${HOST}`, `dir ${dir}`, 'protected-mode no', `sentinel monitor ${name} ${HOST} ${master.port} 1`, ''].join('\n'))
    const proc = spawnTracked('redis-server', [conf, '--sentinel'], dir)
    const stop = async (): Promise<void> => {
      await halt(proc, 'SIGTERM')
      await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 })
      tempDirs.delete(dir)
    }
    try {
      await waitForSentinel(port, name, master.port, proc)
      return { port, name, sentinels: [{ host: HOST, port }], stop }
    } catch (err) {
      await halt(proc, 'SIGKILL')
      await stop()
      if (attempt >= 3 || !isPortClash(err)) throw err
    }
  }
}

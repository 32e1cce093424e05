// A throwaway PostgreSQL server for integration tests: initdb into a temp dir,
// pg_ctl start on a free port, trust auth for user "tessera".
import { execFile, execFileSync, spawnSync } from 'node:child_process'
import { chownSync, rmSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { findPostgresBin } from '../../scripts/ensure-system.mjs'
import { freePort } from './ports.js'

const execFileAsync = promisify(execFile)

const HOST = '127.0.0.1'
const USER = 'tessera'
const DATABASE = 'postgres'

export interface PostgresServer {
  readonly port: number
  /** postgres://tessera@127.0.0.1:PORT/postgres */
  readonly url: string
  /** Stops the server the way an administrator's restart does (fast: clients get a FATAL) and starts it again on the same port. */
  restart(): Promise<void>
  stop(): Promise<void>
}

/** uid/gid to run PostgreSQL as: it refuses to run as root. */
interface RunAs {
  uid: number
  gid: number
}

function runAsUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined
  try {
    const id = (flag: string): number => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim())
    return { uid: id('-u'), gid: id('-g') }
  } catch {
    throw new Error(
      'startPostgres: the tests run as root, PostgreSQL refuses to run as root, and there is no "postgres" user ' +
        'to run it as. Install the postgresql package (it creates the user: node scripts/ensure-system.mjs) ' +
        'or run the tests as a non-root user.',
    )
  }
}

// ---------------------------------------------------------------------------
// Bookkeeping: servers still running when the test process exits are stopped.

/** Data dir -> synchronous emergency stop. */
const running = new Map<string, () => void>()
let exitHooksInstalled = false

function cleanupSync(): void {
  for (const stop of running.values()) stop()
  running.clear()
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

// ---------------------------------------------------------------------------

async function run(file: string, args: string[], cwd: string, runAs: RunAs | undefined): Promise<void> {
  try {
    await execFileAsync(file, args, { cwd, ...runAs, timeout: 60_000 })
  } catch (err) {
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string }
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err)
    throw new Error(`${path.basename(file)} failed: ${reason}\n${stdout}${stderr}`.trim())
  }
}

async function readLog(logFile: string): Promise<string> {
  try {
    return (await readFile(logFile, 'utf8')).slice(-4096)
  } catch {
    return ''
  }
}

export async function startPostgres(): Promise<PostgresServer> {
  const initdb = findPostgresBin('initdb')
  const pgCtl = findPostgresBin('pg_ctl')
  const runAs = runAsUser()

  const base = await mkdtemp(path.join(os.tmpdir(), 'tessera-pg-'))
  const dataDir = path.join(base, 'data')
  const logFile = path.join(base, 'log')
  const removeBase = (): Promise<void> => rm(base, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 })

  try {
    if (runAs) chownSync(base, runAs.uid, runAs.gid) // empty, so no need to recurse
    // --locale=C: works on any machine, whatever locales are generated.
    await run(initdb, ['-D', dataDir, '-A', 'trust', '-U', USER, '--no-sync', '-E', 'UTF8', '--locale=C'], base, runAs)
  } catch (err) {
    await removeBase()
    throw err
  }

  installExitHooks()
  running.set(dataDir, () => {
    spawnSync(pgCtl, ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '10'], { ...runAs, stdio: 'ignore' })
    try {
      rmSync(base, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 })
    } catch {
      // best effort
    }
  })

  const start = async (port: number): Promise<void> => {
    const options = `-p ${port} -c listen_addresses=${HOST} -k '${base}' -c fsync=off`
    try {
      await run(pgCtl, ['-D', dataDir, '-o', options, '-w', '-t', '30', 'start', '-l', logFile], base, runAs)
    } catch (err) {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- server log ---\n${await readLog(logFile)}`)
    }
  }

  // The port from freePort() can be taken before postgres binds it: retry with another.
  let port = await freePort()
  for (let attempt = 1; ; attempt++) {
    try {
      await start(port)
      break
    } catch (err) {
      const clash = /could not bind|Address already in use/i.test(err instanceof Error ? err.message : '')
      if (!clash || attempt >= 3) {
        running.get(dataDir)?.()
        running.delete(dataDir)
        throw err
      }
      port = await freePort()
    }
  }

  return {
    port,
    url: `postgres://${USER}@${HOST}:${port}/${DATABASE}`,
    async restart() {
      await run(pgCtl, ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '30'], base, runAs)
      await start(port)
    },
    async stop() {
      if (!running.has(dataDir)) return
      running.delete(dataDir)
      try {
        // Smart first: it waits for the clients a test just ended (pg.Pool.end() resolves before
        // their sockets close), where fast would send them a FATAL that nobody listens for any
        // more (an uncaught error in the test run). Fast when a client stays connected.
        await run(pgCtl, ['stop', '-D', dataDir, '-m', 'smart', '-w', '-t', '5'], base, runAs).catch(() =>
          run(pgCtl, ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '30'], base, runAs),
        )
      } finally {
        await removeBase()
      }
    },
  }
}

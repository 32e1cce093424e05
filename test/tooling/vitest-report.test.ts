// scripts/test.mjs counts vitest runs with scripts/vitest-report.mjs. These runs of vitest on the
// fixtures under ./fixtures must come out failed: vitest itself reports "0 failed" for each.
import { resolve } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { countVitestRun, readAllowList, runVitest, type VitestRun } from '../../scripts/vitest-report.mjs'

const root = resolve(import.meta.dirname, '../..')
const fixtures = resolve(import.meta.dirname, 'fixtures')
const runFixture = (dir: string) =>
  runVitest({ cwd: root, stdio: 'pipe', args: ['--config', resolve(fixtures, 'vitest.config.mjs'), '--root', resolve(fixtures, dir)] })

describe('counting a vitest run (scripts/vitest-report.mjs)', () => {
  let unhandled: VitestRun
  let unlistedSkip: VitestRun
  let listedSkip: VitestRun
  beforeAll(() => {
    unhandled = runFixture('unhandled')
    unlistedSkip = runFixture('unlisted-skip')
    listedSkip = runFixture('listed-skip')
  }, 120_000)

  it('counts an unhandled rejection outside the tests as a failure, though vitest reports every test passed', () => {
    expect(unhandled.json?.success).toBe(true)
    expect(unhandled.json?.numFailedTests).toBe(0)
    expect(unhandled.status).toBe(1)
    const counts = countVitestRun('fixture', unhandled, { root })
    expect(counts.passed).toBe(2)
    expect(counts.failed).toBe(1)
    expect(counts.failures).toEqual(['fixture: 1 unhandled error outside the tests: rejected outside any test'])
  })

  it('counts a skipped and a todo test that the allow-list does not name as failures', () => {
    expect(unlistedSkip.status).toBe(0)
    const counts = countVitestRun('fixture', unlistedSkip, { root, allowList: { 'declares no feature': 'another skip' } })
    expect(counts).toMatchObject({ passed: 1, failed: 2, skipped: 0 })
    expect(counts.failures).toEqual([
      'fixture: test/tooling/fixtures/unlisted-skip/skip.fixture.mjs › is skipped with no reason given: skipped but not listed with a reason in test/skipped.json',
      'fixture: test/tooling/fixtures/unlisted-skip/skip.fixture.mjs › is a todo with no reason given: todo but not listed with a reason in test/skipped.json',
    ])
  })

  it('counts a skip the allow-list names as skipped and prints it under its reason', () => {
    const counts = countVitestRun('fixture', listedSkip, { root, allowList: { '(fixture declares no feature)': 'the fixture has no feature' } })
    expect(counts).toMatchObject({ passed: 1, failed: 0, skipped: 1, failures: [] })
    expect(counts.lines).toEqual(['skipped 1 × "(fixture declares no feature)": the fixture has no feature', '  - is skipped (fixture declares no feature)'])
  })

  it('counts a non-zero exit status or success: false that no test explains as one failure', () => {
    const clean = listedSkip.json!
    const allowList = { 'declares no feature': 'listed' }
    const exited = countVitestRun('run', { ...listedSkip, status: 1, errors: undefined }, { root, allowList })
    expect(exited.failures).toEqual(['run: vitest ended with exit status 1 though no test failed'])
    const unsuccessful = countVitestRun('run', { ...listedSkip, json: { ...clean, success: false } }, { root, allowList })
    expect(unsuccessful.failures).toEqual(['run: vitest ended with exit status 0 and success: false though no test failed'])
    expect(countVitestRun('run', { ...listedSkip, json: undefined }, { root }).failures).toEqual(['run: vitest produced no report (exit status 0)'])
  })
})

describe('the committed allow-list (test/skipped.json)', () => {
  it('gives every entry a reason', () => {
    const list = readAllowList(resolve(root, 'test/skipped.json'))
    expect(Object.keys(list).length).toBeGreaterThan(0)
    for (const reason of Object.values(list)) expect(reason.trim().length).toBeGreaterThan(10)
  })
})

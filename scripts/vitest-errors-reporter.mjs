// A vitest reporter that writes how many unhandled errors the run had (vitest's JSON report
// leaves them out) to the file named by TESSERA_VITEST_ERRORS. Used by scripts/vitest-report.mjs.
import { writeFileSync } from 'node:fs'

export default class ErrorsReporter {
  onTestRunEnd(_modules, unhandledErrors = []) {
    const file = process.env.TESSERA_VITEST_ERRORS
    if (!file) return
    const messages = unhandledErrors.map((error) => String(error?.message ?? error).split('\n')[0])
    writeFileSync(file, JSON.stringify({ count: unhandledErrors.length, messages }))
  }
}

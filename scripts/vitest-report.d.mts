export interface VitestRun {
  status: number | null
  json: { success: boolean; testResults: unknown[]; [key: string]: unknown } | undefined
  errors: { count: number; messages: string[] } | undefined
  output: string
}
export interface RunCounts {
  passed: number
  failed: number
  skipped: number
  failures: string[]
  lines: string[]
}
export function runVitest(options?: { node?: string; runtimeArgs?: string[]; args?: string[]; cwd?: string; vitest?: string; stdio?: 'inherit' | 'pipe' }): VitestRun
export function readAllowList(file: string): Record<string, string>
export function countVitestRun(label: string, run: VitestRun, options?: { allowList?: Record<string, string>; root?: string }): RunCounts

// The layers point one way (ARCHITECTURE.md): src/core imports nothing outside src/core, no Node
// built-in and no package: only the platform's Web APIs. Adapters, stores, compat entries and
// createSessions sit above it.
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const SRC = fileURLToPath(new URL('../../src/', import.meta.url))
const CORE = join(SRC, 'core')

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : /\.ts$/.test(entry.name) && !/\.test(-d)?\.ts$/.test(entry.name) ? [join(dir, entry.name)] : [],
  )
}

/** Every module specifier a file imports or re-exports, type-only imports included. */
export function specifiers(code: string): string[] {
  const found: string[] = []
  const pattern = /(?:^|\n)\s*(?:import|export)\b[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g
  for (const match of code.matchAll(pattern)) found.push((match[1] ?? match[2] ?? match[3])!)
  return found
}

/** Imports of a core file that leave src/core (a relative path outside it, a package, a node: built-in). */
function outward(file: string, code: string): string[] {
  return specifiers(code)
    .filter((specifier) => !specifier.startsWith('.') || !resolve(file, '..', specifier).startsWith(CORE + '/'))
    .map((specifier) => `${relative(SRC, file)} imports ${specifier}`)
}

describe('layers', () => {
  it('src/core imports nothing outside src/core: no adapters, stores, compat, node: built-ins or packages', () => {
    const files = sources(CORE)
    expect(files.length).toBeGreaterThan(10)
    expect(files.flatMap((file) => outward(file, readFileSync(file, 'utf8')))).toEqual([])
  })

  it('the check catches each kind of outward import', () => {
    const file = join(CORE, 'example.ts')
    const code = [
      "import type { NodeRequest } from '../adapters/shapes.js'",
      "import { MemoryStore } from '../stores/memory-store.js'",
      "export { x } from '../compat/next-session.js'",
      "import { createHmac } from 'node:crypto'",
      "import 'next/headers.js'",
      "const lazy = import('../adapters/autocommit.js')",
      "import { isObject } from './plain.js'",
    ].join('\n')
    expect(outward(file, code)).toEqual([
      'core/example.ts imports ../adapters/shapes.js',
      'core/example.ts imports ../stores/memory-store.js',
      'core/example.ts imports ../compat/next-session.js',
      'core/example.ts imports node:crypto',
      'core/example.ts imports next/headers.js',
      'core/example.ts imports ../adapters/autocommit.js',
    ])
  })

  it('src/core reaches no Node API through globals either (process.getBuiltinModule, require, Buffer)', () => {
    const uses = sources(CORE).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/\b(process\.getBuiltinModule|require\(|Buffer\.)/g)].map((m) => `${relative(SRC, file)}: ${m[1]}`),
    )
    expect(uses).toEqual([])
  })
})

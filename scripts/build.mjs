// Builds dist/esm (ES modules) and dist/cjs (CommonJS), each with its own declarations, with tsc.
import { execFileSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'

const tsc = (project) => execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', project], { stdio: 'inherit' })

rmSync('dist', { recursive: true, force: true })
tsc('tsconfig.build.json')
tsc('tsconfig.cjs.json')
mkdirSync('dist/cjs', { recursive: true })
// The package is "type": "module"; this marks the CommonJS half (and its .d.ts) as CommonJS.
writeFileSync('dist/cjs/package.json', '{ "type": "commonjs" }\n')
console.log('built dist/esm and dist/cjs')

#!/usr/bin/env node
// `node scripts/docs-check.mjs` (a step of `npm test`; needs `npm run build` first): the docs as
// a reader copies them.
//
//   1. Every ```ts / ```tsx block of README.md and docs/**/*.md is type-checked, against `tessera`
//      as installed (node_modules/tessera → this repository: its package.json exports and the
//      built dist types) and the repository's node_modules (next, react, ioredis, pg, ...).
//      The blocks of one page compile together, as one project: a block whose first line names a
//      file (`// lib/session.ts`, `// app/actions.ts`) is written there, so the others import it
//      (`@/lib/session`); any other block is a module of its own. A page that imports
//      `@/lib/session` without showing one gets next.md's. A block marked ```ts ignore is
//      deliberately partial: it is counted and listed, not compiled.
//      Other runtimes: a page's runtime globals (`Deno`, `Bun`, Workers' `KVNamespace`, ...) are
//      declared in scripts/docs-globals/<page>.d.ts, prepended to each of that page's blocks (so
//      no other page sees them), and `npm:pkg[@version][/sub]` (Deno's specifier) is `pkg[/sub]`.
//   2. A block whose first line is `// examples/next-app/<path>` is that demo file, byte for byte
//      (after the comment): the Next.js guide and the demo cannot drift apart.
//   3. Every `interface AppSession` in the docs is the same: the snippets compose.
//   4. The docs ship: `npm pack --dry-run` lists every page, LICENSE and CHANGELOG.md, and every
//      relative link in a shipped page points to a file that ships too.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join, posix, relative, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const out = join(root, '.cache', 'docs-check')
const DEMO = 'examples/next-app/'
const problems = []

function pages() {
  const list = ['README.md']
  const walk = (dir) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = posix.join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (entry.name.endsWith('.md')) list.push(path)
    }
  }
  walk('docs')
  return list
}

/** The fenced code blocks of a page: { lang, flags, code, line } (line: 1-based, of the first code line). */
function blocksOf(text) {
  const blocks = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w+)?(.*)$/.exec(lines[i])
    if (!open) continue
    const start = i + 1
    let end = start
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++
    blocks.push({ lang: open[1] ?? '', flags: open[2].trim().split(/\s+/).filter(Boolean), code: lines.slice(start, end).join('\n'), line: start + 1 })
    i = end
  }
  return blocks
}

const FILE_COMMENT = /^\/\/ ((?:[\w.@[\]-]+\/)*[\w.@[\]-]+\.(?:ts|tsx|mts))(?:\s|$)/

/** Rewrites `@/x` imports to relative ones from `file` (one project holds every page). */
function relativeAliases(code, file) {
  const up = posix.relative(posix.dirname(file), '.') || '.'
  return code.replace(/(['"])@\/([^'"]+)\1/g, (_, quote, rest) => `${quote}${up.startsWith('.') ? up : `./${up}`}/${rest}${quote}`)
}

/** Deno's `npm:pkg@version/sub` is `pkg/sub` from node_modules (the same package, as Deno resolves it). */
function npmSpecifiers(code) {
  return code.replace(/(['"])npm:((?:@[^/'"@]+\/)?[^/'"@]+)(?:@[^/'"]*)?(\/[^'"]*)?\1/g, (_, quote, name, sub = '') => `${quote}${name}${sub}${quote}`)
}

/** The runtime globals a page's snippets use: scripts/docs-globals/<page>.d.ts, if there is one. */
function globalsOf(page) {
  const file = posix.join('scripts/docs-globals', page.replace(/\.md$/, '.d.ts'))
  if (!existsSync(join(root, file))) return undefined
  const text = readFileSync(join(root, file), 'utf8').replace(/\n*$/, '\n')
  return { file, text, lines: text.split('\n').length - 1 }
}

rmSync(out, { recursive: true, force: true })
mkdirSync(join(out, 'node_modules'), { recursive: true })
symlinkSync(root, join(out, 'node_modules', 'tessera'), 'dir')
if (!existsSync(join(root, 'dist', 'esm', 'index.d.ts'))) problems.push('dist/ is missing: run `npm run build` first')

let checked = 0
const ignored = []
let demoSnippets = 0
const appSessions = new Map() // normalized declaration -> first place seen
const origin = new Map() // generated file -> { page, line }
const all = pages().map((page) => ({ page, blocks: blocksOf(readFileSync(join(root, page), 'utf8')) }))

/** The blocks of a page that are files, by path (demo files without their `examples/next-app/`). */
function namedFiles(blocks) {
  const files = new Map()
  for (const block of blocks) {
    const named = FILE_COMMENT.exec(block.code)?.[1]
    if (named && !block.flags.includes('ignore') && !files.has(named.replace(DEMO, ''))) files.set(named.replace(DEMO, ''), block.code)
  }
  return files
}
// The Next.js guide's files (lib/session.ts, lib/csrf.tsx, ...) are what the other pages import as `@/...`.
const guide = namedFiles(all.find((p) => p.page === 'docs/next.md')?.blocks ?? [])
if (!guide.has('lib/session.ts')) problems.push('docs/next.md has no `// lib/session.ts` block: the other pages import theirs from it')

for (const { page, blocks } of all) {
  const slug = page.replace(/\.md$/, '').replace(/[/.]/g, '_')
  const files = new Map()
  blocks.forEach((block, index) => {
    if (!['ts', 'tsx', 'typescript'].includes(block.lang)) return
    if (block.flags.includes('ignore')) {
      ignored.push(`${page}:${block.line}`)
      return
    }
    const named = FILE_COMMENT.exec(block.code)?.[1]
    if (named?.startsWith(DEMO)) {
      demoSnippets++
      const demoFile = join(root, named)
      const body = block.code.slice(block.code.indexOf('\n') + 1)
      if (!existsSync(demoFile)) problems.push(`${page}:${block.line}: names ${named}, which does not exist`)
      else if (readFileSync(demoFile, 'utf8').trimEnd() !== body.trimEnd()) {
        problems.push(`${page}:${block.line}: differs from ${named} (the snippet says it is that file: copy the file into the page)`)
      }
    }
    for (const match of block.code.matchAll(/interface AppSession \{[^}]*\}(?:[^}]*\})?/g)) {
      const declaration = match[0].replace(/\s+/g, ' ')
      if (!appSessions.has(declaration)) appSessions.set(declaration, `${page}:${block.line}`)
    }
    let file = named ? named.replace(DEMO, '') : `block-${index}.${block.lang === 'tsx' ? 'tsx' : 'ts'}`
    if (files.has(file)) file = `block-${index}-${posix.basename(file)}`
    files.set(file, block)
  })
  // `@/x` that the page does not show: the Next.js guide's file, and what that one imports.
  for (let grew = true; grew; ) {
    grew = false
    for (const block of [...files.values()]) {
      for (const [, path] of block.code.matchAll(/['"]@\/([^'"]+)['"]/g)) {
        const candidates = [`${path}.ts`, `${path}.tsx`, path]
        if (candidates.some((c) => files.has(c))) continue
        const found = candidates.find((c) => guide.has(c))
        if (!found) continue
        files.set(found, { code: guide.get(found), line: 0, borrowed: found })
        grew = true
      }
    }
  }
  const globals = globalsOf(page)
  for (const [file, block] of files) {
    const target = join(out, slug, file)
    mkdirSync(dirname(target), { recursive: true })
    writeFileSync(target, (globals?.text ?? '') + npmSpecifiers(relativeAliases(block.code, file)) + '\n')
    origin.set(relative(out, target), { ...(block.borrowed ? { page: `docs/next.md (${block.borrowed}, for ${page})`, line: 0 } : { page, line: block.line }), globals })
    if (!block.borrowed) checked++
  }
}

if (appSessions.size > 1) {
  problems.push(`the docs declare AppSession ${appSessions.size} different ways (one type across the docs, so snippets compose):\n    ${[...appSessions].map(([d, at]) => `${at}: ${d}`).join('\n    ')}`)
}

writeFileSync(
  join(out, 'tsconfig.json'),
  JSON.stringify(
    {
      compilerOptions: {
        target: 'ES2022',
        lib: ['dom', 'dom.iterable', 'esnext'],
        module: 'esnext',
        moduleResolution: 'bundler',
        moduleDetection: 'force',
        jsx: 'react-jsx',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        esModuleInterop: true,
        isolatedModules: true,
        types: ['node'],
        typeRoots: [join(root, 'node_modules', '@types')],
      },
      include: ['**/*.ts', '**/*.tsx', '**/*.mts'],
      exclude: ['node_modules'],
    },
    null,
    2,
  ),
)

let tscOutput = ''
try {
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', out], { cwd: out, encoding: 'utf8', stdio: 'pipe' })
} catch (error) {
  tscOutput = `${error.stdout ?? ''}${error.stderr ?? ''}`
}
if (tscOutput) {
  // Point each error at the page and line the reader sees.
  const located = tscOutput.replace(/^([^\s(]+)\((\d+),(\d+)\)/gm, (whole, file, line) => {
    const from = origin.get(file)
    if (!from) return whole
    const inBlock = Number(line) - (from.globals?.lines ?? 0)
    return inBlock < 1 ? `${from.globals.file}:${line} (${file})` : `${from.page}:${from.line + inBlock - 1} (${file})`
  })
  problems.push(`tsc found errors in the docs' TypeScript:\n${located.trimEnd()}`)
}

/** GitHub's anchors for the headings of a page: lower case, punctuation dropped, spaces to hyphens. */
function anchors(page) {
  const text = readFileSync(join(root, page), 'utf8').replace(/^```[\s\S]*?^```/gm, '')
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map(([, title]) => title.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-')))
}

// The docs ship with the package, and their relative links (and anchors) lead somewhere inside it.
try {
  const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))
  const shipped = new Set(pack.files.map((f) => f.path))
  for (const need of [...pages(), 'LICENSE', 'CHANGELOG.md']) if (!shipped.has(need)) problems.push(`npm pack does not ship ${need}`)
  for (const page of pages()) {
    if (!shipped.has(page)) continue
    for (const [, target] of readFileSync(join(root, page), 'utf8').matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target)) continue
      const [file, anchor] = target.split('#')
      const path = file ? posix.normalize(posix.join(posix.dirname(page), file)) : page
      if (!shipped.has(path)) problems.push(`${page}: the link (${target}) leads to ${path}, which the package does not ship: link it absolutely`)
      else if (anchor && path.endsWith('.md') && !anchors(path).has(anchor)) problems.push(`${page}: the link (${target}) names no heading of ${path}`)
    }
  }
} catch (error) {
  problems.push(`npm pack --dry-run failed: ${error.message}`)
}

console.log(`docs-check: ${checked} TypeScript blocks type-checked on ${all.length} pages; ${demoSnippets} of them are demo files, compared byte for byte; ${ignored.length} marked ignore${ignored.length ? ` (${ignored.join(', ')})` : ''}`)
if (problems.length) {
  console.error(`\n${problems.map((p) => `docs-check: ${p}`).join('\n\n')}`)
  process.exit(1)
}

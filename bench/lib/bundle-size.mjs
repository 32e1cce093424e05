// The Edge bundle size (issue 16): what a Next.js middleware / Edge route that uses
// `createSessions` + `CookieStore` + `tessera/next` ships, against iron-session 9's
// `getIronSession`. esbuild --bundle --minify --platform=browser --format=esm, `next` external,
// gzip -9. Tessera is bundled from src: `tessera` → src/index.edge.ts (what the `edge-light` /
// `worker` export conditions resolve to), `tessera/next` → src/next.ts. Used by `npm run bench`
// and by test/edge/bundle-size.test.ts (the size budget).
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

export const TESSERA_EDGE_ENTRY =
  "export { createSessions, CookieStore } from 'tessera'\nexport { getSession, refreshSession } from 'tessera/next'\n"
export const IRON_SESSION_ENTRY = "export { getIronSession } from 'iron-session-9'\n"

const tesseraFromSrc = {
  name: 'tessera-from-src',
  setup(b) {
    b.onResolve({ filter: /^tessera(\/next)?$/ }, (args) => ({
      path: path.join(ROOT, 'src', args.path === 'tessera' ? 'index.edge.ts' : 'next.ts'),
    }))
  },
}

/** Bundles `contents` as an Edge route would ship it: `{ minified, gzipped, inputs }` in bytes. */
export async function bundleSize(contents) {
  const result = await build({
    stdin: { contents, resolveDir: ROOT, loader: 'ts' },
    bundle: true,
    minify: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    conditions: ['edge-light'],
    external: ['next', 'next/*'],
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [tesseraFromSrc],
  })
  const code = result.outputFiles[0].contents
  const inputs = Object.entries(result.metafile.outputs)[0][1].inputs
  const byInput = Object.entries(inputs)
    .map(([file, { bytesInOutput }]) => ({ file, bytes: bytesInOutput }))
    .sort((a, b) => b.bytes - a.bytes)
  return { minified: code.length, gzipped: gzipSync(code, { level: 9 }).length, inputs: byInput }
}

/** Both bundles: `{ tessera, ironSession }`. */
export async function edgeBundleSizes() {
  return { tessera: await bundleSize(TESSERA_EDGE_ENTRY), ironSession: await bundleSize(IRON_SESSION_ENTRY) }
}

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`

/** The RESULTS.md section. */
export function bundleMarkdown(sizes) {
  return [
    '## Edge bundle size',
    '',
    'esbuild --bundle --minify --platform=browser --format=esm (next external), gzip -9. Budget: ≤ 8 KB gzipped (issue 16); ' +
      'test/edge/bundle-size.test.ts fails if Tessera\'s grows past its committed figure.',
    '',
    '| bundle | minified | gzipped |',
    '| --- | ---: | ---: |',
    `| Tessera: \`createSessions\`, \`CookieStore\` (tessera, Edge build) + \`getSession\`, \`refreshSession\` (tessera/next) | ${kb(sizes.tessera.minified)} | ${kb(sizes.tessera.gzipped)} |`,
    `| iron-session 9: \`getIronSession\` | ${kb(sizes.ironSession.minified)} | ${kb(sizes.ironSession.gzipped)} |`,
  ]
}

// `node bench/lib/bundle-size.mjs`: the section alone, with each bundle's largest inputs.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const sizes = await edgeBundleSizes()
  console.log(bundleMarkdown(sizes).join('\n'))
  for (const [name, { inputs }] of Object.entries(sizes)) {
    console.log(`\n${name}, largest inputs (minified bytes in the bundle):`)
    for (const { file, bytes } of inputs.slice(0, 12)) console.log(`  ${String(bytes).padStart(6)}  ${file}`)
  }
}

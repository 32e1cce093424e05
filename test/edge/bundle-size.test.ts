// The Edge bundle size budget (issue 16): `createSessions` + `CookieStore` (tessera, Edge build) +
// `getSession`, `refreshSession` (tessera/next), minified and gzipped as bench/lib/bundle-size.mjs
// bundles it for `npm run bench`. The budget is the figure reached, rounded up a little: raise it
// only on purpose, in the commit that makes the bundle grow.
import { describe, expect, it } from 'vitest'
// @ts-expect-error: a plain .mjs helper shared with the benchmark, no declarations
import { bundleSize, TESSERA_EDGE_ENTRY } from '../../bench/lib/bundle-size.mjs'

/** Gzipped bytes the Edge bundle may not exceed. */
const BUDGET_GZIPPED = 18 * 1024

describe('the Edge bundle size', () => {
  it(`stays within ${BUDGET_GZIPPED} bytes gzipped`, async () => {
    const size = (await bundleSize(TESSERA_EDGE_ENTRY)) as { minified: number; gzipped: number; inputs: { file: string; bytes: number }[] }
    const largest = size.inputs.slice(0, 8).map((i) => `${i.file} ${i.bytes}`).join(', ')
    console.log(`Edge bundle: ${size.minified} B minified, ${size.gzipped} B gzipped (budget ${BUDGET_GZIPPED}); largest: ${largest}`)
    expect(size.gzipped).toBeGreaterThan(1000)
    expect(size.gzipped, `largest inputs: ${largest}`).toBeLessThanOrEqual(BUDGET_GZIPPED)
  })
})

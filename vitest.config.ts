import { defineConfig } from 'vitest/config'

const exclude = ['**/node_modules/**', 'dist/**', 'examples/**']

/**
 * Files whose tests depend on time: a deadline, a measured duration, a server killed and waited
 * for, a browser driving Next.js. They run in the `serial` project, one file at a time and only
 * after the `parallel` project has finished (groupOrder), so a 2-core CI machine busy with the
 * other files cannot make them late.
 */
export const serialFiles = [
  'test/core/timeouts.test.ts',
  'test/stores/redis-outage.test.ts',
  'test/stores/redis-timeout.test.ts',
  'test/stores/postgres-restart.test.ts',
  'test/e2e/next.test.ts',
  // checklist 38 measures how long a request takes with Redis down.
  'test/security/checklist.test.ts',
]

/**
 * Tests that need Node 22.13+ (iron-session 9 interop: the real package requires it). They run only
 * when vitest itself runs on Node 22 or later: scripts/test.mjs runs them in its Node 22 pass and
 * reports their count there, so they are never skipped silently.
 */
export const node22Files = ['test/node22/**/*.test.ts']
const node22 = Number(process.versions.node.split('.')[0]) >= 22

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'parallel',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: [...exclude, ...serialFiles, ...node22Files],
          sequence: { groupOrder: 0 },
          typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
        },
      },
      {
        extends: true,
        test: {
          name: 'serial',
          include: serialFiles,
          exclude,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
      ...(node22 ? [{ extends: true, test: { name: 'node22', include: node22Files, exclude, sequence: { groupOrder: 0 } } }] : []),
    ],
  },
})

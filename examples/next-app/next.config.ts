import path from 'node:path'
import type { NextConfig } from 'next'

// The repository root: `tessera` is a symlink to it (npm workspace), and Turbopack only follows
// symlinks that stay inside its root.
const root = path.join(__dirname, '../..')

const nextConfig: NextConfig = {
  turbopack: { root },
  outputFileTracingRoot: root,
}

export default nextConfig

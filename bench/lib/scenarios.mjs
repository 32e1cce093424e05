// Every scenario the bench runs: which server file serves it, what it needs, how it is checked,
// where it sits in the chart, and (Tessera rows) the DESIGN.md target it must reach.

/**
 * @typedef {object} Target
 * @property {'read' | 'modify'} path   the Tessera path measured
 * @property {string} ref               the scenario it is compared with ('bare' = the round's bare mean)
 * @property {'read' | 'modify'} refPath
 * @property {number} min               ratio to reach
 * @property {string} text              as DESIGN.md states it
 */

/**
 * @typedef {object} Scenario
 * @property {string} name
 * @property {string} file          under bench/servers/
 * @property {string} label         for tables and the chart
 * @property {'floor' | 'tessera' | 'peer'} kind
 * @property {string} group         chart group
 * @property {'none' | 'cookie-every' | 'session'} check
 * @property {('redis' | 'postgres' | 'upstash')[]} [needs]   'upstash': the local Upstash REST server (in front of the redis-server)
 * @property {{ entry: string, export: string }} [requires]  an optional Tessera entry (skipped when not built)
 * @property {Target[]} [targets]
 * @property {string} [serve]       the scenario name the server file is started with (a variant's base)
 * @property {Record<string, string>} [env]  extra environment of the server (a variant's switches)
 */

/** @type {Scenario[]} */
const BASE = [
  { name: 'bare', file: 'floors.mjs', label: 'bare node:http', kind: 'floor', group: 'floors', check: 'none' },
  { name: 'bare-cookie', file: 'floors.mjs', label: 'bare + cookie parse/set', kind: 'floor', group: 'floors', check: 'cookie-every' },
  { name: 'bare-map', file: 'floors.mjs', label: 'bare Map session', kind: 'floor', group: 'memory', check: 'session' },
  {
    name: 'tessera-memory',
    file: 'tessera.mjs',
    label: 'Tessera memory',
    kind: 'tessera',
    group: 'memory',
    check: 'session',
    targets: [
      { path: 'read', ref: 'bare-map', refPath: 'read', min: 0.9, text: 'read ≥ 0.90 × bare-map read' },
      { path: 'modify', ref: 'bare-map', refPath: 'read', min: 0.85, text: 'modify ≥ 0.85 × bare-map read' },
    ],
  },
  {
    name: 'tessera-signed',
    file: 'tessera.mjs',
    label: 'Tessera memory + secrets',
    kind: 'tessera',
    group: 'memory',
    check: 'session',
    targets: [{ path: 'read', ref: 'bare-map', refPath: 'read', min: 0.8, text: 'read ≥ 0.80 × bare-map read' }],
  },
  { name: 'next-session', file: 'next-session.mjs', label: 'next-session 4 memory', kind: 'peer', group: 'memory', check: 'session' },
  { name: 'express-session-http', file: 'express-session.mjs', label: 'express-session on node:http', kind: 'peer', group: 'memory', check: 'session' },
  {
    name: 'tessera-express',
    file: 'tessera.mjs',
    label: 'Tessera in Express',
    kind: 'tessera',
    group: 'Express',
    check: 'session',
    requires: { entry: 'tessera/node', export: 'sessionMiddleware' },
  },
  { name: 'express-session', file: 'express-session.mjs', label: 'express-session in Express', kind: 'peer', group: 'Express', check: 'session' },
  {
    name: 'tessera-cookie',
    file: 'tessera.mjs',
    label: 'Tessera cookie store',
    kind: 'tessera',
    group: 'cookie',
    check: 'session',
    requires: { entry: 'tessera', export: 'CookieStore' },
    targets: [
      { path: 'read', ref: 'bare', refPath: 'read', min: 0.5, text: 'read ≥ 0.50 × bare' },
      { path: 'modify', ref: 'bare', refPath: 'modify', min: 0.4, text: 'modify ≥ 0.40 × bare' },
    ],
  },
  { name: 'iron-session', file: 'iron-session.mjs', label: 'iron-session 8', kind: 'peer', group: 'cookie', check: 'session' },
  { name: 'bare-redis', file: 'floors.mjs', label: 'bare Redis GET/SET', kind: 'floor', group: 'Redis', check: 'session', needs: ['redis'] },
  {
    name: 'tessera-redis',
    file: 'tessera.mjs',
    label: 'Tessera Redis',
    kind: 'tessera',
    group: 'Redis',
    check: 'session',
    needs: ['redis'],
    requires: { entry: 'tessera/redis', export: 'RedisStore' },
    targets: [
      { path: 'read', ref: 'bare-redis', refPath: 'read', min: 0.9, text: 'read ≥ 0.90 × bare-redis read' },
      { path: 'modify', ref: 'bare-redis', refPath: 'modify', min: 0.8, text: 'modify ≥ 0.80 × bare-redis modify' },
    ],
  },
  { name: 'next-session-redis', file: 'next-session.mjs', label: 'next-session + connect-redis', kind: 'peer', group: 'Redis', check: 'session', needs: ['redis'] },
  { name: 'express-session-redis', file: 'express-session.mjs', label: 'express-session + connect-redis', kind: 'peer', group: 'Redis', check: 'session', needs: ['redis'] },
  { name: 'bare-upstash', file: 'floors.mjs', label: 'bare Upstash GET/SET (REST)', kind: 'floor', group: 'Upstash', check: 'session', needs: ['redis', 'upstash'] },
  {
    name: 'tessera-upstash',
    file: 'tessera.mjs',
    label: 'Tessera Upstash (REST)',
    kind: 'tessera',
    group: 'Upstash',
    check: 'session',
    needs: ['redis', 'upstash'],
    requires: { entry: 'tessera/upstash', export: 'UpstashStore' },
    targets: [
      { path: 'read', ref: 'bare-upstash', refPath: 'read', min: 0.9, text: 'read ≥ 0.90 × bare-upstash read' },
      { path: 'modify', ref: 'bare-upstash', refPath: 'modify', min: 0.8, text: 'modify ≥ 0.80 × bare-upstash modify' },
    ],
  },
  {
    name: 'tessera-postgres',
    file: 'tessera.mjs',
    label: 'Tessera PostgreSQL',
    kind: 'tessera',
    group: 'PostgreSQL',
    check: 'session',
    needs: ['postgres'],
    requires: { entry: 'tessera/postgres', export: 'PostgresStore' },
  },
]

/**
 * BENCH_VARIANTS='name:KEY=VALUE,KEY=VALUE;name2:KEY=VALUE' runs every selected Tessera scenario
 * a second time (as `<scenario>~<name>`, right after it in every round) with those variables in
 * its server's environment, so two builds or two switches are compared within one run. The
 * Tessera server reads BENCH_TESSERA_DIST (another build's dist/ directory) and
 * BENCH_HIDE_NODE_BUILTINS=1 (no `process.getBuiltinModule`: the Web Crypto path, as on Edge).
 * Variants have no targets; BENCH_ONLY selects them by their base name.
 */
function withVariants(scenarios, raw) {
  if (!raw) return scenarios
  const variants = raw.split(';').filter(Boolean).map((spec) => {
    const colon = spec.indexOf(':')
    const name = colon === -1 ? spec : spec.slice(0, colon)
    if (!/^[\w-]+$/.test(name)) throw new TypeError(`BENCH_VARIANTS: bad variant name ${JSON.stringify(name)}`)
    const env = {}
    for (const pair of colon === -1 ? [] : spec.slice(colon + 1).split(',').filter(Boolean)) {
      const eq = pair.indexOf('=')
      if (eq < 1) throw new TypeError(`BENCH_VARIANTS: ${JSON.stringify(pair)} is not KEY=VALUE`)
      env[pair.slice(0, eq)] = pair.slice(eq + 1)
    }
    return { name, env }
  })
  return scenarios.flatMap((sc) =>
    sc.kind !== 'tessera'
      ? [sc]
      : [sc, ...variants.map((v) => ({ ...sc, name: `${sc.name}~${v.name}`, label: `${sc.label} [${v.name}]`, serve: sc.name, env: v.env, targets: undefined }))],
  )
}

export const SCENARIOS = withVariants(BASE, process.env.BENCH_VARIANTS)

export const PATHS = /** @type {const} */ (['read', 'modify'])

/** Memory targets (bench/memory.mjs). */
export const MEMORY_TARGETS = {
  bytesPerSession: { max: 200, text: '≤ 200 bytes/session beyond the payload' },
  expiredFreed: { min: 0.9, text: 'expired sessions freed within one sweep (≥ 90 % of their heap back)' },
}

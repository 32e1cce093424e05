#!/usr/bin/env node
// CPU per crypto operation on the two backends of src/core/crypto.ts, interleaved in one process
// so that the machine's load drifts alike for both (decisions/crypto.md):
//   node bench/crypto.mjs [dist = ./dist]
// CPU = process.cpuUsage() over all threads (Web Crypto's thread-pool work counts), 50 operations
// in flight like the bench's 50 connections, median of ROUNDS rounds. Needs `npm run build`.
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const dist = path.resolve(process.argv[2] ?? 'dist')
const load = (file) => import(pathToFileURL(path.join(dist, 'esm/core', file)).href)
const { webBackend, sha256Bytes } = await load('crypto.js')
const { nodeBackend } = await import(pathToFileURL(path.join(dist, 'esm/adapters/node-crypto.js')).href)
const { Sealer } = await load('seal.js')
const { Signer } = await load('sign.js')
if (!nodeBackend) throw new Error('node:crypto is not reachable here (process.getBuiltinModule): nothing to compare')

const SECRET = 'bench-secret-0123456789abcdefghijklmnopqrstuvwxyz'
const N = 400
const ROUNDS = Number(process.env.ROUNDS ?? 30)
const IN_FLIGHT = 50
// What the cookie store seals for the bench's session: its JSON with the 103-byte payload.
const payload = JSON.stringify({ v: 1, i: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG', d: { n: 7, user: { id: 'u_12345', name: 'Ana Example', roles: ['admin', 'editor'] }, theme: 'dark', cart: [1, 2, 3] }, c: 1765000000000, e: 1766209600000 })

async function cpuPerOp(op) {
  const start = process.cpuUsage()
  for (let i = 0; i < N; i += IN_FLIGHT) await Promise.all(Array.from({ length: IN_FLIGHT }, () => op()))
  const used = process.cpuUsage(start)
  return (used.user + used.system) / N
}
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1]

const backends = { node: nodeBackend, web: webBackend }
const sealers = Object.fromEntries(Object.entries(backends).map(([name, b]) => [name, new Sealer([SECRET], b)]))
const signers = Object.fromEntries(Object.entries(backends).map(([name, b]) => [name, new Signer([SECRET], b)]))
// Values sealed or signed elsewhere, each offered once: the open-cache and the verified-id cache never answer.
const otherSealer = new Sealer([SECRET], nodeBackend)
const otherSigner = new Signer([SECRET], nodeBackend)
const fresh = { sealed: [], signed: [] }
for (let i = 0; i < N * ROUNDS * 2; i++) {
  fresh.sealed.push(await otherSealer.seal(payload))
  fresh.signed.push(await otherSigner.sign(`id-${String(i).padStart(24, '0')}-abcdefghijklmn`))
}
const next = { sealed: 0, signed: 0 }
const ids = Array.from({ length: N }, (_, i) => `id-${String(i).padStart(24, '0')}-abcdefghijklmn`)
let idAt = 0
const ops = {
  'seal (cookie store commit)': (b) => () => sealers[b].seal(payload),
  'open, not remembered (cookie store read)': (b) => () => sealers[b].open(fresh.sealed[next.sealed++]),
  'open, remembered': (b) => () => sealers[b].open(fresh.sealed[0]),
  'sign id (new session)': (b) => () => signers[b].sign(ids[idAt++ % N]),
  'unsign id, not remembered': (b) => () => signers[b].unsign(fresh.signed[next.signed++]),
  'sha256 (hashIds, every request)': (b) => () => sha256Bytes(ids[idAt++ % N], backends[b]),
  '12-byte IV: getRandomValues each (node) / from a pool of 128 (web column)': (b) => (b === 'node' ? () => crypto.getRandomValues(new Uint8Array(12)) : pooledIv),
}
let pool = new Uint8Array(0)
let poolAt = 0
function pooledIv() {
  if (poolAt === pool.length) {
    pool = crypto.getRandomValues(new Uint8Array(12 * 128))
    poolAt = 0
  }
  poolAt += 12
  return pool.subarray(poolAt - 12, poolAt)
}
const results = {}
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, op] of Object.entries(ops)) {
    for (const b of round % 2 ? ['web', 'node'] : ['node', 'web']) ((results[name] ??= { node: [], web: [] })[b]).push(await cpuPerOp(op(b)))
  }
}
console.log(`CPU µs per operation, median of ${ROUNDS} interleaved rounds × ${N} operations, ${IN_FLIGHT} in flight (Node ${process.versions.node})`)
console.log('| operation | node:crypto | Web Crypto | Web − node |')
console.log('| --- | ---: | ---: | ---: |')
for (const [name, r] of Object.entries(results)) {
  const [n, w] = [median(r.node), median(r.web)]
  console.log(`| ${name} | ${n.toFixed(1)} | ${w.toFixed(1)} | ${(w - n).toFixed(1)} |`)
}

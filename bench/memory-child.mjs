// One memory measurement in a fresh process (started by bench/memory.mjs with --expose-gc):
//   node --expose-gc bench/memory-child.mjs <tessera|next-session|express-session> <scale|expiry> <N>
// Prints one JSON line.
//   scale:  N sessions with the 103-byte payload, each through the store's own `set`; heap
//           bytes per session after full GC.
//   expiry: the same N sessions living 1 s; no request afterwards; how much of their heap is back
//           after the last expiry + EARLY s and + LATE s.
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { PAYLOAD_BYTES, payload } from './lib/payload.mjs'

export const EARLY_SECONDS = 2 // one 1-second sweep interval plus a second of slack
export const LATE_SECONDS = 5
const LIFETIME_MS = 1000

const [kind, mode, nArg] = process.argv.slice(2)
const N = Number(nArg)
if (typeof gc !== 'function') throw new Error('run with --expose-gc')

function heap() {
  for (let i = 0; i < 4; i++) gc()
  return process.memoryUsage().heapUsed
}
/** Off-heap memory (Buffers, ArrayBuffers): reported too, so no store can hide its sessions there. */
function external() {
  const m = process.memoryUsage()
  return m.external + m.arrayBuffers
}

/** Each library's own id shape and length. */
async function idMaker() {
  if (kind === 'tessera') return () => randomBytes(32).toString('base64url') // 43 chars, like Tessera's generateId
  if (kind === 'next-session') {
    const { nanoid } = await import('nanoid') // what next-session uses: 21 chars
    return () => nanoid()
  }
  const { default: uid } = await import('uid-safe') // what express-session uses: uid(24), 32 chars
  return () => uid.sync(24)
}

/** A store plus `put(id, i)` that writes one session the way the library does, and `size()`. */
async function makeStore(lifetime) {
  if (kind === 'tessera') {
    const { MemoryStore } = await import('tessera')
    const store = new MemoryStore(lifetime ? { sweepInterval: 1 } : {})
    const ttl = lifetime ? LIFETIME_MS : 14 * 24 * 3600 * 1000
    return {
      store,
      put: (id, i) => {
        const now = Date.now()
        return store.set(id, { data: payload(i), createdAt: now, expiresAt: now + ttl })
      },
      size: () => store.size,
    }
  }
  if (kind === 'next-session') {
    // Not in next-session's exports map: the file next-session itself uses by default.
    const { default: MemoryStore } = await import(new URL('../node_modules/next-session/lib/memory-store.js', import.meta.url).href)
    const store = new MemoryStore()
    return {
      store,
      // The session object next-session builds (its cookie defaults; maxAge in seconds when set).
      put: (id, i) => {
        const cookie = { path: '/', httpOnly: true, domain: undefined, sameSite: undefined, secure: false }
        if (lifetime) {
          cookie.maxAge = LIFETIME_MS / 1000
          cookie.expires = new Date(Date.now() + LIFETIME_MS)
        }
        return store.set(id, { ...payload(i), cookie })
      },
      size: () => store.store.size,
    }
  }
  const { default: session } = await import('express-session')
  const store = new session.MemoryStore()
  return {
    store,
    // The session express-session saves: its Cookie (maxAge in ms when set) plus the data.
    put: (id, i) => {
      const sess = { cookie: new session.Cookie(lifetime ? { maxAge: LIFETIME_MS } : {}), ...payload(i) }
      store.set(id, sess)
    },
    size: () => Object.keys(store.sessions).length,
  }
}

const newId = await idMaker()
const lifetime = mode === 'expiry'
const { store, put, size } = await makeStore(lifetime)
const sampleId = newId()
const before = heap()
const externalBefore = external()
const t0 = Date.now()
let lastSetAt = 0
for (let i = 0; i < N; i++) {
  await put(newId(), i)
  if (lifetime) lastSetAt = Date.now()
}
const fillSeconds = (Date.now() - t0) / 1000
const filled = heap()
const result = {
  kind,
  mode,
  sessions: N,
  idLength: sampleId.length,
  payloadBytes: PAYLOAD_BYTES,
  fillSeconds,
  bytesPerSession: (filled - before) / N,
  bytesBeyondPayload: (filled - before) / N - PAYLOAD_BYTES,
  externalBytesPerSession: (external() - externalBefore) / N,
}
if (lifetime) {
  const lastExpiry = lastSetAt + LIFETIME_MS
  const taken = filled - before
  await sleep(Math.max(0, lastExpiry + EARLY_SECONDS * 1000 - Date.now()))
  const early = heap()
  await sleep(Math.max(0, lastExpiry + LATE_SECONDS * 1000 - Date.now()))
  const late = heap()
  Object.assign(result, {
    earlySeconds: EARLY_SECONDS,
    lateSeconds: LATE_SECONDS,
    freedEarly: (filled - early) / taken,
    freedLate: (filled - late) / taken,
    entriesLeft: size(),
  })
}
void store
process.stdout.write(JSON.stringify(result) + '\n')

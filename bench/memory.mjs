#!/usr/bin/env node
// Memory scale: BENCH_SESSIONS (default 1,000,000) sessions with a 103-byte JSON payload in
// Tessera's MemoryStore, next-session's MemoryStore and express-session's MemoryStore, each in a
// fresh `node --expose-gc` process (bench/memory-child.mjs):
//   - heap bytes per session beyond the payload, after full GC
//   - with a 1-second lifetime (Tessera: MemoryStore({ sweepInterval: 1 })), how much of that
//     heap is back a few seconds after the last expiry, with no request
// Run by bench/run.mjs after the HTTP rounds, or alone: node bench/memory.mjs
import { spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { PAYLOAD_BYTES } from './lib/payload.mjs'
import { memoryMarkdown } from './lib/report.mjs'
import { installCleanup, track } from './lib/services.mjs'

const BENCH = path.dirname(fileURLToPath(import.meta.url))
const KINDS = ['tessera', 'next-session', 'express-session']

function child(kind, mode, sessions) {
  return new Promise((resolve) => {
    const proc = track(
      spawn(process.execPath, ['--expose-gc', '--max-old-space-size=8192', path.join(BENCH, 'memory-child.mjs'), kind, mode, String(sessions)], {
        cwd: path.dirname(BENCH),
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    )
    let out = ''
    let err = ''
    proc.stdout.on('data', (c) => (out += c))
    proc.stderr.on('data', (c) => (err = (err + c).slice(-2000)))
    proc.once('exit', (code, signal) => {
      try {
        if (code !== 0) throw new Error(`exited ${signal ?? code}: ${err.trim()}`)
        resolve(JSON.parse(out.trim().split('\n').pop()))
      } catch (error) {
        resolve({ error: error.message })
      }
    })
  })
}

/**
 * @param {{ sessions?: number, log?: (line: string) => void }} [options]
 */
export async function runMemoryBench({ sessions = 1_000_000, log = (line) => process.stderr.write(line + '\n') } = {}) {
  installCleanup()
  const memory = { sessions, payloadBytes: PAYLOAD_BYTES, lifetimeSeconds: 1, earlySeconds: undefined, lateSeconds: undefined }
  for (const kind of KINDS) {
    log(`memory: ${kind}, ${sessions.toLocaleString('en-US')} sessions (scale)…`)
    const scale = await child(kind, 'scale', sessions)
    log(`memory: ${kind}, ${sessions.toLocaleString('en-US')} sessions living 1 s (expiry)…`)
    const expiry = await child(kind, 'expiry', sessions)
    if (scale.error || expiry.error) {
      memory[kind] = { error: scale.error ?? expiry.error }
      continue
    }
    memory.earlySeconds = expiry.earlySeconds
    memory.lateSeconds = expiry.lateSeconds
    memory[kind] = { scale, expiry }
  }
  return memory
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const raw = process.env.BENCH_SESSIONS
  const sessions = raw ? Number(raw) : process.env.BENCH_QUICK === '1' ? 100_000 : 1_000_000
  if (!Number.isInteger(sessions) || sessions < 1) throw new TypeError(`BENCH_SESSIONS must be a positive integer, got ${raw}`)
  const memory = await runMemoryBench({ sessions })
  const md = memoryMarkdown(memory).join('\n')
  console.log(md)
  mkdirSync(path.join(BENCH, 'results'), { recursive: true })
  const file = path.join(BENCH, 'results', `memory-${new Date().toISOString().slice(0, 16).replace('T', '-').replace(':', '')}.json`)
  writeFileSync(file, JSON.stringify(memory, null, 2) + '\n')
  console.log(`\nmemory: wrote ${path.relative(path.dirname(BENCH), file)}`)
}

// Security review item 11: a server built exactly as docs/stores.md shows survives a PostgreSQL
// restart (pg emits 'error' on the Pool for idle clients the server terminated; with no listener
// Node ends the process) and serves again, with nothing acknowledged lost.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPostgres, type PostgresServer } from '../harness/postgres.js'
import { Jar } from '../helpers.js'
import { SECRET, sleep } from './support.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const FIXTURE = fileURLToPath(new URL('./fixtures/postgres-docs-server.mjs', import.meta.url))

let server: PostgresServer
let child: ChildProcess | undefined

beforeAll(async () => {
  // The fixture imports the built package, as an app does.
  if (!existsSync(`${ROOT}/dist/esm/postgres.js`)) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' })
  server = await startPostgres()
}, 180_000)

afterAll(async () => {
  child?.kill('SIGKILL')
  await server?.stop()
}, 60_000)

describe('PostgresStore and a PostgreSQL restart', () => {
  it('review 11: the process survives a restart of PostgreSQL and serves again, every acknowledged count kept', async () => {
    const app = spawn(process.execPath, [FIXTURE], {
      env: { ...process.env, DATABASE_URL: server.url, SESSION_SECRET: SECRET, NODE_ENV: 'test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child = app
    let stderr = ''
    app.stderr!.on('data', (chunk: Buffer) => (stderr += chunk))
    const exited = new Promise<number | null>((resolve) => app.on('exit', (code) => resolve(code)))
    const port = await new Promise<number>((resolve, reject) => {
      app.stdout!.once('data', (chunk: Buffer) => resolve(JSON.parse(String(chunk)).port))
      app.once('exit', () => reject(new Error(`the server exited before listening:\n${stderr}`)))
    })
    const url = `http://127.0.0.1:${port}/`
    const jar = new Jar()

    // Several requests at once, so the Pool holds several idle clients when the server goes.
    for (let round = 0; round < 4; round++) {
      const answers = await Promise.all([jar.fetch(url), new Jar().fetch(url), new Jar().fetch(url)])
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200])
    }
    expect(await (await jar.fetch(url)).json()).toEqual({ count: 5 })

    await server.restart()
    await sleep(300) // the terminated clients' 'error' events arrive

    expect(app.exitCode, `the app died:\n${stderr}`).toBe(null)
    let answer: { count?: number; error?: string } = {}
    const deadline = Date.now() + 15_000
    while (Date.now() < deadline) {
      const response = await jar.fetch(url)
      answer = await response.json()
      if (response.status === 200) break
      expect(answer.error).toBe('STORE_ERROR') // while it reconnects: a typed error, never a hang
      await sleep(200)
    }
    expect(answer).toEqual({ count: 6 })
    expect(stderr).toMatch(/PostgresStore: the pg Pool reported an error on an idle connection/)
    expect(stderr.match(/PostgresStore: the pg Pool/g)).toHaveLength(1) // warned once
    app.kill('SIGTERM')
    await exited
  }, 60_000)
})

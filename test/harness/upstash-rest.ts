// A local stand-in for the Upstash Redis REST API, in front of a real redis-server: enough of the
// protocol for `@upstash/redis` (read in node_modules/@upstash/redis, pkg/http.ts and
// pkg/pipeline.ts of 1.39) to run every command it sends for UpstashStore, the bench and the demo.
//
// Supported:
// - `POST /` with a JSON array body `["CMD", arg, ...]` (one command): 200 `{"result": …}`, or 400
//   `{"error": "ERR …"}` when Redis answers with an error (what the client turns into an
//   UpstashError).
// - `POST /pipeline` with a JSON array of commands: 200 with an array of `{"result"}` / `{"error"}`,
//   one per command, in order (what auto-pipelining, on by default in the Node client, sends).
// - `POST /multi-exec`: the same body, run inside MULTI/EXEC on a connection of its own; one
//   `{"error"}` entry per queued command that Redis refused.
// - `Authorization: Bearer <token>`: anything else is 401 `{"error": "Unauthorized"}`.
// - `Upstash-Encoding: base64` (the client's default): every bulk string in the result, at any
//   depth, is base64 of its bytes; integers stay JSON numbers, nil is `null`; a reply of exactly
//   `OK` is sent as is (the client leaves `OK` undecoded). Without the header, strings go as UTF-8.
// - Arguments may be JSON strings, numbers or booleans (sent to Redis as their text).
// Not supported: the path-style `GET /set/key/value` form, SSE subscriptions (`/subscribe`),
// `upstash-sync-token` semantics (ignored; one Redis is always in sync with itself).
//
// Every HTTP request is counted (`requests`), with the commands it carried (`log`), so tests can
// assert round trips. `stop()` closes the listener and every open connection (an outage for the
// client); `start()` listens again on the same port.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Redis } from 'ioredis'

export interface UpstashRest {
  /** http://127.0.0.1:PORT: the client's `url`. */
  readonly url: string
  readonly token: string
  readonly port: number
  /** False between `stop()` and `start()`. */
  readonly listening: boolean
  /** HTTP requests received since the start or the last `reset()`. */
  readonly requests: number
  /** Per request: its path and the command names it carried (upper case). */
  readonly log: readonly { path: string; commands: string[] }[]
  reset(): void
  /** Closes the listener and every open connection. */
  stop(): Promise<void>
  /** Listens again on the same port after `stop()`. */
  start(): Promise<void>
  /** Stops and disconnects from Redis. */
  close(): Promise<void>
}

type Reply = string | number | null | Buffer | Reply[] | Error

function encode(reply: Reply, base64: boolean): unknown {
  if (reply === null || typeof reply === 'number') return reply
  if (Array.isArray(reply)) return reply.map((item) => encode(item, base64))
  if (reply instanceof Error) return null
  const bytes = typeof reply === 'string' ? Buffer.from(reply) : reply
  if (!base64) return bytes.toString('utf8')
  // The client decodes every string but a literal OK from base64.
  return bytes.length === 2 && bytes.toString('latin1') === 'OK' ? 'OK' : bytes.toString('base64')
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function isCommand(value: unknown): value is (string | number | boolean)[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    typeof value[0] === 'string' &&
    value.every((arg) => typeof arg === 'string' || typeof arg === 'number' || typeof arg === 'boolean')
  )
}

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/** Starts the REST server on a free loopback port, forwarding to `redisUrl`. */
export async function startUpstashRest(options: { redisUrl: string; token?: string; /** Keep `log` (off for the bench). @default true */ log?: boolean }): Promise<UpstashRest> {
  const token = options.token ?? `test-token-${Math.random().toString(36).slice(2)}`
  // One connection for single commands and pipelines (ioredis pipelines them in order); MULTI/EXEC
  // blocks go one at a time over a second one, so no other command lands inside a transaction.
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 1 })
  const transactions = new Redis(options.redisUrl, { maxRetriesPerRequest: 1 })
  let queue: Promise<unknown> = Promise.resolve()
  let requests = 0
  const log: { path: string; commands: string[] }[] = []

  const run = async (command: (string | number | boolean)[]): Promise<Reply> => {
    const [name, ...args] = command.map(String)
    try {
      return (await redis.callBuffer(name!, ...args)) as Reply
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error))
    }
  }

  const multiExec = (commands: (string | number | boolean)[][]): Promise<Reply[]> => {
    const next = queue.then(async () => {
      const sent = [transactions.callBuffer('MULTI'), ...commands.map((c) => transactions.callBuffer(String(c[0]), ...c.slice(1).map(String)))]
      const exec = transactions.callBuffer('EXEC') as Promise<Reply[] | null>
      const queued = await Promise.allSettled(sent)
      const refused = queued.slice(1).map((r) => (r.status === 'rejected' ? (r.reason as Error) : undefined))
      const results = await exec.catch((error: unknown) => error as Error)
      if (results instanceof Error) return commands.map((_, i) => refused[i] ?? results)
      if (results === null) return commands.map(() => new Error('EXECABORT Transaction discarded'))
      return results
    })
    queue = next.catch(() => {})
    return next
  }

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body)
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
    res.end(text)
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    requests++
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    const entry = { path, commands: [] as string[] }
    if (options.log !== false) log.push(entry)
    const body = await readBody(req)
    if (req.headers.authorization !== `Bearer ${token}`) return send(res, 401, { error: 'Unauthorized' })
    if (req.method !== 'POST') return send(res, 405, { error: 'only POST is supported here' })
    let parsed: unknown
    try {
      parsed = JSON.parse(body)
    } catch {
      return send(res, 400, { error: 'ERR failed to parse the command' })
    }
    const base64 = String(req.headers['upstash-encoding'] ?? '').toLowerCase() === 'base64'
    if (path === '/') {
      if (!isCommand(parsed)) return send(res, 400, { error: 'ERR the body must be a JSON array command' })
      entry.commands.push(String(parsed[0]).toUpperCase())
      const reply = await run(parsed)
      if (reply instanceof Error) return send(res, 400, { error: reply.message })
      return send(res, 200, { result: encode(reply, base64) })
    }
    if (path === '/pipeline' || path === '/multi-exec') {
      if (!Array.isArray(parsed) || !parsed.every(isCommand)) return send(res, 400, { error: 'ERR the body must be a JSON array of commands' })
      const commands = parsed as (string | number | boolean)[][]
      entry.commands.push(...commands.map((c) => String(c[0]).toUpperCase()))
      const replies = path === '/pipeline' ? await Promise.all(commands.map(run)) : await multiExec(commands)
      return send(
        res,
        200,
        replies.map((reply) => (reply instanceof Error ? { error: reply.message } : { result: encode(reply, base64) })),
      )
    }
    return send(res, 404, { error: `ERR ${path} is not supported by the test harness` })
  }

  let server: Server | undefined
  let port = 0
  const listen = async (): Promise<void> => {
    const next = createServer((req, res) => {
      handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) send(res, 500, { error: errorText(error) })
        else res.destroy()
      })
    })
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject)
      next.listen(port, '127.0.0.1', () => {
        next.off('error', reject)
        resolve()
      })
    })
    port = (next.address() as AddressInfo).port
    server = next
  }
  const stop = async (): Promise<void> => {
    const current = server
    server = undefined
    if (current === undefined) return
    await new Promise<void>((resolve) => {
      current.close(() => resolve())
      current.closeAllConnections()
    })
  }

  await Promise.all([listen(), redis.ping(), transactions.ping()])
  return {
    get url() {
      return `http://127.0.0.1:${port}`
    },
    token,
    get port() {
      return port
    },
    get listening() {
      return server !== undefined
    },
    get requests() {
      return requests
    },
    log,
    reset() {
      requests = 0
      log.length = 0
    },
    stop,
    async start() {
      if (server !== undefined) throw new Error('the Upstash REST harness is already listening')
      await listen()
    },
    async close() {
      await stop()
      redis.disconnect()
      transactions.disconnect()
    },
  }
}

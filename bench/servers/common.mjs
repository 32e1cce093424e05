// Shared by every bench server: the protocol with the parent (one JSON line on stdout: the port
// when listening, or why the scenario is skipped), the two paths, and small helpers.
//
// Every server answers:
//   GET /read    the session's counter `n`, creating the session (n = 0 plus the payload) when the
//                request brought none; an existing session is only read
//   GET /modify  increments `n` (creating the session on a miss, so a new session answers 1)
// with a text/plain body holding the number.
import http from 'node:http'
import { payload } from '../lib/payload.mjs'

export { payload }

let created = 0
/** The data of a new session: the counter plus the 103-byte payload. */
export function newSessionData(n = 0) {
  return { n, ...payload(created++) }
}

/** The scenario name from argv[2] or BENCH_SCENARIO. */
export function scenarioArg(known) {
  const name = process.argv[2] ?? process.env.BENCH_SCENARIO
  if (!known.includes(name)) {
    console.error(`usage: node ${process.argv[1]} <${known.join('|')}>`)
    process.exit(2)
  }
  return name
}

/** Tells the parent this scenario cannot run (e.g. a store not built yet) and exits. */
export function skip(reason) {
  process.stdout.write(JSON.stringify({ skip: reason }) + '\n')
  process.exit(0)
}

/** Whether a failed dynamic import means "this entry or export does not exist yet". */
export function isMissingModule(error) {
  const code = error?.code
  return code === 'ERR_PACKAGE_PATH_NOT_EXPORTED' || code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND'
}

/**
 * Listens on a free loopback port and announces it. `close` runs on SIGTERM (to close pools).
 * @param {http.RequestListener | http.Server} handlerOrServer
 */
export function listen(handlerOrServer, close = async () => {}) {
  const server = handlerOrServer instanceof http.Server ? handlerOrServer : http.createServer(handlerOrServer)
  server.keepAliveTimeout = 65_000
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(JSON.stringify({ port: server.address().port, pid: process.pid }) + '\n')
  })
  const stop = () => {
    server.closeAllConnections?.()
    server.close()
    Promise.resolve(close()).finally(() => process.exit(0))
    setTimeout(() => process.exit(0), 2000).unref()
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  return server
}

/** Answers `n` as text/plain (setHeader + end, never writeHead, so session libraries can still set cookies). */
export function send(res, n) {
  res.setHeader('Content-Type', 'text/plain')
  res.end(String(n))
}

export function notFound(res) {
  res.statusCode = 404
  res.end('not found')
}

/** A handler error answers 500 with its message (the self-check shows it). */
export function fail(res, error) {
  console.error(error)
  if (!res.headersSent) {
    res.statusCode = 500
    res.setHeader('Content-Type', 'text/plain')
  }
  res.end(`error: ${error?.message ?? error}`)
}

/** Path without query string. */
export function pathOf(req) {
  const q = req.url.indexOf('?')
  return q === -1 ? req.url : req.url.slice(0, q)
}

/** The value of one cookie in a Cookie header (no decoding: ids are base64url). */
export function readCookie(header, name) {
  if (!header) return undefined
  const target = name + '='
  let start = 0
  while (start < header.length) {
    let end = header.indexOf(';', start)
    if (end === -1) end = header.length
    while (header.charCodeAt(start) === 32) start++
    if (header.startsWith(target, start)) return header.slice(start + target.length, end).trim()
    start = end + 1
  }
  return undefined
}

/** Every cookie of a Cookie header, as an object (what a generic cookie parser does). */
export function parseCookies(header) {
  const out = {}
  if (!header) return out
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq === -1) continue
    const key = part.slice(0, eq).trim()
    if (key && !(key in out)) {
      let value = part.slice(eq + 1).trim()
      if (value.includes('%')) {
        try {
          value = decodeURIComponent(value)
        } catch {
          // keep raw
        }
      }
      out[key] = value
    }
  }
  return out
}

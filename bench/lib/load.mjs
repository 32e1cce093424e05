// Loads one server path with autocannon (keep-alive, N connections, pipelining 1), every
// connection with its own cookie jar fed from Set-Cookie, and verifies under load that each
// connection keeps ITS session: on /modify every answer is the connection's previous answer + 1,
// on /read every answer is 0.
import autocannon from 'autocannon'
import { Jar, setCookieLines } from './jar.mjs'

/** Jars for `count` connections, kept across the warm-up and the measured run. */
export function makeJars(count) {
  return Array.from({ length: count }, () => new Jar())
}

/** Percentile of a sorted array (nearest rank). */
function percentile(sorted, p) {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]
}

/**
 * @param {object} o
 * @param {number} o.port
 * @param {'read' | 'modify'} o.path
 * @param {number} o.seconds
 * @param {Jar[]} o.jars                 one per connection
 * @param {'counter' | 'zero' | null} o.verify
 */
export async function runLoad({ port, path, seconds, jars, verify }) {
  const stats = { responses: 0, setCookie: 0, mismatches: 0, firstMismatch: undefined, statuses: {} }
  const latencies = []
  let nextJar = 0

  const setupClient = (client) => {
    const jar = jars[nextJar++ % jars.length]
    jar.resync = true
    // The client's own copy of the request (autocannon deep-clones its options per client).
    const request = client.requestIterator?.requests?.[0]
    if (!request) throw new Error('autocannon internals changed: client.requestIterator.requests[0] is missing')
    if (jar.header) client.setHeaders({ cookie: jar.header })
    // 'headers' fires when the response head is parsed, before the next request is written.
    client.on('headers', (info) => {
      const lines = setCookieLines(info.headers)
      if (!lines) return
      stats.setCookie++
      if (jar.update(lines)) client.setHeaders(jar.header ? { cookie: jar.header } : {})
    })
    client.on('response', (status, bytes, duration) => {
      latencies.push(duration)
    })
    request.onResponse = (status, body) => {
      stats.responses++
      stats.statuses[status] = (stats.statuses[status] ?? 0) + 1
      if (!verify) return
      const n = Number(body)
      let ok
      if (verify === 'zero') ok = body === '0'
      else if (jar.resync || jar.last === undefined) ok = Number.isInteger(n) && n > (jar.last ?? 0)
      else ok = n === jar.last + 1
      jar.resync = false
      if (verify === 'counter' && Number.isInteger(n)) jar.last = n
      if (!ok) {
        stats.mismatches++
        stats.firstMismatch ??= `connection got ${JSON.stringify(body.slice(0, 80))} after ${jar.last}`
      }
    }
  }

  const started = process.hrtime.bigint()
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: jars.length,
    pipelining: 1,
    duration: seconds,
    timeout: 10,
    requests: [{ method: 'GET', path: `/${path}` }],
    setupClient,
  })
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9
  latencies.sort((a, b) => a - b)
  const total = result.requests.total
  return {
    requests: total,
    seconds: elapsed,
    rps: total / ((result.finish - result.start) / 1000 || elapsed),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    setCookieShare: stats.responses ? stats.setCookie / stats.responses : 0,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    mismatches: stats.mismatches,
    firstMismatch: stats.firstMismatch,
    statuses: stats.statuses,
  }
}

// The check every server passes before it is loaded: the scenario really is a session (each
// client keeps its own), and reading costs at most the one Set-Cookie that creates the session.
import { Jar } from './jar.mjs'

async function hit(port, path, jar) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    headers: jar.header ? { cookie: jar.header } : {},
    signal: AbortSignal.timeout(10_000),
  })
  const body = await res.text()
  const lines = res.headers.getSetCookie()
  if (lines.length) jar.update(lines)
  return { status: res.status, body: body.trim(), setCookie: lines.length > 0 }
}

/**
 * @param {number} port
 * @param {'none' | 'cookie-every' | 'session'} kind
 * @returns {Promise<string[]>} problems (empty when it passes)
 */
export async function selfCheck(port, kind) {
  const problems = []
  const expect = (what, got, want) => {
    if (got !== want) problems.push(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`)
  }
  try {
    if (kind === 'none' || kind === 'cookie-every') {
      const jar = new Jar()
      for (const path of ['/read', '/modify', '/read']) {
        const r = await hit(port, path, jar)
        expect(`GET ${path} status`, r.status, 200)
        if (kind === 'cookie-every' && !r.setCookie) problems.push(`GET ${path}: no Set-Cookie`)
      }
      return problems
    }

    const a = new Jar()
    const answers = []
    for (let i = 0; i < 3; i++) {
      const r = await hit(port, '/modify', a)
      if (r.status !== 200) problems.push(`GET /modify: status ${r.status} (${r.body.slice(0, 200)})`)
      answers.push(r.body)
    }
    expect('modify ×3 with one jar', answers.join(','), '1,2,3')

    const b = new Jar()
    const reads = []
    let cookies = 0
    for (let i = 0; i < 3; i++) {
      const r = await hit(port, '/read', b)
      if (r.status !== 200) problems.push(`GET /read: status ${r.status} (${r.body.slice(0, 200)})`)
      reads.push(r.body)
      if (r.setCookie) cookies++
    }
    expect('read ×3 with a fresh jar', reads.join(','), '0,0,0')
    if (cookies > 1) problems.push(`read ×3 with a fresh jar sent ${cookies} Set-Cookie responses (at most 1 allowed)`)

    // Each client keeps ITS session: a third jar starts at 1, the first goes on at 4.
    const c = new Jar()
    expect('modify with another fresh jar', (await hit(port, '/modify', c)).body, '1')
    expect('modify again with the first jar', (await hit(port, '/modify', a)).body, '4')
    expect('read again with the read jar', (await hit(port, '/read', b)).body, '0')
  } catch (error) {
    problems.push(`request failed: ${error.message}`)
  }
  return problems
}

// A minimal cookie jar for one client: name -> value, fed from Set-Cookie lines. Attributes other
// than expiry are ignored (everything is one loopback origin, and Secure cookies are sent over
// plain HTTP on purpose: libraries that mark cookies Secure by default must still be measurable).

export class Jar {
  /** @type {Map<string, string>} */
  cookies = new Map()
  /** The Cookie header to send ('' when empty). */
  header = ''
  /** Scenario state for verification under load (last counter seen). */
  last = undefined
  /** True until the first response of a run has been checked (a run may cut a request short). */
  resync = true

  /** Applies Set-Cookie lines; returns true when the Cookie header changed. */
  update(lines) {
    let changed = false
    for (const line of lines) {
      const semi = line.indexOf(';')
      const pair = semi === -1 ? line : line.slice(0, semi)
      const eq = pair.indexOf('=')
      if (eq <= 0) continue
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1).trim()
      const attrs = semi === -1 ? '' : line.slice(semi).toLowerCase()
      const expired =
        /;\s*max-age=(-\d+|0)\b/.test(attrs) ||
        (/;\s*expires=([^;]+)/.test(attrs) && Date.parse(/;\s*expires=([^;]+)/.exec(attrs)[1]) <= Date.now() && !/;\s*max-age=/.test(attrs))
      if (expired || value === '') {
        changed = this.cookies.delete(name) || changed
      } else if (this.cookies.get(name) !== value) {
        this.cookies.set(name, value)
        changed = true
      }
    }
    if (changed) this.header = [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; ')
    return changed
  }
}

/** Set-Cookie lines out of a raw header list [name, value, name, value, ...]. */
export function setCookieLines(raw) {
  let lines
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]
    if (name.length === 10 && name.toLowerCase() === 'set-cookie') (lines ??= []).push(raw[i + 1])
  }
  return lines
}

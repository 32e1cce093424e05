// Text every store can keep. PostgreSQL refuses U+0000 in `text` and `jsonb`, and UTF-8 has no
// code for a lone surrogate (Node and TextEncoder turn one into U+FFFD, silently changing the
// value). Such a string, often straight from a form field, used to reach the store and come back
// as STORE_ERROR from PostgreSQL only, which looks like an outage. The core refuses it first, on
// every store alike, with SessionError INVALID_DATA naming where it is (review 15).
import { SessionError } from './errors.js'

// U+0000, a high surrogate not followed by a low one, or a low one not preceded by a high one.
const UNSTORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

function problem(text: string): string | undefined {
  const found = UNSTORABLE.exec(text)
  if (!found) return undefined
  return found[0] === '\0' ? 'U+0000 (NUL)' : `a lone surrogate (U+${found[0].charCodeAt(0).toString(16).toUpperCase()})`
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/

function step(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`
  return IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`
}

/** Where in `value` (keys included) a string no store can keep is, and what is wrong; undefined when none. */
function findUnstorable(value: unknown, path: string, seen: Set<object> | undefined): [string, string] | undefined {
  if (typeof value === 'string') {
    const wrong = problem(value)
    return wrong === undefined ? undefined : [path, wrong]
  }
  if (typeof value !== 'object' || value === null) return undefined
  if (seen?.has(value)) return undefined
  ;(seen ??= new Set()).add(value)
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorable(value[i], step(path, i), seen)
      if (found) return found
    }
    return undefined
  }
  const record = value as Record<string, unknown>
  for (const key of Object.keys(record)) {
    const wrong = problem(key)
    if (wrong !== undefined) return [`${step(path, key)} (the key)`, wrong]
    const found = findUnstorable(record[key], step(path, key), seen)
    if (found) return found
  }
  return undefined
}

/** Throws SessionError INVALID_DATA when the top-level `keys` of `data` hold a string no store can keep. */
export function assertStorableData(data: Record<string, unknown>, keys: Iterable<string>): void {
  for (const key of keys) {
    const wrong = problem(key)
    const found: [string, string] | undefined =
      wrong !== undefined ? [`${step('data', key)} (the key)`, wrong] : Object.prototype.hasOwnProperty.call(data, key) ? findUnstorable(data[key], step('data', key), undefined) : undefined
    if (found) throw invalid(`The session data at ${found[0]} holds ${found[1]}`)
  }
}

/** Throws SessionError INVALID_DATA when a user id holds a string no store can keep. */
export function assertStorableUserId(userId: string): void {
  const wrong = problem(userId)
  if (wrong !== undefined) throw invalid(`The user id given to bindUser() holds ${wrong}`)
}

function invalid(what: string): SessionError {
  return new SessionError('INVALID_DATA', `${what}, which no session store can keep (PostgreSQL refuses it, UTF-8 cannot encode it). Nothing was saved.`)
}

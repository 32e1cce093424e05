// The structured copy MemoryStore keeps and hands out: a fast plain recursive copy for JSON-like
// trees, structuredClone for everything else.
//
// structuredClone() is the largest Tessera cost of a memory read (bench/profile.mjs), mostly its
// fixed serialise/deserialise overhead. Sessions are nearly always small JSON-like trees, which a
// plain recursive copy handles several times faster with the same result. Anything else (Date,
// Map, class instances, sparse or decorated arrays, shared or cyclic references, deep or large
// trees) falls back to structuredClone, so the result (and any DataCloneError) stays the same.
const NOT_PLAIN = Symbol('not plain')
const MAX_NODES = 256
const MAX_DEPTH = 32

const hasOwn = Object.prototype.hasOwnProperty

/** A copy of `value` exactly as `structuredClone(value)` makes it (same result, same errors). */
export function copy(value: unknown): unknown {
  const seen: object[] = []
  const out = copyNode(value, seen, 0)
  return out === NOT_PLAIN ? structuredClone(value) : out
}

function copyNode(value: unknown, seen: object[], depth: number): unknown {
  if (typeof value !== 'object') {
    // Functions and symbols make structuredClone throw: let it.
    return typeof value === 'function' || typeof value === 'symbol' ? NOT_PLAIN : value
  }
  if (value === null) return null
  // Shared references must stay shared in the copy, cycles must not loop: leave both to structuredClone.
  if (depth > MAX_DEPTH || seen.length >= MAX_NODES || seen.includes(value)) return NOT_PLAIN
  seen.push(value)
  if (Array.isArray(value)) {
    const length = value.length
    const out: unknown[] = new Array(length)
    for (let i = 0; i < length; i++) {
      if (!(i in value)) return NOT_PLAIN // a hole
      const inner = copyNode(value[i], seen, depth + 1)
      if (inner === NOT_PLAIN) return NOT_PLAIN
      out[i] = inner
    }
    // Extra named properties on the array would be copied by structuredClone.
    if (Object.keys(value).length !== length) return NOT_PLAIN
    return out
  }
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return NOT_PLAIN
  const record = value as Record<string, unknown>
  const out: Record<string, unknown> = {}
  // for-in, not Object.keys(): the same own keys in the same order (the prototype is checked
  // above; inherited ones are skipped), without a keys array per object.
  for (const key in record) {
    if (!hasOwn.call(record, key)) continue
    const inner = copyNode(record[key], seen, depth + 1) // a getter runs, as it does for structuredClone
    if (inner === NOT_PLAIN) return NOT_PLAIN
    // An own `__proto__` key stays a key (as structuredClone keeps it), never a prototype swap.
    if (key === '__proto__') Object.defineProperty(out, key, { value: inner, writable: true, enumerable: true, configurable: true })
    else out[key] = inner
  }
  return out
}

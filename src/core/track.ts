// Change tracking without serialising the session: the data is wrapped in a Proxy that records
// which top-level keys were written, deeply. Nested plain objects and arrays get a Proxy of their
// own (made lazily, on first access) that marks their top-level key. Other objects (Date, Map,
// class instances) cannot be observed from outside, so touching one counts as a change.

type Data = Record<string, unknown>

function isPlain(value: object): boolean {
  if (Array.isArray(value)) return true
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** What a Tracker calls before any write: the owner decides whether writes are still allowed. */
export type Guard<Owner> = (owner: Owner) => void

const INSPECT = Symbol.for('nodejs.util.inspect.custom')

// The root proxy's target: it carries the tracker, so one handler object serves every session.
// The proxy reports the data's prototype, not this class's (the `getPrototypeOf` trap).
class Holder {
  constructor(readonly tracker: Tracker) {}

  // util.inspect (console.log) formats a proxy's target without running its traps, which would
  // print this holder; it calls this with `this` = the proxy, so the spread reads the data.
  [INSPECT](): object {
    return { ...this }
  }
}

const NO_CHANGES: ReadonlySet<string> = new Set()

/** Tracks writes to `target`, a record owned by one session. */
export class Tracker {
  // Top-level keys written or deleted since the last commit; made on first write (most requests
  // only read).
  #changed: Set<string> | undefined
  // Made on first use: most requests never touch nested data, and a WeakMap per request costs
  // the garbage collector measurably (bench/profile.mjs).
  #targets: WeakMap<object, object> | undefined
  #proxies: WeakMap<object, object> | undefined
  #proxy: Data | undefined
  #target: Data
  // A shared function and its owner instead of a closure per session (one allocation less per request).
  readonly #guardFn: Guard<any>
  readonly #owner: unknown

  constructor(target: Data, guard: () => void)
  constructor(target: Data, guard: Guard<any>, owner: unknown)
  constructor(target: Data, guard: Guard<any>, owner?: unknown) {
    this.#target = target
    this.#guardFn = guard
    this.#owner = owner
  }

  /** The tracking proxy over the data, made on first access. */
  get proxy(): Data {
    return (this.#proxy ??= new Proxy(new Holder(this), Tracker.#rootHandler) as unknown as Data)
  }

  #guard(): void {
    this.#guardFn(this.#owner)
  }

  /** Whether any top-level key was written or deleted since the last commit. */
  get hasChanges(): boolean {
    return this.#changed !== undefined && this.#changed.size > 0
  }

  /** The changes since the last commit, handed over (not copied): the tracker starts afresh. */
  takeChanges(): ReadonlySet<string> {
    const changed = this.#changed ?? NO_CHANGES
    this.#changed = undefined
    return changed
  }

  /** Counts `key` as changed. */
  markChanged(key: string): void {
    ;(this.#changed ??= new Set()).add(key)
  }

  /** Forgets every change (after a destroy). */
  clearChanges(): void {
    this.#changed = undefined // dropped, not cleared: clear() allocates a new table
  }

  /** The plain data behind the proxies, as stores must receive it. */
  get target(): Data {
    return this.#target
  }

  /** Replaces all data: every old and new key counts as changed. */
  replace(data: Data): void {
    for (const key of Object.keys(this.#target)) this.markChanged(key)
    this.#target = Object.create(null)
    for (const key of Object.keys(data)) this.#define(this.#target, key, this.#unwrap(data[key]))
    for (const key of Object.keys(this.#target)) this.markChanged(key)
  }

  // A value assigned into the session may hold proxies handed out by earlier reads
  // (`data.items = [...data.items, item]`); stores must get plain data, so they are replaced by
  // their targets, deeply. Walks only what was assigned.
  #unwrap(value: unknown, seen?: Set<object>): unknown {
    if (typeof value !== 'object' || value === null) return value
    const target = this.#targets?.get(value)
    if (target) return target
    if (seen?.has(value) || !isPlain(value)) return value
    ;(seen ??= new Set()).add(value) // made here, not as a default: most values assigned are primitives
    const record = value as Record<string, unknown>
    for (const key of Object.keys(record)) {
      const inner = record[key]
      if (typeof inner === 'object' && inner !== null) {
        const plain = this.#unwrap(inner, seen)
        if (plain !== inner) this.#define(record, key, plain)
      }
    }
    return value
  }

  // `__proto__` is defined as an own key, so a key from user input can never swap a prototype.
  #define(target: object, key: string | symbol, value: unknown): void {
    Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true })
  }

  // One handler for every root proxy (a handler with its own closures per session was a visible
  // share of the per-request allocations); the tracker comes from the proxy's target.
  static readonly #rootHandler: ProxyHandler<Holder> = {
    get({ tracker }, key) {
      const value = Reflect.get(tracker.#target, key)
      if (typeof key !== 'string' || typeof value !== 'object' || value === null) return value
      if (!Object.prototype.hasOwnProperty.call(tracker.#target, key)) return value
      if (!isPlain(value)) {
        tracker.#guard()
        tracker.markChanged(key)
        return value
      }
      return tracker.#nested(value, key)
    },
    set({ tracker }, key, value) {
      tracker.#guard()
      tracker.#define(tracker.#target, key, tracker.#unwrap(value))
      if (typeof key === 'string') tracker.markChanged(key)
      return true
    },
    deleteProperty({ tracker }, key) {
      tracker.#guard()
      if (typeof key === 'string' && Object.prototype.hasOwnProperty.call(tracker.#target, key)) tracker.markChanged(key)
      return Reflect.deleteProperty(tracker.#target, key)
    },
    has: ({ tracker }, key) => Reflect.has(tracker.#target, key),
    getPrototypeOf: ({ tracker }) => Reflect.getPrototypeOf(tracker.#target),
    ownKeys: ({ tracker }) => Reflect.ownKeys(tracker.#target),
    getOwnPropertyDescriptor({ tracker }, key) {
      const descriptor = Reflect.getOwnPropertyDescriptor(tracker.#target, key)
      if (descriptor) descriptor.configurable = true // the proxy's own target does not hold the data
      return descriptor
    },
    defineProperty({ tracker }, key, descriptor) {
      tracker.#guard()
      if (typeof key === 'string') tracker.markChanged(key)
      return Reflect.defineProperty(tracker.#target, key, { ...descriptor, configurable: true })
    },
  }

  #nested(value: object, topKey: string): object {
    const proxies = (this.#proxies ??= new WeakMap())
    const cached = proxies.get(value)
    if (cached) return cached
    const tracker = this
    const mark = (): void => {
      tracker.#guard()
      tracker.markChanged(topKey)
    }
    const proxy = new Proxy(value, {
      get(target, key, receiver) {
        const inner = Reflect.get(target, key, receiver)
        if (typeof inner !== 'object' || inner === null) return inner
        if (!isPlain(inner)) {
          mark()
          return inner
        }
        return tracker.#nested(inner, topKey)
      },
      set(target, key, inner) {
        mark()
        if (key === '__proto__') {
          tracker.#define(target, key, tracker.#unwrap(inner))
          return true
        }
        return Reflect.set(target, key, tracker.#unwrap(inner))
      },
      deleteProperty(target, key) {
        mark()
        return Reflect.deleteProperty(target, key)
      },
      defineProperty(target, key, descriptor) {
        mark()
        return Reflect.defineProperty(target, key, descriptor)
      },
    })
    proxies.set(value, proxy)
    ;(this.#targets ??= new WeakMap()).set(proxy, value)
    return proxy
  }
}

// The "session object is the data" shape of next-session and iron-session: one object whose keys
// are the session's data, plus a few properties of the library's own (`id`, `cookie`, `save`,
// `commit`, ...). Tessera keeps data and API apart (`session.data`), so the compat entries show
// this shape as a Proxy over a Tessera session's data: reads and writes go to `session.data`
// (change tracking included), the library's own properties are answered here and never stored.

/** Node's `util.inspect.custom`, without importing node:util (the entries also run on the Edge). */
const INSPECT_CUSTOM = Symbol.for('nodejs.util.inspect.custom')

/** The library's own properties of a view: each read through its getter, none assignable. */
export type OwnProperties = Readonly<Record<string, () => unknown>>

/** Options of {@link dataView}. */
export interface DataViewOptions {
  /**
   * Own properties that `Object.keys`, `JSON.stringify` and spreading show beside the data
   * (next-session: `cookie`). The others are own but not enumerable, as the libraries define
   * their methods. @default none
   */
  enumerable?: readonly string[]
  /** The message of the TypeError for a write to an own property, as the library words it. @default `session.<key> cannot be <assigned|deleted|redefined>` */
  refusal?: (key: string, what: 'assigned' | 'deleted' | 'redefined') => string
}

/**
 * A view whose keys are `data()`'s, plus `own` (which hide data keys of the same names). `data`
 * is read on every access, so the view follows a session whose data is replaced. Assigning,
 * deleting or redefining an own property throws a `TypeError`. `console.log(view)` prints the
 * data and the enumerable own properties.
 *
 * @example
 * const view = dataView<{ id: string } & Record<string, unknown>>(() => session.data, { id: () => session.id })
 * view.user = 'ada' // session.data.user = 'ada'
 */
export function dataView<View extends object>(data: () => Record<PropertyKey, unknown>, own: OwnProperties, options: DataViewOptions = {}): View {
  const shown = new Set(options.enumerable ?? [])
  const names = Object.keys(own)
  const isOwn = (key: PropertyKey): key is string => typeof key === 'string' && Object.prototype.hasOwnProperty.call(own, key)
  const refuse = (key: string, what: 'assigned' | 'deleted' | 'redefined'): never => {
    throw new TypeError(options.refusal ? options.refusal(key, what) : `session.${key} cannot be ${what}`)
  }

  // util.inspect formats a Proxy's target without running its traps: the target prints the view.
  const target: Record<PropertyKey, unknown> = {}
  Object.defineProperty(target, INSPECT_CUSTOM, {
    value: () => {
      const out: Record<PropertyKey, unknown> = { ...data() }
      for (const name of names) delete out[name]
      for (const name of shown) out[name] = own[name]!()
      return out
    },
    enumerable: false,
    configurable: true, // so the traps below need not list it
  })

  return new Proxy(target, {
    get(_, key) {
      if (isOwn(key)) return own[key]!()
      if (key === INSPECT_CUSTOM) return target[INSPECT_CUSTOM]
      return Reflect.get(data(), key)
    },
    set(_, key, value) {
      if (isOwn(key)) refuse(key, 'assigned')
      return Reflect.set(data(), key, value)
    },
    deleteProperty(_, key) {
      if (isOwn(key)) refuse(key, 'deleted')
      return Reflect.deleteProperty(data(), key)
    },
    defineProperty(_, key, descriptor) {
      if (isOwn(key)) refuse(key, 'redefined')
      return Reflect.defineProperty(data(), key, descriptor)
    },
    has(_, key) {
      return isOwn(key) || Reflect.has(data(), key)
    },
    ownKeys() {
      return [...Reflect.ownKeys(data()).filter((key) => !isOwn(key)), ...names]
    },
    getOwnPropertyDescriptor(_, key) {
      if (isOwn(key)) return { value: own[key]!(), writable: false, enumerable: shown.has(key), configurable: true }
      const descriptor = Reflect.getOwnPropertyDescriptor(data(), key)
      // The target holds none of the data's keys: a Proxy may only report them as configurable.
      return descriptor && { ...descriptor, configurable: true }
    },
  }) as View
}

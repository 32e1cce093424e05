// Values that may or may not be a promise. A store may answer `T` or `Promise<T>` (MemoryStore
// answers at once); the core waits only when it was handed a thenable, so a request whose every
// step is synchronous costs no promise, no suspended frame and no microtask turn. Each of those
// showed in profiles of a memory read.

export type MaybePromise<T> = T | Promise<T>

export function isThenable<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

/** `next(value)`, now when `value` is ready, after it resolves when it is a promise. */
export function after<T, R>(value: MaybePromise<T>, next: (value: T) => MaybePromise<R>): MaybePromise<R> {
  return isThenable(value) ? value.then(next) : next(value)
}

/** Runs `run`, sending a synchronous throw and an asynchronous rejection alike to `onError`. */
export function attempt<T>(run: () => MaybePromise<T>, onError: (error: unknown) => MaybePromise<T>): MaybePromise<T> {
  let result: MaybePromise<T>
  try {
    result = run()
  } catch (error) {
    return onError(error)
  }
  return isThenable(result) ? result.then(undefined, onError) : result
}

// A barrier for concurrency tests: the work of N concurrent requests waits until all N have
// reached the same point (say, loaded the session), so the interleaving under test is certain
// rather than hoped for from a sleep.

export interface Barrier {
  /** Resolves once `count` calls have arrived (this one included). */
  arrive(): Promise<void>
  /** How many have arrived so far. */
  readonly arrived: number
}

/**
 * Every `arrive()` waits until `count` of them happened. If they have not all arrived within
 * `timeoutMs`, every waiter rejects, naming how many did: the test fails instead of hanging.
 */
export function barrier(count: number, timeoutMs = 10_000): Barrier {
  let arrived = 0
  let open!: () => void
  let fail!: (error: Error) => void
  const all = new Promise<void>((resolve, reject) => {
    open = resolve
    fail = reject
  })
  all.catch(() => {}) // rejections reach each waiter; none is left unhandled here
  let timer: ReturnType<typeof setTimeout> | undefined
  return {
    get arrived() {
      return arrived
    },
    arrive() {
      arrived++
      if (arrived === 1) {
        timer = setTimeout(() => fail(new Error(`barrier: ${arrived} of ${count} arrived within ${timeoutMs} ms`)), timeoutMs)
        timer.unref?.()
      }
      if (arrived === count) {
        clearTimeout(timer)
        open()
      }
      if (arrived > count) return Promise.reject(new Error(`barrier: ${arrived} arrived, more than the ${count} expected`))
      return all
    },
  }
}

// `operationTimeout` for the stores whose client has no deadline of its own (connect stores,
// PostgreSQL): each operation rejects when its time is up, and its late answer is ignored. Every
// operation of a store waits the same time, so they expire in start order: one list (an operation
// leaves it when it settles), one timer for the oldest, no timer per call.

/** The longest delay setTimeout takes (2^31 - 1 ms); past it Node fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1

/** Checks an `operationTimeout` option (seconds > 0) and returns it in ms. */
export function operationTimeoutMs(owner: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !(value > 0)) {
    throw new TypeError(`${owner} option operationTimeout must be a number of seconds > 0, got ${JSON.stringify(value)}`)
  }
  return value * 1000
}

interface Pending {
  readonly at: number
  readonly what: string
  readonly reject: (error: Error) => void
  prev: Pending | undefined
  next: Pending | undefined
  done: boolean
}

export class Deadlines {
  #head: Pending | undefined = undefined
  #tail: Pending | undefined = undefined
  #timer: ReturnType<typeof setTimeout> | undefined = undefined

  /** `ms` for every operation; `describe` names what timed out in the error's message. */
  constructor(
    readonly ms: number,
    readonly describe: string,
  ) {}

  /** Settles as `work()` does, or rejects with a timeout error after `ms`, whichever comes first. */
  run<T>(what: string, work: () => PromiseLike<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const now = performance.now()
      const tail = this.#tail
      const pending: Pending = { at: now + this.ms, what, reject, prev: tail, next: undefined, done: false }
      if (tail === undefined) this.#head = pending
      else tail.next = pending
      this.#tail = pending
      if (this.#timer === undefined) this.#arm(this.ms)
      const settle = (ok: boolean, value: unknown): void => {
        if (pending.done) return // timed out already: the late answer goes nowhere
        this.#remove(pending)
        if (ok) resolve(value as T)
        else reject(value)
      }
      try {
        work().then((value) => settle(true, value), (error: unknown) => settle(false, error))
      } catch (error) {
        settle(false, error)
      }
    })
  }

  #remove(pending: Pending): void {
    pending.done = true
    const { prev, next } = pending
    if (prev === undefined) this.#head = next
    else prev.next = next
    if (next === undefined) this.#tail = prev
    else next.prev = prev
    pending.prev = pending.next = undefined
  }

  #arm(delay: number): void {
    // Past MAX_TIMER_MS wait the longest a timer can, then look again.
    this.#timer = setTimeout(this.#expire, Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(delay))))
    // A pending operation keeps the process alive through its own socket, not through this timer.
    ;(this.#timer as { unref?: () => void }).unref?.()
  }

  readonly #expire = (): void => {
    this.#timer = undefined
    const now = performance.now()
    let pending = this.#head
    while (pending !== undefined && pending.at <= now) {
      this.#remove(pending)
      pending.reject(new Error(`${this.describe} timed out: no answer to ${pending.what} within ${this.ms / 1000} s (operationTimeout)`))
      pending = this.#head
    }
    if (pending !== undefined) this.#arm(pending.at - now)
  }
}

// `operationTimeout` for the stores whose client has no deadline of its own (Redis, PostgreSQL,
// connect stores): each operation rejects when its time is up, and its late answer is ignored.
// Every operation of a store waits the same time, so they expire in start order: one list (an
// operation leaves it when it settles), one timer for the oldest, no timer, promise race or
// AbortController per call.
//
// A store whose client can drop a command still queued (node-redis takes an AbortSignal) passes
// `signalOptions`: operations started within the same few milliseconds share one AbortSignal,
// aborted when the first of them times out, so a command of that group still queued in the
// client (disconnected, or the socket backed up) is dropped then and never sent after the caller
// was told it failed. A later operation of the group whose command is still queued is dropped at
// most GROUP_MS early. Web APIs only: any store may use it.

/** The longest delay setTimeout takes (2^31 - 1 ms); past it Node fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1

/** Longest span of operation starts that share one AbortSignal (also at most a tenth of the timeout). */
const GROUP_MS = 20

/** Checks an `operationTimeout` option (seconds > 0) and returns it in ms. */
export function operationTimeoutMs(owner: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !(value > 0)) {
    throw new TypeError(`${owner} option operationTimeout must be a number of seconds > 0, got ${JSON.stringify(value)}`)
  }
  return value * 1000
}

/** Operations started close together, sharing one AbortSignal and what the client takes with it. */
export interface Group<Options> {
  readonly controller: AbortController
  readonly options: Options
  /** performance.now() after which new operations open a new group. */
  readonly until: number
}

/** One operation waiting for its answer. */
export class Pending<Options = never> {
  prev: Pending<Options> | undefined = undefined
  next: Pending<Options> | undefined = undefined
  done = false
  constructor(
    readonly at: number,
    readonly group: Group<Options> | undefined,
    readonly what: string,
    readonly reject: (error: unknown) => void,
  ) {}
}

/** The operation timeout of one store: every operation it starts rejects at its deadline unless it settled first. */
export class Deadlines<Options = never> {
  #head: Pending<Options> | undefined = undefined
  #tail: Pending<Options> | undefined = undefined
  #timer: ReturnType<typeof setTimeout> | undefined = undefined
  #group: Group<Options> | undefined = undefined
  readonly #groupMs: number

  /**
   * `ms` for every operation; `describe` names what timed out in the error's message ("The Redis
   * operation"); `signalOptions`, when the client can drop a queued command, makes what it takes
   * with a command from the group's signal.
   */
  constructor(
    readonly ms: number,
    readonly describe: string,
    readonly signalOptions?: (signal: AbortSignal) => Options,
  ) {
    this.#groupMs = Math.min(GROUP_MS, ms / 10)
  }

  /** Registers an operation; `reject` gets the timeout error at its deadline unless `finish` came first. */
  start(what: string, reject: (error: unknown) => void): Pending<Options> {
    const now = performance.now()
    let group: Group<Options> | undefined
    if (this.signalOptions !== undefined) {
      group = this.#group
      if (group === undefined || now >= group.until || group.controller.signal.aborted) group = this.#group = this.#newGroup(now, this.signalOptions)
    }
    const pending = new Pending<Options>(now + this.ms, group, what, reject)
    const tail = this.#tail
    if (tail === undefined) this.#head = pending
    else {
      tail.next = pending
      pending.prev = tail
    }
    this.#tail = pending
    if (this.#timer === undefined) this.#arm(this.ms)
    return pending
  }

  /** Takes an operation out of the list; false when it had already timed out (its answer is then ignored). */
  finish(pending: Pending<Options>): boolean {
    if (pending.done) return false
    pending.done = true
    const { prev, next } = pending
    if (prev === undefined) this.#head = next
    else prev.next = next
    if (next === undefined) this.#tail = prev
    else next.prev = prev
    pending.prev = pending.next = undefined
    return true
  }

  /** Settles as `work()` does, or rejects with the timeout error after `ms`, whichever comes first. */
  run<T>(what: string, work: () => PromiseLike<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const pending = this.start(what, reject)
      try {
        work().then(
          (value) => {
            if (this.finish(pending)) resolve(value)
          },
          (error: unknown) => {
            if (this.finish(pending)) reject(error)
          },
        )
      } catch (error) {
        if (this.finish(pending)) reject(error)
      }
    })
  }

  /** The timeout error of an operation. */
  error(what: string): Error {
    return new Error(`${this.describe} timed out: no answer to ${what} within ${this.ms / 1000} s (operationTimeout)`)
  }

  #newGroup(now: number, signalOptions: (signal: AbortSignal) => Options): Group<Options> {
    const controller = new AbortController()
    return { controller, options: signalOptions(controller.signal), until: now + this.#groupMs }
  }

  #arm(delay: number): void {
    // Past MAX_TIMER_MS wait the longest a timer can, then look again.
    this.#timer = setTimeout(this.#expire, Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(delay))))
    // A pending operation keeps the process alive through its client's socket, not through this timer.
    ;(this.#timer as { unref?: () => void }).unref?.()
  }

  readonly #expire = (): void => {
    this.#timer = undefined
    const now = performance.now()
    let pending = this.#head
    while (pending !== undefined && pending.at <= now) {
      this.finish(pending)
      // Abort first: the client drops the still-queued commands synchronously, before anything else can send them.
      pending.group?.controller.abort()
      pending.reject(this.error(pending.what))
      pending = this.#head
    }
    if (pending !== undefined) this.#arm(pending.at - now)
  }
}

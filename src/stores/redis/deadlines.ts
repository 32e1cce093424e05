import { setMaxListeners } from 'node:events'
import type { CommandOptions } from './clients.js'

// operationTimeout without a timer, a promise race or an AbortController per call: calls wait in
// one list in start order (so in deadline order) with one timer for the oldest. For node-redis,
// calls started within the same few milliseconds share one AbortSignal, aborted when the first of
// them times out: a command of that group still queued in the client (disconnected, or the socket
// backed up) is dropped then, so it can never be sent after the caller was told it failed. A
// later call of the group whose command is still queued is dropped at most BUCKET_MS early.

/** Longest span of call starts that share one AbortSignal (also at most a tenth of the timeout). */
const BUCKET_MS = 20

const MAX_DELAY_MS = 2 ** 31 - 1

export interface Bucket {
  readonly controller: AbortController
  readonly options: CommandOptions
  /** performance.now() after which new calls open a new bucket. */
  readonly until: number
}

/** One store call waiting for Redis. */
export class Call {
  prev: Call | undefined = undefined
  next: Call | undefined = undefined
  done = false
  constructor(
    readonly deadline: number,
    readonly bucket: Bucket | undefined,
    readonly what: string,
    readonly reject: (error: unknown) => void,
  ) {}
}

/** The operation timeout of one store: every call it starts rejects at its deadline unless it finished first. */
export class Deadlines {
  #head: Call | undefined = undefined
  #tail: Call | undefined = undefined
  #timer: ReturnType<typeof setTimeout> | undefined = undefined
  #bucket: Bucket | undefined = undefined
  readonly #bucketMs: number

  constructor(
    readonly ms: number,
    readonly abortable: boolean,
  ) {
    this.#bucketMs = Math.min(BUCKET_MS, ms / 10)
  }

  /** Registers a call; it rejects with the timeout error at its deadline unless `finish` came first. */
  start(what: string, reject: (error: unknown) => void): Call {
    const now = performance.now()
    let bucket: Bucket | undefined
    if (this.abortable) {
      bucket = this.#bucket
      if (bucket === undefined || now >= bucket.until || bucket.controller.signal.aborted) bucket = this.#bucket = this.#newBucket(now)
    }
    const call = new Call(now + this.ms, bucket, what, reject)
    const tail = this.#tail
    if (tail === undefined) this.#head = call
    else {
      tail.next = call
      call.prev = tail
    }
    this.#tail = call
    if (this.#timer === undefined) this.#arm(call.deadline - now)
    return call
  }

  /** Takes a call out of the list; false when it had already timed out (its answer is then ignored). */
  finish(call: Call): boolean {
    if (call.done) return false
    call.done = true
    const { prev, next } = call
    if (prev === undefined) this.#head = next
    else prev.next = next
    if (next === undefined) this.#tail = prev
    else next.prev = prev
    call.prev = call.next = undefined
    return true
  }

  error(what: string): Error {
    return new Error(`The Redis operation timed out: no answer to ${what} within ${this.ms / 1000} s (operationTimeout)`)
  }

  #newBucket(now: number): Bucket {
    const controller = new AbortController()
    // Many commands listen on this signal at once: not a leak.
    setMaxListeners(0, controller.signal)
    const options = { abortSignal: controller.signal, signal: controller.signal }
    return { controller, options, until: now + this.#bucketMs }
  }

  #arm(delay: number): void {
    // Past 2^31 - 1 ms setTimeout would fire at once: wait the longest it can, then look again.
    this.#timer = setTimeout(this.#expire, Math.min(MAX_DELAY_MS, Math.max(1, Math.ceil(delay))))
    // A pending command keeps the process alive through its client's socket, not through this timer.
    this.#timer.unref?.()
  }

  readonly #expire = (): void => {
    this.#timer = undefined
    const now = performance.now()
    let call = this.#head
    while (call !== undefined && call.deadline <= now) {
      this.finish(call)
      // Abort first: the client drops the still-queued commands synchronously, before anything else can send them.
      call.bucket?.controller.abort()
      call.reject(this.error(call.what))
      call = this.#head
    }
    if (call !== undefined) this.#arm(call.deadline - now)
  }
}

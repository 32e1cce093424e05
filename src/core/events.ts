import type { CookieStoreLike, NodeRequest, RequestLike } from './frameworks.js'
import { base64urlEncode } from './encoding.js'
import { sha256 } from './sign.js'

/** What happened to a session. */
export type SessionEventType =
  | 'created'
  | 'regenerated'
  | 'destroyed'
  | 'expired'
  | 'revoked'
  | 'invalid-signature'
  | 'unknown-id'

/** One session event, as `onEvent` receives it. Never holds the session id itself. */
export interface SessionEvent {
  type: SessionEventType
  /**
   * SHA-256 of the session's store key (its id, or with `hashIds` the id's SHA-256) with a
   * per-process random salt: correlates events, `revokeUser()`'s included, and reveals no token.
   */
  idHash: string
  /** When it happened. */
  at: Date
  /** The user the session was bound to, when known. */
  userId?: string
  /**
   * The request it happened on, as `sessions.get` received it: node:http's `IncomingMessage`
   * (Express, Connect, micro, the Pages Router), a Web `Request`, or the Next.js `cookies()` store.
   * Tell one client from another with it (its address, a header) to count bad cookies per client.
   * Not enumerable, so logging the event whole never logs the request's cookies.
   */
  request?: NodeRequest | RequestLike | CookieStoreLike
}

/** Hashes ids with a salt drawn once and hands events to the app's `onEvent`. */
export class EventSink {
  readonly #onEvent: (event: SessionEvent) => void
  readonly #salt: string

  constructor(onEvent: (event: SessionEvent) => void) {
    this.#onEvent = onEvent
    this.#salt = base64urlEncode(crypto.getRandomValues(new Uint8Array(16)))
  }

  /**
   * Emits in the background: the request never waits for the app's logger. `key`: the store key
   * (the raw cookie for `invalid-signature`), the one thing every emitter, `revokeUser()` too, knows.
   */
  emit(type: SessionEventType, key: string, userId: string | undefined, request: object | undefined): void {
    const at = new Date()
    sha256(`${this.#salt}:${key}`)
      .then((idHash) => {
        const event: SessionEvent = { type, idHash, at }
        if (userId !== undefined) event.userId = userId
        // Not enumerable: an event logged whole (console.log, JSON) must not carry the request's
        // Cookie header, which holds the very id the hash stands for.
        if (request !== undefined) Object.defineProperty(event, 'request', { value: request, enumerable: false })
        this.#onEvent(event)
      })
      .catch((error: unknown) => console.error('tessera: onEvent handler threw', error))
  }
}

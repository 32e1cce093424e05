// What the core knows about one request's session, and what it was built from. The Session class
// holds a State; load fills it, the commit plan reads and advances it.
import { SessionError } from './errors.js'
import type { EventSink } from './events.js'
import type { Config } from './options.js'
import type { Signer } from './sign.js'
import type { Tracker } from './track.js'

/** What the flow needs besides the options: built once per `createSessions`. */
export interface Engine {
  config: Config
  signer: Signer | undefined
  events: EventSink | undefined
  /** `[config.name]`, shared by every session whose request carried the cookie (never mutated). */
  cookieNames: readonly string[]
}

export interface State {
  id: string
  /** The store key: the id, or its SHA-256 with `hashIds`. */
  key: string
  /** What the cookie carries: the id, the signed id, or (cookie store) the seal it came with. */
  cookieValue: string
  isNew: boolean
  /** A record for `key` exists in the store (or, for the cookie store, in the browser). */
  stored: boolean
  createdAt: number
  expiresAt: number
  userId: string | undefined
  userChanged: boolean
  tracker: Tracker
  destroyed: boolean
  destroyCommitted: boolean
  /** Keys of ids replaced by regenerate(), destroyed at the next commit. Replaced, never mutated (snapshots share it). */
  oldKeys: readonly string[]
  regenerated: boolean
  touchRequested: boolean
  /** The cookie opened in an older format or under an older secret: write it again at commit. */
  reseal: boolean
  /** Cookie store: the session id the request's seal carried (revoked at destroy or after regenerate); undefined for a new session. */
  sealId: string | undefined
  /** Names of session cookies the browser holds: those the request carried, then those an earlier commit of this request set. */
  cookiesReceived: readonly string[]
  /** The app's own commit() failed (it saw the error): autoCommit does not retry behind its back. */
  commitFailed: boolean
}

export const NONE: readonly string[] = Object.freeze([])

/** A State for a session that was loaded (`isNew` false) or is new; the Session adds the tracker. */
export function newState(
  isNew: boolean,
  id: string,
  key: string,
  cookieValue: string,
  createdAt: number,
  expiresAt: number,
  userId: string | undefined,
  reseal: boolean,
  cookiesReceived: readonly string[],
): State {
  return {
    id,
    key,
    cookieValue,
    isNew,
    stored: !isNew,
    createdAt,
    expiresAt,
    userId,
    userChanged: false,
    tracker: undefined as unknown as Tracker, // set by the Session's constructor
    destroyed: false,
    destroyCommitted: false,
    oldKeys: NONE,
    regenerated: false,
    touchRequested: false,
    reseal,
    sealId: undefined,
    cookiesReceived,
    commitFailed: false,
  }
}

/** Throws when the session may no longer change. */
export function guardState(state: State): void {
  if (state.destroyed) throw new SessionError('DESTROYED', 'This session was destroyed; it can no longer be changed.')
}

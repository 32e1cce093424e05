// The sealed-cookie store: the whole session lives in the browser, encrypted and authenticated
// (AES-256-GCM, `t1.<kid>.<iv>.<ct>`; or, with `format: 'iron'`, iron-session's `Fe26.2`). No
// server storage, so nothing to look up per request; the price is size (every request carries it)
// and revocation (a copied cookie stays valid until it expires unless `revokedBefore` says otherwise).
import { base64urlEncode, utf8 } from '../core/encoding.js'
import { isValidId } from '../core/id.js'
import { ironSeal, ironUnseal } from '../core/iron.js'
import type { MaybePromise } from '../core/maybe.js'
import { isObject } from '../core/plain.js'
import { Sealer } from '../core/seal.js'
import type { SessionRecord, StatelessStore } from '../core/types.js'
import type { Revocations } from './revocations.js'

/** Options of {@link CookieStore}. The secrets come from `createSessions({ secrets })`. */
export interface CookieStoreOptions {
  /**
   * The seal new cookies are written in. Both are always opened (an `iron` password given), so
   * switching either way logs no one out.
   * - `'tessera'`: AES-256-GCM, `t1.<kid>.<iv>.<ct>`, keyed by `createSessions({ secrets })`;
   *   carries the id, the user (`bindUser`) and the creation time.
   * - `'iron'`: iron-session's `Fe26.2*…~2` under `iron.password`, which the real iron-session (8
   *   and 9) opens: a fleet half on iron-session, or a rollback, keeps its users. The seal holds
   *   the data alone, so `bindUser`, `revokedBefore` and `absoluteTtl` need `'tessera'`; and it
   *   is valid 60 s past its expiry, as iron-session reads it.
   * @default 'tessera'
   */
  format?: 'tessera' | 'iron'
  /**
   * Splits a value longer than one cookie (4096 bytes with its attributes) over `name.0`,
   * `name.1`, … (iron-session 9's naming), at most 4 of them (iron-session 9's cap). `false`:
   * one cookie, and a longer session fails its commit with `SessionError` `TOO_LARGE` (what
   * iron-session 8 does).
   * @default true
   */
  chunk?: boolean
  /**
   * Largest sealed value, in bytes, over all of its cookies. A commit that would exceed it fails
   * with `SessionError` `TOO_LARGE` and sends no cookie. Every request carries it: nginx refuses
   * a request header line past 8 KiB by default (`large_client_header_buffers 4 8k`, and the
   * `Cookie` line holds every cookie of the site) and Node all request headers past 16 KiB (431).
   * So the default leaves 2 KiB of the 8 KiB to other cookies; chunking off, one cookie's 4096.
   * At most 16384 (4 chunks; Node's limit), or 4096 without chunking.
   * @default 6144 (4096 with `chunk: false`)
   */
  maxSize?: number
  /**
   * iron-session's password (a string, or its `{ id: password }` map: the highest id seals): opens
   * its cookies (`Fe26.2*…`), so users stay logged in while you move to Tessera, and seals with
   * `format: 'iron'`. With `format: 'tessera'` the next commit re-seals them in Tessera's format.
   * `legacySeals: false` refuses seals without iron-session 8's `~2` marker (iron-session 6/7's
   * `{ persistent }` shape), as iron-session 9 does: the marker sits outside the seal's HMAC.
   */
  iron?: IronOptions
  /**
   * Revocation for a stateless store: the time before which sessions of `userId` no longer count
   * (a `Date` or milliseconds since the epoch), or undefined when nothing was revoked. Called on
   * every request whose session is bound to a user (`session.bindUser`): keep it fast (cache it).
   * A rejection fails the request with `SessionError` `STORE_ERROR`. Needs `format: 'tessera'`.
   */
  revokedBefore?: (userId: string) => Date | number | undefined | null | Promise<Date | number | undefined | null>
  /**
   * Makes a logout final (review 2). A sealed session lives in the browser: without this, a
   * request still running when the user logs out can answer afterwards with a valid seal (the
   * session comes back), and the seal from before a `regenerate()` still opens. With a revocation
   * list, `destroy()` and the first commit after `regenerate()` add the seal's session id to it,
   * kept until no seal of that id can be valid (`ttl` past the logout, plus 10 minutes), and every
   * request checks it (`has`, one look-up per request carrying a seal). `redisRevocations(client)`
   * (`tessera/redis`) shares it between processes; `memoryRevocations()` serves one process.
   */
  revoked?: Revocations
}

/** The `iron` option of {@link CookieStore}: opening (and writing) iron-session's seals. */
export interface IronOptions {
  /** iron-session's password: a string, or its `{ id: password }` map (the highest id seals). */
  password: string | Record<string, string>
  /** `false` refuses seals without iron-session 8's `~2` marker (iron-session 6/7's shape). @default true */
  legacySeals?: boolean
  /**
   * The `ttl` iron-session sealed with, in seconds. An iron seal carries its expiry, not its
   * creation time: the session counts as created `ttl` before that expiry (review 3), so
   * `absoluteTtl` and `revokedBefore` measure from there, and a re-sealed session keeps it.
   * @default 1209600 (14 days, iron-session's default)
   */
  ttl?: number
  /**
   * A seal made with iron-session's `ttl: 0` carries no expiry at all. It opens until this time
   * (a `Date` or milliseconds since the epoch) and never after, counting as created 14 days before
   * it (or now, if that is later). Set it to when your migration ends. Without it such seals open
   * until 14 days after this CookieStore was created (each process start moves that).
   */
  noExpiryUntil?: Date | number
  /**
   * The user a migrated session belongs to, read from its data (say `(data) => data.user?.id`):
   * the session opens bound to that user, so `revokedBefore` ("log out everywhere") applies to
   * it, and to its re-seal (review 3). Undefined or null: not bound.
   */
  userId?: (data: Record<string, unknown>) => string | number | undefined | null
}

/** What `StatelessStore.unseal` resolves to; `reseal` asks the core to write it again in the current format. */
export interface OpenedSession {
  id: string
  record: SessionRecord
  /** The value opened but is not in the current format or key (an iron-session seal, an older secret). */
  reseal?: boolean
}

const DEFAULT_IRON_TTL_SEC = 14 * 24 * 3600

/** What the core hands the store once, from `createSessions`. */
export interface CookieStoreContext {
  /** The validated secrets, newest first: the first seals, every one opens. */
  secrets: readonly string[]
  /** The cookie name: seals are bound to it (`t2.`, review 4). Without it, `t1.` seals. */
  name?: string
  /** Whether a seal not bound to the name (`t1.`) still opens now (`acceptUnboundUntil`). @default always */
  acceptUnbound?: () => boolean
}

/** Version of the JSON payload inside the seal. */
const PAYLOAD_VERSION = 1
const DEFAULT_MAX_SIZE = 6144
/** What a browser keeps of one cookie, attributes included. */
const ONE_COOKIE = 4096
/** iron-session 9's cap: 4 cookies are already ~16 KiB on every request, Node's limit for all headers. */
const MAX_CHUNKS = 4
/** Iron's clock skew: a seal opens until 60 s past its expiration (iron-session's reading). */
const IRON_SKEW_SEC = 60
const MIN_IRON_PASSWORD = 32
/** Lifetime of a migrated iron seal that carries no expiry (iron-session `ttl: 0`): iron-session's default ttl. */
const IRON_NO_EXPIRY_MS = 14 * 24 * 3600 * 1000
const IRON_PREFIX = 'Fe26.2*'
const IRON_V8_SUFFIX = '~2'

/** The JSON inside a seal, with short keys. */
interface Payload {
  v: number
  /** id */
  i: string
  /** data */
  d: Record<string, unknown>
  /** createdAt, ms */
  c: number
  /** expiresAt, ms */
  e: number
  /** userId */
  u?: string
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Milliseconds since the epoch (fractions allowed: a ttl of 1.0005 s gives one). */
function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0
}

function validateIronPassword(password: unknown): string | Record<string, string> {
  const bad = (problem: string): never => {
    throw new TypeError(`CookieStore option iron.password ${problem}`)
  }
  if (typeof password === 'string') {
    if (password.length < MIN_IRON_PASSWORD) bad(`must be at least ${MIN_IRON_PASSWORD} characters, as iron-session requires`)
    return password
  }
  if (!isPlainObject(password)) return bad('must be a string or an { id: password } map, as given to iron-session')
  const entries = Object.entries(password)
  if (entries.length === 0) bad('must not be an empty map')
  for (const [id, secret] of entries) {
    if (typeof secret !== 'string' || secret.length < MIN_IRON_PASSWORD) {
      bad(`[${JSON.stringify(id)}] must be a string of at least ${MIN_IRON_PASSWORD} characters`)
    }
  }
  // A prototype-free copy: the seal names the password id, and must only reach own entries.
  return Object.assign(Object.create(null) as Record<string, string>, password)
}

/**
 * Keeps the whole session in the cookie, encrypted with AES-256-GCM under the `secrets` given to
 * `createSessions` (the first seals, all open: rotation). The client can neither read nor change
 * it. Values past 4096 bytes are split over `name.0` … `name.3` by the core (`chunk: false`: not
 * at all). `format: 'iron'` writes iron-session's seal instead, which the real iron-session opens.
 *
 * @example
 * import { createSessions, CookieStore } from 'tessera'
 * export const sessions = createSessions({
 *   store: new CookieStore({ maxSize: 8192 }),
 *   secrets: [process.env.SESSION_SECRET!],
 * })
 */
export class CookieStore implements StatelessStore {
  readonly stateless = true as const
  readonly maxSize: number
  /** Most cookies a value is split over: 4, or 1 with `chunk: false`. */
  readonly maxChunks: number
  readonly format: 'tessera' | 'iron'
  readonly #iron: string | Record<string, string> | undefined
  readonly #legacySeals: boolean
  readonly #ironTtl: number
  readonly #noExpiryUntil: number
  readonly #ironUser: IronOptions['userId']
  #secrets: readonly string[] | undefined
  #name: string | undefined
  #acceptUnbound: () => boolean = () => true
  #sealer: Sealer | undefined
  /** Whether the session of `userId` created at `createdAt` was revoked; present only with `revokedBefore`. */
  readonly isRevoked?: (userId: string, createdAt: number) => Promise<boolean>
  /** Whether seals of this session id were revoked; present only with `revoked`. */
  readonly isSealRevoked?: (id: string) => MaybePromise<boolean>
  /** Revokes seals of this session id until `until`; present only with `revoked`. */
  readonly revokeSeal?: (id: string, until: number) => MaybePromise<void>

  constructor(options: CookieStoreOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError('CookieStore options must be an object')
    const { format = 'tessera', chunk = true, iron, revokedBefore, revoked } = options
    if (format !== 'tessera' && format !== 'iron') throw new TypeError(`CookieStore option format must be 'tessera' or 'iron', got ${JSON.stringify(format)}`)
    if (typeof chunk !== 'boolean') throw new TypeError(`CookieStore option chunk must be true or false, got ${JSON.stringify(chunk)}`)
    const largest = chunk ? MAX_CHUNKS * ONE_COOKIE : ONE_COOKIE
    const { maxSize = chunk ? DEFAULT_MAX_SIZE : ONE_COOKIE } = options
    if (typeof maxSize !== 'number' || !Number.isInteger(maxSize) || maxSize < 1 || maxSize > largest) {
      throw new TypeError(
        `CookieStore option maxSize must be a whole number of bytes from 1 to ${largest}${chunk ? ' (4 cookies; Node refuses request headers past 16 KiB)' : ' (one cookie, chunk: false)'}, got ${JSON.stringify(maxSize)}`,
      )
    }
    if (iron !== undefined && !isPlainObject(iron)) throw new TypeError('CookieStore option iron must be an object: { password }')
    if (iron?.legacySeals !== undefined && typeof iron.legacySeals !== 'boolean') throw new TypeError('CookieStore option iron.legacySeals must be true or false')
    const { ttl: ironTtl = DEFAULT_IRON_TTL_SEC, noExpiryUntil, userId: ironUser } = iron ?? {}
    if (typeof ironTtl !== 'number' || !Number.isFinite(ironTtl) || ironTtl <= 0) {
      throw new TypeError(`CookieStore option iron.ttl must be a number of seconds > 0 (the ttl iron-session sealed with), got ${JSON.stringify(ironTtl)}`)
    }
    const notAfter = noExpiryUntil instanceof Date ? noExpiryUntil.getTime() : noExpiryUntil
    if (notAfter !== undefined && (typeof notAfter !== 'number' || !Number.isFinite(notAfter))) {
      throw new TypeError('CookieStore option iron.noExpiryUntil must be a Date or milliseconds since the epoch')
    }
    if (ironUser !== undefined && typeof ironUser !== 'function') throw new TypeError('CookieStore option iron.userId must be a function (data) => string | number | undefined')
    if (revoked !== undefined && (!isObject(revoked) || typeof revoked.has !== 'function' || typeof revoked.add !== 'function')) {
      throw new TypeError('CookieStore option revoked must have has(sealId) and add(sealId, until) methods (see memoryRevocations, redisRevocations)')
    }
    if (format === 'iron' && iron === undefined) throw new TypeError("CookieStore option format 'iron' needs iron: { password } (the password iron-session seals with)")
    if (revokedBefore !== undefined && typeof revokedBefore !== 'function') {
      throw new TypeError('CookieStore option revokedBefore must be a function (userId) => Date | number | undefined')
    }
    if (revokedBefore !== undefined && format === 'iron') {
      throw new TypeError("CookieStore option revokedBefore needs format 'tessera': an iron seal carries neither the user nor the creation time")
    }
    this.format = format
    this.maxSize = maxSize
    this.maxChunks = chunk ? MAX_CHUNKS : 1
    this.#iron = iron === undefined ? undefined : validateIronPassword(iron.password)
    this.#legacySeals = iron?.legacySeals ?? true
    this.#ironTtl = ironTtl * 1000
    this.#noExpiryUntil = notAfter ?? Date.now() + IRON_NO_EXPIRY_MS
    this.#ironUser = ironUser
    if (revoked) {
      this.isSealRevoked = (id) => revoked.has(id)
      this.revokeSeal = (id, until) => revoked.add(id, until)
    }
    // Only a store that can answer has `isRevoked`: without it, the core reports revocation as
    // unsupported (SessionError UNSUPPORTED from revokeUser) instead of pretending it worked.
    if (revokedBefore) this.isRevoked = (userId, createdAt) => isRevokedBy(revokedBefore, userId, createdAt)
  }

  /**
   * Called once by `createSessions` with its validated secrets. A store serves one secret list:
   * handing it another one (a second `createSessions` with other secrets) is a TypeError.
   */
  init(context: CookieStoreContext): void {
    const secrets = context?.secrets
    if (!Array.isArray(secrets) || secrets.length === 0 || secrets.some((s) => typeof s !== 'string' || s.length < 32)) {
      throw new TypeError('CookieStore needs at least one secret of 32 characters or more (createSessions({ secrets }))')
    }
    const { name, acceptUnbound } = context
    if (this.#secrets) {
      const same = this.#secrets.length === secrets.length && this.#secrets.every((s, i) => s === secrets[i])
      if (!same) throw new TypeError('This CookieStore is already used with other secrets; create one CookieStore per createSessions()')
      if (name === undefined || name === this.#name) return
      if (this.#name !== undefined) throw new TypeError('This CookieStore is already used under another cookie name; create one CookieStore per createSessions()')
    }
    this.#secrets = [...secrets]
    this.#name = name
    if (acceptUnbound) this.#acceptUnbound = acceptUnbound
    this.#sealer = new Sealer(this.#secrets, undefined, name)
  }

  async seal(id: string, record: SessionRecord): Promise<string> {
    if (this.format === 'iron') return this.#sealIron(record)
    const sealer = this.#sealer
    if (!sealer) {
      throw new Error('CookieStore has no secrets: pass it to createSessions({ store, secrets }), which hands them over')
    }
    const payload: Payload = { v: PAYLOAD_VERSION, i: id, d: record.data, c: record.createdAt, e: record.expiresAt }
    if (record.userId !== undefined) payload.u = record.userId
    return sealer.seal(JSON.stringify(payload))
  }

  /** Opens a Tessera seal (or, with `iron`, an iron-session seal). Undefined for anything else; never throws. */
  async unseal(value: string): Promise<OpenedSession | undefined> {
    try {
      if (typeof value !== 'string') return undefined
      if (value.startsWith(IRON_PREFIX)) return this.#iron === undefined ? undefined : await this.#openIron(value, this.#iron)
      const sealer = this.#sealer
      if (!sealer) return undefined
      let sealed = sealer.open(value)
      // Synchronous on node:crypto, and for a value the sealer remembers; else a promise (Web Crypto).
      if (sealed instanceof Promise) sealed = await sealed
      if (sealed === undefined) return undefined
      // Review 4: a t1. seal may come from another cookie name under the same secret.
      if (this.#name !== undefined && !sealed.bound && !this.#acceptUnbound()) return undefined
      const payload = JSON.parse(sealed.payload) as unknown
      if (!isPlainObject(payload) || payload.v !== PAYLOAD_VERSION) return undefined
      const { i: id, d: data, c: createdAt, e: expiresAt, u: userId } = payload
      if (typeof id !== 'string' || !isValidId(id) || !isPlainObject(data) || !isTime(createdAt) || !isTime(expiresAt)) return undefined
      if (userId !== undefined && typeof userId !== 'string') return undefined
      const record: SessionRecord = { data, createdAt, expiresAt }
      if (userId !== undefined) record.userId = userId
      const opened: OpenedSession = { id, record }
      // Sealed under an older secret, or not bound to the cookie name (a t1. seal): written again
      // under the current secret, bound, on this response (reviews 4 and 8).
      if (!sealed.current || (this.#name !== undefined && !sealed.bound)) opened.reseal = true
      return opened
    } catch {
      return undefined
    }
  }

  /** iron-session's seal of the data alone, expiring when the record does. */
  async #sealIron(record: SessionRecord): Promise<string> {
    // A user the `iron.userId` mapping gives back at the next open needs no room in the seal.
    if (record.userId !== undefined && (this.#ironUser === undefined || userOf(this.#ironUser, record.data) !== record.userId)) {
      throw new TypeError("CookieStore format 'iron' cannot carry bindUser()'s user: iron-session's seal holds the data alone (use format 'tessera')")
    }
    // A floor, not 0: ironSeal reads a ttl of 0 as "never expires".
    const ttlSec = Math.max(0.001, (record.expiresAt - Date.now()) / 1000)
    return ironSeal(record.data, this.#iron!, { ttlSec })
  }

  async #openIron(value: string, password: string | Record<string, string>): Promise<OpenedSession | undefined> {
    const now = Date.now()
    const iron = this.format === 'iron'
    // Sealing iron: read as iron-session reads (60 s of skew), so both sides of a mixed fleet agree.
    // Migrating away: no skew, a seal past its expiry is as dead as an expired Tessera session.
    const skewSec = iron ? IRON_SKEW_SEC : 0
    const opened = await ironUnseal(value, password, { ttlSkewSec: skewSec, now })
    if (opened === undefined) return undefined
    // iron-session v8 seals the data itself and marks it `~2`; v6/v7 sealed `{ persistent: data }`.
    const current = value.endsWith(IRON_V8_SUFFIX)
    if (!current && !this.#legacySeals) return undefined
    const data = current ? opened : isPlainObject(opened) ? opened.persistent : undefined
    if (!isPlainObject(data)) return undefined
    // The expiry field is covered by the HMAC ironUnseal just verified.
    const expiration = value.split('*')[5]
    let expiresAt: number
    let createdAt: number
    if (expiration) {
      expiresAt = Number(expiration) + skewSec * 1000
      // Review 3: the seal was made `ttl` before its expiry; re-sealing keeps that time.
      // (Never before the epoch: a clock near 0, as in tests, would otherwise refuse the seal.)
      createdAt = Math.max(0, Math.min(now, Number(expiration) - this.#ironTtl))
    } else if (iron) {
      // Sealing iron: iron-session's reading of `ttl: 0`, never expiring; each write sets one.
      expiresAt = now + IRON_NO_EXPIRY_MS
      createdAt = now
    } else {
      // Review 3: no expiry in the seal; a fixed not-after instead of "14 days from any request".
      expiresAt = this.#noExpiryUntil
      createdAt = Math.max(0, Math.min(now, expiresAt - IRON_NO_EXPIRY_MS))
      if (!(expiresAt > now)) return undefined
    }
    if (!isTime(expiresAt) || !isTime(createdAt)) return undefined
    const record: SessionRecord = { data, createdAt, expiresAt }
    if (this.#ironUser) {
      const userId = userOf(this.#ironUser, data)
      if (userId !== undefined) record.userId = userId
    }
    // An iron seal carries no id: the session's id is the seal's hash, so a revocation list
    // (review 2) can refuse this very seal when it is replayed after a logout.
    return { id: await sealHash(value), record, reseal: !iron || !current }
  }
}

/** The user the `iron.userId` mapping gives for `data`, as a string; undefined for none (or a mapping that throws). */
function userOf(map: NonNullable<IronOptions['userId']>, data: Record<string, unknown>): string | undefined {
  try {
    const user = map(data)
    return user === undefined || user === null ? undefined : String(user)
  } catch {
    return undefined
  }
}

/** SHA-256 of a seal, base64url: a valid session id (43 characters) naming that seal. */
async function sealHash(value: string): Promise<string> {
  return base64urlEncode(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8.encode(value))))
}

/** Sessions of `userId` created before `revokedBefore(userId)` are revoked. */
async function isRevokedBy(
  revokedBefore: NonNullable<CookieStoreOptions['revokedBefore']>,
  userId: string,
  createdAt: number,
): Promise<boolean> {
  const answer = await revokedBefore(userId)
  if (answer === undefined || answer === null) return false
  const at = answer instanceof Date ? answer.getTime() : answer
  if (typeof at !== 'number' || Number.isNaN(at)) {
    throw new TypeError(`CookieStore revokedBefore must return a Date, milliseconds since the epoch, or undefined; got ${String(answer)}`)
  }
  return createdAt < at
}

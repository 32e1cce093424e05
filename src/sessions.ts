// createSessions: the core (load, Session, commit) composed with the adapters and the default
// MemoryStore. Above src/core, which knows neither.
import { NodeContext } from './adapters/node.js'
import { pickContext } from './adapters/pick.js'
import type { RequestContext } from './core/context.js'
import { SessionError, storeError } from './core/errors.js'
import { EventSink } from './core/events.js'
import type { GetArgs, NodeResponse, SessionContext } from './core/frameworks.js'
import { load } from './core/load.js'
import { isThenable } from './core/maybe.js'
import { resolveConfig, type Config, type SessionsOptions } from './core/options.js'
import { rawData, Session } from './core/session.js'
import { sha256, Signer } from './core/sign.js'
import type { Engine } from './core/state.js'
import type { SessionData, SessionStore, SessionSummary, StatelessStore } from './core/types.js'
import { MemoryStore } from './stores/memory-store.js'

/** What `createSessions` returns: configure once, import everywhere. */
export interface Sessions<Data extends object = SessionData> {
  /**
   * The request's session. Accepts `(req, res)` from node:http (Express, Connect, micro, Pages
   * API routes), a `{ req, res }` context (`getServerSideProps`), a Web `Request` with an
   * optional `Response` (proxy.ts, Hono, Bun), a `{ request, response }` pair, or the cookie
   * store from Next.js `cookies()`. On node:http the session commits itself before the headers
   * leave; elsewhere call `await session.commit()`.
   */
  get(...args: GetArgs): Promise<Session<Data>>
  /** The session's data without creating a session or a cookie; undefined when there is none. */
  read(ctx: SessionContext): Promise<Partial<Data> | undefined>
  /** Shallow-merges `partial` into the data and commits. */
  merge(ctx: SessionContext, partial: Partial<Data>): Promise<Data>
  /** Replaces all data and commits. */
  replace(ctx: SessionContext, data: Data): Promise<Data>
  /** Returns the value under `key` and removes it (a flash message), committing the removal. */
  pluck<K extends keyof Data>(ctx: SessionContext, key: K): Promise<Data[K] | undefined>
  /** Destroys the request's session: store entry removed, cookie expired. */
  destroy(ctx: SessionContext): Promise<void>
  /** Every live session bound to `userId` (needs a store with a user index). */
  listUser(userId: string | number): Promise<SessionSummary[]>
  /** Ends every session of `userId` but `except` (a session id, usually the current one); resolves to how many. */
  revokeUser(userId: string | number, options?: { except?: string }): Promise<number>
  /** The validated options (durations in milliseconds). */
  readonly config: Readonly<Config>
}

const DEFAULT_STORE = Symbol.for('tessera.defaultStoresByName')
const WARNED = Symbol.for('tessera.warnedProductionMemoryStore')

// One MemoryStore per process and cookie name, kept on globalThis: Next.js bundles route handlers,
// pages and proxy.ts separately, and each bundle would otherwise get its own empty store. Per name
// (review 4): two configurations (`prefs`, `auth`) never share ids.
function defaultStore(name: string): SessionStore {
  // On globalThis, like the store: each Next.js bundle has its own copy of this module.
  const global = globalThis as { [DEFAULT_STORE]?: Map<string, MemoryStore>; [WARNED]?: boolean }
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
  if (env?.NODE_ENV === 'production' && !global[WARNED]) {
    global[WARNED] = true
    console.warn('tessera: using the in-process MemoryStore in production; sessions are lost on restart and not shared between processes. Pass a RedisStore or PostgresStore.')
  }
  const stores = (global[DEFAULT_STORE] ??= new Map())
  let store = stores.get(name)
  if (!store) stores.set(name, (store = new MemoryStore()))
  return store
}

/** Makes a node:http response commit the session before its headers leave (adapters/autocommit.ts). */
export type AutoCommit = (session: Session<object>, res: NodeResponse) => void

/**
 * `createSessions`, given how to autoCommit on node:http: the `tessera` entry passes the
 * writeHead/end patcher; its Edge build passes none, so the patcher is not in Edge bundles.
 */
export function sessionsOver<Data extends object = SessionData>(options: SessionsOptions, installAutoCommit: AutoCommit | undefined): Sessions<Data> {
  const config = resolveConfig(options, defaultStore)
  // The cookie store seals with the app's secrets: it gets them here, once.
  // Review 4: the cookie name goes into every seal's associated data and every id's MAC.
  const acceptUnbound = (): boolean => Date.now() < config.acceptUnboundUntil
  if (config.stateless) (config.store as StatelessStore).init?.({ secrets: config.secrets, name: config.name, acceptUnbound })
  const engine: Engine = {
    config,
    signer: config.secrets.length && !config.stateless ? new Signer(config.secrets, undefined, config.name, acceptUnbound) : undefined,
    events: config.onEvent ? new EventSink(config.onEvent) : undefined,
    cookieNames: Object.freeze([config.name]),
  }
  // One load per request, whoever asks first: the same Session for get(), read() and the helpers.
  // Kept in a slot on the request object itself (a WeakMap entry per request costs the garbage
  // collector measurably); a WeakMap serves objects that cannot take the slot.
  const slot = Symbol('tessera.session')
  const frozen = new WeakMap<object, Promise<Session<Data>>>()
  type Slotted = { [slot]?: Promise<Session<Data>> | undefined }

  /**
   * The request's session, loaded once per request; a failed load is forgotten, so the next call
   * retries. `res`: the node:http response to commit the session on before its headers leave.
   */
  function loadOnce(ctx: RequestContext, res?: NodeResponse): Promise<Session<Data>> {
    const key = ctx.key as Slotted
    const cached = key[slot] ?? (Object.isExtensible(key) ? undefined : frozen.get(key))
    if (cached) return res ? cached.then((session) => autoCommit(session, res)) : cached
    let loading: Promise<Session<Data>>
    try {
      const session = load(engine, ctx) as Session<Data> | Promise<Session<Data>>
      // A session loaded synchronously costs one resolved promise instead of a chain of awaits.
      loading = isThenable(session)
        ? session.then(
            (loaded) => (res ? autoCommit(loaded, res) : loaded),
            (error: unknown) => forget(key, error),
          )
        : Promise.resolve(res ? autoCommit(session, res) : session)
    } catch (error) {
      return Promise.reject(error)
    }
    if (Object.isExtensible(key)) key[slot] = loading
    else frozen.set(key, loading)
    return loading
  }

  function forget(key: Slotted, error: unknown): never {
    if (key[slot] !== undefined) key[slot] = undefined
    frozen.delete(key)
    throw error
  }

  function autoCommit(session: Session<Data>, res: NodeResponse): Session<Data> {
    installAutoCommit!(session, res)
    return session
  }

  function get(a: GetArgs[0], b?: GetArgs[1]): Promise<Session<Data>> {
    let ctx: RequestContext
    try {
      ctx = pickContext(a, b, config.trustProxy)
    } catch (error) {
      return Promise.reject(error) // as from the async function get() was
    }
    return loadOnce(ctx, config.autoCommit && installAutoCommit && ctx instanceof NodeContext ? ctx.response : undefined)
  }

  const store = (): SessionStore => {
    if (config.stateless) throw new SessionError('UNSUPPORTED', 'The cookie store keeps no per-user index; see revokedBefore in docs/cookie-store.md.')
    return config.store as SessionStore
  }

  return {
    config,
    get,
    async read(ctx) {
      const session = await loadOnce(pickContext(ctx, undefined, config.trustProxy))
      return session.isNew && !hasKeys(session[rawData]) ? undefined : (session[rawData] as Partial<Data>)
    },
    async merge(ctx, partial) {
      const session = await get(ctx as never)
      Object.assign(session.data, partial)
      await session.commit()
      return session.data
    },
    async replace(ctx, data) {
      const session = await get(ctx as never)
      session.data = data
      await session.commit()
      return session.data
    },
    async pluck(ctx, key) {
      const session = await get(ctx as never)
      const data = session[rawData]
      if (!Object.prototype.hasOwnProperty.call(data, key)) return undefined
      const value = data[key as string] as Data[typeof key]
      delete (session.data as Record<PropertyKey, unknown>)[key]
      await session.commit()
      return value
    },
    async destroy(ctx) {
      const session = await get(ctx as never)
      await session.destroy()
    },
    async listUser(userId) {
      const target = store()
      if (!target.listUser) throw new SessionError('UNSUPPORTED', 'This store keeps no per-user index (listUser).')
      try {
        return await target.listUser(String(userId))
      } catch (cause) {
        throw storeError('list the user’s sessions', cause)
      }
    },
    async revokeUser(userId, options = {}) {
      if (config.stateless) {
        const stateless = config.store as StatelessStore
        if (!stateless.isRevoked) {
          throw new SessionError('UNSUPPORTED', 'The cookie store can only revoke sessions with a revokedBefore callback; without it, logout only clears the cookie.')
        }
        return 0
      }
      const target = store()
      if (!target.revokeUser) throw new SessionError('UNSUPPORTED', 'This store keeps no per-user index (revokeUser).')
      const user = String(userId)
      const except = options.except === undefined ? undefined : config.hashIds ? await sha256(options.except) : options.except
      // Checklist 48: one `revoked` event per session. The stores answer a count only, so with
      // onEvent the user's sessions are listed first (one more store call, in time proportional
      // to that user's sessions); a session made between the two calls is revoked unreported.
      const events = engine.events
      let listed: readonly SessionSummary[] = []
      try {
        if (events && target.listUser) listed = await target.listUser(user)
        const count = await target.revokeUser(user, except)
        if (events) for (const { id } of listed) if (id !== except) events.emit('revoked', id, user, undefined)
        return count
      } catch (cause) {
        throw storeError('revoke the user’s sessions', cause)
      }
    },
  }
}

function hasKeys(data: object): boolean {
  for (const _ in data) return true
  return false
}

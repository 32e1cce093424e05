// The cookie value and what it stands for: a new id and the value its cookie carries (signed and
// encoded as configured), and the way back from a cookie value to an id. The cookie store's
// sealed value is opened by the store itself (StatelessStore.unseal).
import { isCookieValue } from './cookie.js'
import { generateId, isValidId } from './id.js'
import { after, type MaybePromise } from './maybe.js'
import type { Config } from './options.js'
import { sha256, type Verified } from './sign.js'
import type { Engine } from './state.js'

export interface NewId {
  id: string
  key: string
  cookieValue: string
}

/** A new id, its store key and its cookie value. */
export function newId(engine: Engine): MaybePromise<NewId> {
  const { config, signer } = engine
  const id = config.genid ? config.genid() : generateId()
  if (typeof id !== 'string' || !isValidId(id)) {
    throw new TypeError(`Tessera option genid returned ${JSON.stringify(id)}; ids must be 16–128 characters of [A-Za-z0-9_-]`)
  }
  // The cookie store seals at commit; server-side stores sign (and encode) now, so the cookie
  // is ready synchronously when autoCommit runs inside writeHead.
  const value: MaybePromise<string> = config.stateless ? '' : signer ? after(signer.sign(id), (signed) => encodeValue(config, signed)) : encodeValue(config, id)
  if (!config.hashIds) return after(value, (cookieValue) => ({ id, key: id, cookieValue }))
  return Promise.all([sha256(id), value]).then(([key, cookieValue]) => ({ id, key, cookieValue }))
}

/** The store key of an id: the id, or its SHA-256 with `hashIds`. */
export function storeKey(config: Config, id: string): MaybePromise<string> {
  return config.hashIds ? sha256(id) : id
}

/** A signed (or plain) id through the `encode` option, checked. */
export function encodeValue(config: Config, value: string): MaybePromise<string> {
  if (!config.encode) return value
  return after(config.encode(value), (encoded) => {
    if (typeof encoded !== 'string' || encoded === '' || !isCookieValue(encoded)) {
      // The value is not quoted: it would carry the signed id into logs.
      const got = typeof encoded === 'string' ? (encoded === '' ? 'an empty string' : `a string of ${encoded.length} characters that is not a cookie value`) : typeof encoded
      throw new TypeError(`Tessera option encode returned ${got}; it must return a non-empty cookie value (cookie-octets only)`)
    }
    return encoded
  })
}

/** The cookie value through the `decode` option: undefined when it rejects the value. */
export async function decodeValue(config: Config, raw: string): Promise<string | undefined> {
  try {
    const decoded = await config.decode!(raw)
    return typeof decoded === 'string' && decoded !== '' ? decoded : undefined
  } catch {
    return undefined
  }
}

/**
 * The id a (decoded) cookie value carries, when its signature (with `secrets`) or its shape holds;
 * `reseal`: the value must be written again now (an older secret, an unbound MAC, express-session's format).
 */
export function idOf(engine: Engine, value: string): MaybePromise<Verified | undefined> {
  return engine.signer ? engine.signer.verify(value) : isValidId(value) ? { id: value, reseal: false } : undefined
}

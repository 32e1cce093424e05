// Signed session ids `<id>.<base64url MAC>`, as cookie values of stores that keep the session on
// the server when `secrets` are given. Keys come from the shared key cache. Two MACs, same layout:
//   bound (written since review 4)  HMAC-SHA-256(secret, "tessera-id.v2\n" + cookie name + "\n" + id)
//   unbound (before; express-session's `s:` too)  HMAC-SHA-256(secret, id)
// Every cookie ever written must keep opening: the unbound MAC stays readable (see acceptUnbound).
import { backend as defaultBackend, hmacSign, hmacVerify, type Backend } from './crypto.js'
import { base64urlDecode, base64urlEncode } from './encoding.js'
import { isValidId } from './id.js'

export { sha256 } from './crypto.js'

// Positive verifications are remembered, so a returning visitor costs a Map lookup instead of an
// HMAC. Only values that verified under this signer's secrets are kept: the answer cannot differ.
const VERIFIED_CACHE_SIZE = 10_000
const MAC_BYTES = 32

/** What {@link Signer.unsign} found in a cookie value. */
export interface Verified {
  id: string
  /**
   * Write the cookie again now, signed with the first secret and bound to the name: it verified
   * under an older secret (review 8), with the unbound MAC, or in express-session's format.
   */
  reseal: boolean
}

/**
 * Signs session ids with HMAC-SHA-256: the first secret signs, every secret verifies. Keys come
 * from the shared key cache; synchronous primitives on node:crypto where reachable (crypto.ts).
 */
export class Signer {
  readonly #secrets: readonly string[]
  readonly #backend: Backend
  readonly #verified = new Map<string, Verified & { unbound?: boolean }>()
  /** `tessera-id.v2\n<name>\n`, or undefined: sign unbound (a Signer made without a name). */
  readonly #bound: string | undefined
  /** Whether unbound MACs (and express-session's) still verify. */
  readonly #acceptUnbound: () => boolean

  /**
   * @param backend internal (tests): the primitives to run on; by default the crypto module's switch.
   * @param name the cookie name the MAC binds (review 4); without it the Signer signs unbound.
   * @param acceptUnbound whether unbound MACs still verify, asked per value (a time may pass).
   */
  constructor(secrets: readonly string[], backend: Backend = defaultBackend, name?: string, acceptUnbound: () => boolean = () => true) {
    this.#secrets = [...secrets]
    this.#backend = backend
    this.#bound = name === undefined ? undefined : `tessera-id.v2\n${name}\n`
    this.#acceptUnbound = acceptUnbound
  }

  /** `<id>.<base64url HMAC>`, bound to the cookie name when the Signer has one. */
  async sign(id: string): Promise<string> {
    const value = `${id}.${base64urlEncode(await hmacSign(this.#secrets[0]!, this.#bound === undefined ? id : this.#bound + id, this.#backend))}`
    this.#remember(value, { id, reseal: false })
    return value
  }

  /**
   * The id inside a signed cookie value, or undefined when the value is malformed or no secret
   * verifies it. Accepts Tessera's `<id>.<mac>` and express-session's `s:<id>.<mac>` (standard
   * base64, unpadded), so apps moving from express-session keep their users logged in.
   */
  async unsign(value: string): Promise<string | undefined> {
    return (await this.verify(value))?.id
  }

  /**
   * Like {@link unsign}, and tells whether the value must be written again (an older secret, the
   * unbound MAC, express-session's format): the core re-issues it on this response (review 8).
   */
  async verify(value: string): Promise<Verified | undefined> {
    const known = this.#verified.get(value)
    if (known !== undefined) return known.unbound && !this.#acceptUnbound() ? undefined : known
    const legacy = value.startsWith('s:')
    const body = legacy ? value.slice(2) : value
    const dot = body.lastIndexOf('.')
    if (dot === -1) return undefined
    const id = body.slice(0, dot)
    if (!isValidId(id)) return undefined
    let mac = body.slice(dot + 1)
    if (legacy) mac = mac.replace(/\+/g, '-').replace(/\//g, '_')
    const signature = base64urlDecode(mac)
    if (!signature || signature.length !== MAC_BYTES) return undefined
    const bound = this.#bound
    if (bound !== undefined && !legacy) {
      const index = await hmacVerify(this.#secrets, bound + id, signature, this.#backend)
      if (index !== -1) return this.#remember(value, { id, reseal: index !== 0 })
    }
    if (bound !== undefined && !this.#acceptUnbound()) return undefined
    const index = await hmacVerify(this.#secrets, id, signature, this.#backend)
    if (index === -1) return undefined
    return this.#remember(value, { id, reseal: legacy || bound !== undefined || index !== 0, unbound: bound !== undefined })
  }

  #remember(value: string, verified: Verified & { unbound?: boolean }): Verified {
    if (this.#verified.size >= VERIFIED_CACHE_SIZE) this.#verified.clear()
    this.#verified.set(value, verified)
    return verified
  }
}

// Signed session ids `<id>.<base64url HMAC-SHA-256(secret, id)>`, as cookie values of stores that
// keep the session on the server when `secrets` are given. Keys come from the shared key cache.
import { backend as defaultBackend, hmacSign, hmacVerify, type Backend } from './crypto.js'
import { base64urlDecode, base64urlEncode } from './encoding.js'
import { isValidId } from './id.js'

export { sha256 } from './crypto.js'

// Positive verifications are remembered, so a returning visitor costs a Map lookup instead of an
// HMAC. Only values that verified under this signer's secrets are kept: the answer cannot differ.
const VERIFIED_CACHE_SIZE = 10_000
const MAC_BYTES = 32

/**
 * Signs session ids with HMAC-SHA-256: the first secret signs, every secret verifies. Keys come
 * from the shared key cache; synchronous primitives on node:crypto where reachable (crypto.ts).
 */
export class Signer {
  readonly #secrets: readonly string[]
  readonly #backend: Backend
  readonly #verified = new Map<string, string>()

  /** @param backend internal (tests): the primitives to run on; by default the crypto module's switch. */
  constructor(secrets: readonly string[], backend: Backend = defaultBackend) {
    this.#secrets = [...secrets]
    this.#backend = backend
  }

  /** `<id>.<base64url HMAC>` */
  async sign(id: string): Promise<string> {
    const value = `${id}.${base64urlEncode(await hmacSign(this.#secrets[0]!, id, this.#backend))}`
    this.#remember(value, id)
    return value
  }

  /**
   * The id inside a signed cookie value, or undefined when the value is malformed or no secret
   * verifies it. Accepts Tessera's `<id>.<mac>` and express-session's `s:<id>.<mac>` (standard
   * base64, unpadded), so apps moving from express-session keep their users logged in.
   */
  async unsign(value: string): Promise<string | undefined> {
    const known = this.#verified.get(value)
    if (known !== undefined) return known
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
    if ((await hmacVerify(this.#secrets, id, signature, this.#backend)) === -1) return undefined
    this.#remember(value, id)
    return id
  }

  #remember(value: string, id: string): void {
    if (this.#verified.size >= VERIFIED_CACHE_SIZE) this.#verified.clear()
    this.#verified.set(value, id)
  }
}

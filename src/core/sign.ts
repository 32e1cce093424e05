import { base64urlDecode, base64urlEncode, utf8 } from './encoding.js'
import { isValidId } from './id.js'

// Positive verifications are remembered, so a returning visitor costs a Map lookup instead of an
// HMAC. Only values that verified under this signer's secrets are kept: the answer cannot differ.
const VERIFIED_CACHE_SIZE = 10_000

/**
 * Signs session ids with HMAC-SHA-256: the first secret signs, every secret verifies.
 * Keys are imported once per secret and kept; nothing is derived per request.
 */
export class Signer {
  readonly #keys: Promise<CryptoKey>[]
  readonly #verified = new Map<string, string>()

  constructor(secrets: readonly string[]) {
    this.#keys = secrets.map((secret) =>
      crypto.subtle.importKey('raw', utf8.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']),
    )
  }

  /** `<id>.<base64url HMAC>` */
  async sign(id: string): Promise<string> {
    const mac = await crypto.subtle.sign('HMAC', await this.#keys[0]!, utf8.encode(id))
    const value = `${id}.${base64urlEncode(new Uint8Array(mac))}`
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
    if (!signature || signature.length !== 32) return undefined
    const data = utf8.encode(id)
    for (const key of this.#keys) {
      // crypto.subtle.verify compares in constant time.
      if (await crypto.subtle.verify('HMAC', await key, signature, data)) {
        this.#remember(value, id)
        return id
      }
    }
    return undefined
  }

  #remember(value: string, id: string): void {
    if (this.#verified.size >= VERIFIED_CACHE_SIZE) this.#verified.clear()
    this.#verified.set(value, id)
  }
}

/** SHA-256 of a string, base64url: how `hashIds` keys the store. */
export async function sha256(text: string): Promise<string> {
  return base64urlEncode(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8.encode(text))))
}

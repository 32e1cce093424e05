import { base64urlDecode, base64urlEncode, utf8 } from './encoding.js'
import { isValidId } from './id.js'
import { nodeCrypto, type NodeCrypto } from './seal.js'

// Positive verifications are remembered, so a returning visitor costs a Map lookup instead of an
// HMAC. Only values that verified under this signer's secrets are kept: the answer cannot differ.
const VERIFIED_CACHE_SIZE = 10_000

/**
 * Signs session ids with HMAC-SHA-256: the first secret signs, every secret verifies.
 * Keys are imported once per secret and kept; nothing is derived per request. Runs synchronously
 * on `node:crypto` where the runtime has it, on Web Crypto elsewhere (same MACs).
 */
export class Signer {
  readonly #node: NodeCrypto | null
  /** The secrets as bytes (node:crypto) or imported keys (Web Crypto). */
  readonly #raw: Uint8Array[]
  readonly #keys: Promise<CryptoKey>[]
  readonly #verified = new Map<string, string>()

  /** @param node internal: `node:crypto` to sign with, or null for Web Crypto (tests); by default node:crypto if reachable. */
  constructor(secrets: readonly string[], node: NodeCrypto | null = nodeCrypto ?? null) {
    this.#node = node
    this.#raw = secrets.map((secret) => utf8.encode(secret))
    this.#keys = node
      ? []
      : this.#raw.map((secret) => crypto.subtle.importKey('raw', secret as Uint8Array<ArrayBuffer>, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']))
  }

  /** `<id>.<base64url HMAC>` */
  async sign(id: string): Promise<string> {
    const node = this.#node
    const mac = node
      ? node.createHmac('sha256', this.#raw[0]!).update(id, 'utf8').digest()
      : new Uint8Array(await crypto.subtle.sign('HMAC', await this.#keys[0]!, utf8.encode(id)))
    const value = `${id}.${base64urlEncode(mac)}`
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
    const node = this.#node
    if (node) {
      for (const secret of this.#raw) {
        // timingSafeEqual compares in constant time.
        if (node.timingSafeEqual(node.createHmac('sha256', secret).update(id, 'utf8').digest(), signature)) {
          this.#remember(value, id)
          return id
        }
      }
      return undefined
    }
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
  if (nodeCrypto) return base64urlEncode(nodeCrypto.createHash('sha256').update(text, 'utf8').digest())
  return base64urlEncode(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8.encode(text))))
}

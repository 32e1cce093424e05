// Tessera's cryptography: the one key cache and the primitives every format shares. The wire
// formats sit beside it, each in its own file, and take their keys and primitives from here:
//   seal.ts   `t1.<kid>.<iv>.<ct>`  AES-256-GCM sealed cookies (the cookie store)
//   sign.ts   `<id>.<mac>`          signed session ids (HMAC-SHA-256)
//   iron.ts   `Fe26.2*…`            iron seals (iron-session migration and the compat entry)
//   csrf      signed CSRF tokens, through hmacSign / hmacVerify
//   sha256    `hashIds`' store keys
//
// Two implementations of the same primitives, chosen by one switch (`backend` below): Web Crypto
// here, and `node:crypto` (synchronous) in src/adapters/node-crypto.ts, which the Node build of
// the `tessera` entry installs. They compute the same bytes. decisions/crypto.md has the figures that keep the
// node path: per seal, signature or hash it saves 17–38 µs of CPU on Node 20.
// Iron runs on Web Crypto on every runtime: it only migrates old cookies.
import { base64urlDecode, base64urlEncode, utf8 } from './encoding.js'

/** Bytes Web Crypto accepts as input. */
export type Bytes = Uint8Array<ArrayBuffer>
/** A value, or a promise of it: node:crypto answers synchronously, Web Crypto never does. */
export type MaybePromise<T> = T | Promise<T>

/**
 * The primitives, on one backend. A key handle is whatever the backend keeps (raw bytes on
 * node:crypto, a `Promise<CryptoKey>` on Web Crypto); it is only ever given back to the backend
 * that made it.
 * @internal exported for tests, which check that both compute the same bytes
 */
export interface Backend {
  readonly name: 'node' | 'web'
  /** An AES-256-GCM key: HKDF-SHA-256(secret, salt, info), 32 bytes. */
  aesGcmKey(secret: Bytes, salt: Bytes, info: Bytes): unknown
  /** AES-256-GCM of the UTF-8 text: ciphertext followed by its 16-byte tag. */
  encrypt(key: unknown, iv: Bytes, aad: Bytes, plaintext: string): MaybePromise<Uint8Array>
  /** The plaintext; throws or rejects when the tag does not verify. */
  decrypt(key: unknown, iv: Bytes, aad: Bytes, sealed: Bytes): MaybePromise<Uint8Array>
  /** An HMAC-SHA-256 key. */
  hmacKey(secret: Bytes): unknown
  hmac(key: unknown, data: Bytes): MaybePromise<Uint8Array>
  /** Whether `mac` is the HMAC of `data`, compared in constant time. */
  verify(key: unknown, data: Bytes, mac: Bytes): MaybePromise<boolean>
  sha256(data: Bytes): MaybePromise<Uint8Array>
  /** Unpadded base64url (native on Node: a seal's encoding is a tenth of the JavaScript loop's cost). */
  encode(bytes: Uint8Array): string
  /** Canonical unpadded base64url only (see isCanonicalBase64url); undefined for anything else. */
  decode(text: string): Bytes | undefined
}

/** Bytes of an AES-GCM tag. */
export const TAG_BYTES = 16

/** Web Crypto (`crypto.subtle`): Edge runtimes, workers, browsers, Node without getBuiltinModule. */
export const webBackend: Backend = {
  name: 'web',
  // async: a runtime without Web Crypto rejects where the key is awaited instead of throwing here.
  async aesGcmKey(secret, salt, info) {
    const base = await crypto.subtle.importKey('raw', secret, 'HKDF', false, ['deriveKey'])
    return crypto.subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt, info }, base, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'])
  },
  encrypt: async (key, iv, aad, plaintext) =>
    new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad }, await (key as Promise<CryptoKey>), utf8.encode(plaintext))),
  decrypt: async (key, iv, aad, sealed) =>
    new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData: aad }, await (key as Promise<CryptoKey>), sealed)),
  hmacKey: async (secret) => crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']),
  hmac: async (key, data) => new Uint8Array(await crypto.subtle.sign('HMAC', await (key as Promise<CryptoKey>), data)),
  verify: async (key, data, mac) => crypto.subtle.verify('HMAC', await (key as Promise<CryptoKey>), mac, data),
  sha256: async (data) => new Uint8Array(await crypto.subtle.digest('SHA-256', data)),
  encode: base64urlEncode,
  decode: base64urlDecode,
}

/**
 * The switch: Web Crypto, unless the Node build of the `tessera` entry installed the synchronous
 * `node:crypto` backend (src/adapters/node-crypto.ts) with `useBackend`. The core itself reaches
 * no Node API, so Edge bundles carry none of it.
 */
export let backend: Backend = webBackend

/** Installs the backend every later key, seal, signature and hash uses (keys made before keep theirs). */
export function useBackend(next: Backend): void {
  backend = next
}

// ---------------------------------------------------------------------------------------------
// The key cache

/** Keys per cache generation; the cache holds at most twice as many. */
const GENERATION_SIZE = 512

/**
 * Keys by purpose and secret: `${purpose}\0${secret}`. Two generations: when the newer one is
 * full it becomes the older one and the older one is dropped; a key found in the older one
 * moves back to the newer one. Iron's salts come from cookies, so a visitor can fill the cache
 * with junk: memory stays bounded, and a key in steady use is found again before it could be
 * dropped (at worst it is derived again). Sealer and Signer also keep their keys themselves.
 */
let recent = new Map<string, unknown>()
let older = new Map<string, unknown>()

/**
 * The key for `purpose` and `secret`, derived by `derive` the first time and kept. A derivation
 * that throws is not kept; one that rejects is dropped when it does (and rejects where the key is
 * awaited), so it is tried again next time.
 */
export function cachedKey<T>(purpose: string, secret: string, derive: () => T): T {
  const id = `${purpose}\0${secret}`
  if (recent.has(id)) return recent.get(id) as T
  const key = older.has(id) ? (older.get(id) as T) : derive()
  if (recent.size >= GENERATION_SIZE) {
    older = recent
    recent = new Map()
  }
  recent.set(id, key)
  if (key instanceof Promise) {
    key.catch(() => {
      if (recent.get(id) === key) recent.delete(id)
      if (older.get(id) === key) older.delete(id)
    })
  }
  return key
}

function bytesOf(data: string | Bytes): Bytes {
  return typeof data === 'string' ? utf8.encode(data) : data
}

/** The HMAC-SHA-256 key of a secret on `on`: signed session ids and signed CSRF tokens. */
export function hmacKey(secret: string, on: Backend = backend): unknown {
  return cachedKey(`${on.name} hmac`, secret, () => on.hmacKey(utf8.encode(secret)))
}

/** HMAC-SHA-256 of `data` (a string is taken as UTF-8) under `secret`. Synchronous on node:crypto. */
export function hmacSign(secret: string, data: string | Bytes, on: Backend = backend): MaybePromise<Uint8Array> {
  return on.hmac(hmacKey(secret, on), bytesOf(data))
}

/**
 * The index of the first of `secrets` under which `mac` is the HMAC-SHA-256 of `data`, or -1.
 * Each comparison runs in constant time.
 */
export async function hmacVerify(secrets: readonly string[], data: string | Bytes, mac: Bytes, on: Backend = backend): Promise<number> {
  const bytes = bytesOf(data)
  for (let i = 0; i < secrets.length; i++) {
    if (await on.verify(hmacKey(secrets[i]!, on), bytes, mac)) return i
  }
  return -1
}

/** SHA-256 of `data` (a string is taken as UTF-8). Synchronous on node:crypto. */
export function sha256Bytes(data: string | Bytes, on: Backend = backend): MaybePromise<Uint8Array> {
  return on.sha256(bytesOf(data))
}

/** SHA-256 of a string, base64url: how `hashIds` keys the store. */
export async function sha256(text: string): Promise<string> {
  return base64urlEncode(await sha256Bytes(text))
}

/** `length` bytes from the platform's CSPRNG. */
export function randomBytes(length: number): Bytes {
  return crypto.getRandomValues(new Uint8Array(length))
}

// base64url without Buffer, so the core runs wherever only Web APIs exist (Edge, workers).

/** Encodes bytes as unpadded base64url. */
export function base64urlEncode(bytes: Uint8Array): string {
  let binary = ''
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]!)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

const BASE64URL = /^[A-Za-z0-9_-]*$/

/** Decodes unpadded, canonical base64url; undefined for anything else. Never throws. */
export function base64urlDecode(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!BASE64URL.test(text) || text.length % 4 === 1) return undefined
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'))
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  // Only the canonical spelling: unused trailing bits would let several texts mean the same bytes.
  return base64urlEncode(bytes) === text ? bytes : undefined
}

export const utf8 = new TextEncoder()

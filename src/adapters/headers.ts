// Header chores every adapter shares: merging our Set-Cookie lines into the ones a response
// already has, and reading X-Forwarded-Proto.
import type { OutgoingCookie } from '../core/cookie.js'

/** Lines of a Set-Cookie header value as node:http keeps it (undefined, a string, or a list). */
export function setCookieLines(value: unknown): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)]
}

/**
 * The response's Set-Cookie lines with ours in place of any earlier line for the same cookie
 * names: one Set-Cookie per cookie name, whatever ran before.
 */
export function mergeSetCookie(previous: unknown, cookies: readonly OutgoingCookie[], lines: readonly string[]): string[] {
  const kept = setCookieLines(previous).filter((line) => !cookies.some((cookie) => line.startsWith(`${cookie.name}=`)))
  return [...kept, ...lines]
}

/** The first X-Forwarded-Proto value is https: true; another value: false; none: undefined. */
export function forwardedHttps(value: string | null | undefined): boolean | undefined {
  if (!value) return undefined
  return value.split(',')[0]!.trim().toLowerCase() === 'https'
}

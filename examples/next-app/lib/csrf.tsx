// CSRF protection for the App Router forms. Server components cannot write the session, so the
// token they render is a signed one: computed from the session id with the session secrets,
// nothing stored (docs/csrf.md, "Server actions"). Next.js already checks a server action's
// Origin against Host; Tessera adds Sec-Fetch-Site, `Origin: null` and the token bound to the
// session, so a token rendered before login dies with the old id at regenerate().
import { headers } from 'next/headers'
import { getSession } from 'tessera/next'
import { createCsrfToken, CSRF_FIELD, verifyOrigin, verifySignedCsrfToken } from 'tessera/csrf'
import { sessions } from '@/lib/session'

/** The hidden token field, for any `<form action={serverAction}>` a server component renders. */
export async function CsrfField() {
  const session = await getSession(sessions)
  // A visitor without a saved session has no lasting id to bind a token to: the origin check
  // stands alone there (all a forged request could reach is a brand-new, empty session).
  const token = session.isNew ? '' : await createCsrfToken(sessions.config.secrets, session.id)
  return <input type="hidden" name={CSRF_FIELD} value={token} />
}

/** The first line of every server action that changes something. Throws on a forged request. */
export async function requireCsrf(form: FormData): Promise<void> {
  const origin = verifyOrigin({ method: 'POST', headers: await headers() }, { allowed: allowedOrigins() })
  if (!origin.ok) throw new Error(`CSRF check failed (${origin.reason})`)
  const session = await getSession(sessions)
  if (session.isNew) return
  const token = await verifySignedCsrfToken(sessions.config.secrets, session.id, form.get(CSRF_FIELD))
  if (!token.ok) throw new Error(`CSRF check failed (${token.reason})`)
}

/**
 * APP_ORIGIN (for instance https://shop.example) when the app runs behind a proxy; unset, the
 * request's own origin (`http://` + Host) is the only one allowed.
 */
export function allowedOrigins(): string[] {
  return process.env.APP_ORIGIN ? [process.env.APP_ORIGIN] : []
}

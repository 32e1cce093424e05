// CSRF protection for the App Router forms. Server components cannot write the session, so the
// token they render is a signed one: computed from the session id with the session secrets,
// nothing stored (docs/csrf.md, "Server actions"). Next.js already checks a server action's
// Origin against Host; Tessera adds Sec-Fetch-Site, `Origin: null` and the token bound to the
// session, so a token rendered before login dies with the old id at regenerate().
import { headers } from 'next/headers'
import { revalidatePath } from 'next/cache'
import { redirect } from 'next/navigation'
import { getSession } from 'tessera/next'
import { createCsrfToken, CSRF_FIELD, CsrfError, verifyOrigin, verifySignedCsrfToken } from 'tessera/csrf'
import { sessions } from '@/lib/session'

/** The hidden token field, for any `<form action={serverAction}>` a server component renders. */
export async function CsrfField() {
  const session = await getSession(sessions)
  // A visitor without a saved session has no lasting id to bind a token to: the origin check
  // stands alone there (all a forged request could reach is a brand-new, empty session).
  const token = session.isNew ? '' : await createCsrfToken(sessions.config.secrets, session.id)
  return <input type="hidden" name={CSRF_FIELD} value={token} />
}

/**
 * The first line of every server action that changes something.
 * - A request from another origin throws a CsrfError (code 'invalid-origin', status 403): it is
 *   refused and logged, and there is no page of ours to send it back to.
 * - A form of this app whose token no longer fits the session (the visitor logged in or out in
 *   another tab after it was rendered) goes back to its page, rendered again with a fresh token
 *   and `?csrf=expired`, which <CsrfNotice /> explains. Nothing was changed.
 */
export async function requireCsrf(form: FormData): Promise<void> {
  const request = { method: 'POST', headers: await headers() }
  const origin = verifyOrigin(request, { allowed: allowedOrigins() })
  if (!origin.ok) throw new CsrfError(origin)
  const session = await getSession(sessions)
  if (session.isNew) return
  const token = await verifySignedCsrfToken(sessions.config.secrets, session.id, form.get(CSRF_FIELD))
  if (!token.ok) {
    revalidatePath('/', 'layout') // every form on the page, the layout's too, renders its token again
    redirect(formPage(request.headers.get('referer')))
  }
}

/** The path of the page the form was on (a local path only), with `csrf=expired`. */
function formPage(referer: string | null): string {
  try {
    const url = new URL(referer ?? '/', 'http://localhost')
    url.searchParams.set('csrf', 'expired')
    if (/^\/(?![/\\])/.test(url.pathname)) return `${url.pathname}${url.search}`
  } catch {
    // not a URL: the home page
  }
  return '/?csrf=expired'
}

/** Explains a form sent back by requireCsrf; pages render it with their `csrf` search parameter. */
export function CsrfNotice({ csrf }: { csrf?: string | undefined }) {
  if (csrf !== 'expired') return null
  return (
    <p className="error" data-testid="csrf-notice">
      This page was out of date (you logged in or out in another tab), so nothing was changed. It is up to date now: try again.
    </p>
  )
}

/**
 * APP_ORIGIN (for instance https://shop.example) when the public origin is not the one the
 * request names: the own origin is read from X-Forwarded-Host / Host and X-Forwarded-Proto,
 * the headers Next.js compares for its own server action check.
 */
export function allowedOrigins(): string[] {
  return process.env.APP_ORIGIN ? [process.env.APP_ORIGIN] : []
}

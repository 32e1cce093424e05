import { redirect } from 'next/navigation'
import { getSession } from 'tessera/next'
import { sessions } from '@/lib/session'
import { CsrfField, CsrfNotice } from '@/lib/csrf'
import { logoutEverywhere } from '../actions'

// proxy.ts sends visitors without a user to /login; the page checks again (never rely on the proxy alone).
export default async function AccountPage({ searchParams }: { searchParams: Promise<{ csrf?: string }> }) {
  const { csrf } = await searchParams
  const session = await getSession(sessions)
  const user = session.data.user
  if (!user || session.userId === undefined) redirect('/login?next=/account')
  const list = await sessions.listUser(session.userId)
  return (
    <>
      <h1 data-testid="account-title">Account of {user.name}</h1>
      <CsrfNotice csrf={csrf} />
      <section className="card">
        <h2>Your sessions</h2>
        <ul className="plain" data-testid="sessions">
          {list.map((s, i) => (
            <li key={i}>
              Signed in {s.createdAt.toISOString().slice(0, 19).replace('T', ' ')} UTC · expires{' '}
              {s.expiresAt.toISOString().slice(0, 10)}
              {s.id === session.id ? <strong> · this browser</strong> : null}
            </li>
          ))}
        </ul>
        <form action={logoutEverywhere} style={{ marginTop: '0.75rem' }}>
          <CsrfField />
          <button type="submit">Log out everywhere</button>
        </form>
      </section>
    </>
  )
}

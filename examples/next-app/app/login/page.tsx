import { CsrfField, CsrfNotice } from '@/lib/csrf'
import { login } from '../actions'

export default async function LoginPage({ searchParams }: { searchParams: Promise<{ next?: string; error?: string; csrf?: string }> }) {
  const { next = '/', error, csrf } = await searchParams
  return (
    <>
      <h1>Log in</h1>
      <CsrfNotice csrf={csrf} />
      <section className="card">
        <form action={login} className="inline">
          <CsrfField />
          <input type="hidden" name="next" value={next} />
          <input type="text" name="name" placeholder="Your name" aria-label="Name" required autoFocus />
          <button type="submit">Log in</button>
        </form>
        {error ? <p className="error">Enter a name.</p> : null}
        <p className="muted">No password: any name logs you in. The session gets a new id (regenerate) and is bound to the name.</p>
      </section>
    </>
  )
}

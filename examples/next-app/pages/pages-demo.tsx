// The Pages Router: getServerSideProps gets node:http req/res, so `sessions.get(context)` commits
// by itself before the page is sent (autoCommit); no commit() call needed.
import type { GetServerSideProps } from 'next'
import { CSRF_FIELD, csrfToken } from 'tessera/csrf'
import { sessions } from '@/lib/session'

interface Props {
  user: { name: string } | null
  count: number
  cart: string[]
  csrf: string
}

export const getServerSideProps: GetServerSideProps<Props> = async (context) => {
  const session = await sessions.get(context)
  return {
    props: {
      user: session.data.user ?? null,
      count: session.data.count ?? 0,
      cart: session.data.cart ?? [],
      csrf: csrfToken(session), // created on first use and saved with the session (autoCommit)
    },
  }
}

export default function PagesDemo({ user, count, cart, csrf }: Props) {
  return (
    <>
      <header>
        <a href="/" className="brand">Tessera</a>
        <span className="who">Pages Router</span>
      </header>
      <main>
        <h1>getServerSideProps</h1>
        <section className="card">
          <p>
            User: <strong data-testid="pages-user">{user ? user.name : 'nobody'}</strong>
          </p>
          <p>
            Count: <strong data-testid="pages-count">{count}</strong> · Cart: {cart.length ? cart.join(', ') : 'empty'}
          </p>
          {/* A plain HTML form, no JavaScript: the token field is what a page on another site cannot know. */}
          <form method="post" action="/api/reset" className="inline">
            <input type="hidden" name={CSRF_FIELD} value={csrf} />
            <button type="submit">Reset counter</button>
          </form>
        </section>
        <p className="muted">The same session as the App Router pages, read through the Pages Router.</p>
      </main>
    </>
  )
}

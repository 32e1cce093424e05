// The Pages Router: getServerSideProps gets node:http req/res, so `sessions.get(context)` commits
// by itself before the page is sent (autoCommit); no commit() call needed.
import type { GetServerSideProps } from 'next'
import { sessions } from '@/lib/session'

interface Props {
  user: { name: string } | null
  count: number
  cart: string[]
}

export const getServerSideProps: GetServerSideProps<Props> = async (context) => {
  const session = await sessions.get(context)
  return {
    props: { user: session.data.user ?? null, count: session.data.count ?? 0, cart: session.data.cart ?? [] },
  }
}

export default function PagesDemo({ user, count, cart }: Props) {
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
        </section>
        <p className="muted">The same session as the App Router pages, read through the Pages Router.</p>
      </main>
    </>
  )
}

import { getSession } from 'tessera/next'
import { sessions } from '@/lib/session'
import { CsrfField, CsrfNotice } from '@/lib/csrf'
import { addItem, increment } from './actions'

export default async function Home({ searchParams }: { searchParams: Promise<{ csrf?: string }> }) {
  const { csrf } = await searchParams
  const { data } = await getSession(sessions)
  const cart = data.cart ?? []
  return (
    <>
      <h1>{data.user ? `Hello, ${data.user.name}` : 'Hello, guest'}</h1>
      <CsrfNotice csrf={csrf} />

      <section className="card">
        <h2>Counter</h2>
        <form action={increment} className="inline">
          <CsrfField />
          <span>
            Count: <strong data-testid="count">{data.count ?? 0}</strong>
          </span>
          <button type="submit">+1</button>
        </form>
      </section>

      <section className="card">
        <h2>Cart</h2>
        {cart.length ? (
          <ul className="plain" data-testid="cart">
            {cart.map((item, i) => (
              <li key={i}>{item}</li>
            ))}
          </ul>
        ) : (
          <p className="muted" data-testid="cart-empty">Your cart is empty.</p>
        )}
        <form action={addItem} className="inline" style={{ marginTop: '0.75rem' }}>
          <CsrfField />
          <input type="text" name="item" placeholder="An item" aria-label="Item" required />
          <button type="submit">Add item</button>
        </form>
      </section>

      <p className="muted">
        Counter and cart are server actions: each loads the session with <code>getSession()</code>, changes it and
        commits. This page only reads it.
      </p>
    </>
  )
}

import type { Metadata } from 'next'
import Link from 'next/link'
import type { ReactNode } from 'react'
import { getSession } from 'tessera/next'
import { sessions } from '@/lib/session'
import { CsrfField } from '@/lib/csrf'
import { logout } from './actions'
import './globals.css'

export const metadata: Metadata = { title: 'Tessera × Next.js' }

// A server component: it reads the session (reading never sets a cookie).
async function Header() {
  const { data } = await getSession(sessions)
  return (
    <header>
      <Link href="/" className="brand">Tessera</Link>
      <nav>
        <Link href="/account">Account</Link>
        <a href="/pages-demo">Pages Router</a>
        <a href="/api/me">/api/me</a>
        <Link href="/readonly">Read-only</Link>
      </nav>
      {data.user ? (
        <span className="who">
          Signed in as <strong data-testid="header-user">{data.user.name}</strong>
          <form action={logout}>
            <CsrfField />
            <button className="secondary" type="submit">Log out</button>
          </form>
        </span>
      ) : (
        <Link href="/login" data-testid="header-login">Log in</Link>
      )}
    </header>
  )
}

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <Header />
        <main>{children}</main>
      </body>
    </html>
  )
}

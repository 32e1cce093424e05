import { SessionError } from 'tessera'
import { getSession } from 'tessera/next'
import { sessions } from '@/lib/session'

// Server components render after the response headers are decided, so Next.js makes cookies()
// read-only here; Tessera turns a write into SessionError READ_ONLY instead of losing it silently.
export default async function ReadOnlyPage() {
  const session = await getSession(sessions)
  let outcome: string
  try {
    session.data.count = (session.data.count ?? 0) + 1000
    await session.commit()
    outcome = 'committed'
  } catch (error) {
    if (!(error instanceof SessionError)) throw error
    outcome = error.code
  }
  return (
    <>
      <h1>Server components are read-only</h1>
      <section className="card">
        <p>
          Writing to the session here failed with <code data-testid="readonly-code">{outcome}</code>.
        </p>
        <p className="muted">Change the session in a server action or a route handler; proxy.ts refreshes its expiry.</p>
      </section>
    </>
  )
}

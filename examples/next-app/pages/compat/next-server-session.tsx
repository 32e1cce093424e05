// next-server-session in getServerSideProps: `from 'next-server-session'` became
// 'tessera/compat/next-server-session'. configure() once (here, at module load), then the
// (context, ...) calls as before.
import type { GetServerSideProps } from 'next'
import { configure, getSessionData, setSessionData } from 'tessera/compat/next-server-session'

configure() // in memory, 30 minutes, cookie `nextSession`: the library's defaults

interface Props {
  visits: number
}

export const getServerSideProps: GetServerSideProps<Props> = async (context) => {
  const { visits = 0 } = await getSessionData<{ visits?: number }>(context)
  await setSessionData(context, { visits: visits + 1 })
  return { props: { visits: visits + 1 } }
}

export default function NextServerSessionPage({ visits }: Props) {
  return (
    <main>
      <h1>next-server-session</h1>
      <p>
        Visits in this session: <strong data-testid="nss-visits">{visits}</strong>
      </p>
    </main>
  )
}

// iron-session 8 in an App Router route handler, with cookies(): the same session as the Pages route.
import { cookies } from 'next/headers'
import { getIronSession } from 'tessera/compat/iron-session'
import { ironOptions, type IronData } from '@/lib/compat'

export async function GET() {
  const session = await getIronSession<IronData>(await cookies(), ironOptions)
  session.views = (session.views ?? 0) + 1
  await session.save()
  return Response.json({ surface: 'app', views: session.views, user: session.user ?? null })
}

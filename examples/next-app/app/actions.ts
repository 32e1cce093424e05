'use server'
// Server actions: each checks the request (CSRF), loads the session with getSession(), changes
// it, and commits. Every form that calls them renders <CsrfField /> (lib/csrf.tsx).
import { refresh } from 'next/cache'
import { redirect } from 'next/navigation'
import { getSession } from 'tessera/next'
import { requireCsrf } from '@/lib/csrf'
import { sessions } from '@/lib/session'

export async function increment(formData: FormData): Promise<void> {
  await requireCsrf(formData)
  const session = await getSession(sessions)
  session.data.count = (session.data.count ?? 0) + 1
  await session.commit()
  // A loaded session that changed sends no cookie, so Next.js cannot tell the page changed: ask.
  refresh()
}

export async function addItem(formData: FormData): Promise<void> {
  const item = String(formData.get('item') ?? '').trim().slice(0, 40)
  if (!item) return
  await requireCsrf(formData)
  const session = await getSession(sessions)
  session.data.cart = [...(session.data.cart ?? []), item]
  await session.commit()
  refresh()
}

export async function login(formData: FormData): Promise<void> {
  const name = String(formData.get('name') ?? '').trim().slice(0, 40)
  const next = String(formData.get('next') ?? '/')
  if (!name) redirect('/login?error=name')
  await requireCsrf(formData)
  const session = await getSession(sessions)
  await session.regenerate() // a new id at every login: no session fixation
  session.bindUser(name) // for listUser() and revokeUser()
  session.data.user = { name }
  await session.commit()
  redirect(/^\/(?![/\\])/.test(next) ? next : '/') // a local path only: never //host or /\host
}

export async function logout(formData: FormData): Promise<void> {
  await requireCsrf(formData)
  const session = await getSession(sessions)
  await session.destroy() // store entry removed, cookie expired; commits at once
  redirect('/')
}

export async function logoutEverywhere(formData: FormData): Promise<void> {
  await requireCsrf(formData)
  const session = await getSession(sessions)
  if (session.userId !== undefined) await sessions.revokeUser(session.userId, { except: session.id })
  await session.destroy()
  redirect('/login')
}

// Made test/golden/vectors.json once, from the built code of the day (`npm run build`, then
// `node test/golden/generate.mjs`). DO NOT run it again to make golden.test.ts pass: the vectors
// are the cookies browsers already hold. A failing golden test means a change (a KDF salt, a
// key-id prefix, the payload, the MAC) would log users out; keep reading the old format instead.
// Run it only to ADD a vector for a new format, and keep every old one.
import { writeFileSync } from 'node:fs'
import { createHash, randomBytes } from 'node:crypto'
import signature from 'cookie-signature'
import { sealData } from 'iron-session'
import { CookieStore, createSessions, MemoryStore } from '../../dist/esm/index.js'

export const SECRET_CURRENT = 'golden-vectors-secret-current-0123456789abcdef'
export const SECRET_OLD = 'golden-vectors-secret-old-0123456789abcdefghij'
export const IRON_PASSWORD = 'golden-vectors-iron-password-0123456789abcdef'
const DATA = { user: { id: 7, name: 'Ada Lovelace' }, roles: ['admin', 'editor'], views: 3, note: 'ünïcødé ✓ "quoted" ; a=b', nothing: null }

const request = (cookie) => new Request('https://app.test/', { headers: cookie ? { cookie } : {} })
/** `name=value` pairs of Set-Cookie lines, in order. */
const pairs = (lines) => lines.map((line) => line.split(';')[0])

async function sealed({ secrets, data = DATA, userId, maxSize }) {
  const store = new CookieStore(maxSize ? { maxSize } : {})
  const sessions = createSessions({ store, secrets })
  const session = await sessions.get(request())
  Object.assign(session.data, data)
  if (userId) session.bindUser(userId)
  const lines = await session.commit()
  return { cookie: pairs(lines).join('; '), id: session.id, data, userId, createdAt: session.createdAt.getTime(), expiresAt: session.expiresAt.getTime() }
}

async function signed({ hashIds = false } = {}) {
  const store = new MemoryStore()
  const sessions = createSessions({ store, secrets: [SECRET_CURRENT], hashIds })
  const session = await sessions.get(request())
  Object.assign(session.data, DATA)
  const lines = await session.commit()
  const storeKey = hashIds ? createHash('sha256').update(session.id, 'utf8').digest('base64url') : session.id
  const record = await store.get(storeKey)
  if (!record) throw new Error(`the store holds nothing under ${storeKey}`)
  return { cookie: pairs(lines).join('; '), id: session.id, storeKey, record }
}

const generatedAt = Date.now()
// express-session: the cookie is `s:` + cookie-signature's `<id>.<base64 HMAC, unpadded>`,
// URI-encoded by the cookie module; its ids are 24 random bytes, base64url (uid-safe).
const expressId = randomBytes(24).toString('base64url')
const expressCookie = `sid=${encodeURIComponent(`s:${signature.sign(expressId, SECRET_CURRENT)}`)}`

const vectors = {
  comment: 'Made by test/golden/generate.mjs; see golden.test.ts. Never regenerate to make a test pass.',
  generatedAt,
  secrets: { current: SECRET_CURRENT, old: SECRET_OLD },
  ironPassword: IRON_PASSWORD,
  cookieStore: {
    current: await sealed({ secrets: [SECRET_CURRENT], userId: 'user-7' }),
    rotated: await sealed({ secrets: [SECRET_OLD] }),
    chunked: await sealed({ secrets: [SECRET_CURRENT], data: { ...DATA, blob: 'x'.repeat(4500) }, maxSize: 8192 }),
    iron: {
      // iron-session 8's sealData, ttl 14 days (its default): opened by CookieStore({ iron }).
      cookie: `sid=${await sealData(DATA, { password: IRON_PASSWORD, ttl: 14 * 24 * 3600 })}`,
      data: DATA,
    },
  },
  signedId: {
    plain: await signed(),
    hashIds: await signed({ hashIds: true }),
    expressSession: { cookie: expressCookie, id: expressId },
  },
}
writeFileSync(new URL('./vectors.json', import.meta.url), JSON.stringify(vectors, null, 2) + '\n')
console.log('wrote test/golden/vectors.json')

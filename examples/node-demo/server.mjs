// A small node:http app on Tessera's default in-process store: a counter and a login.
// Run it from the repository root with `npm run demo` (it builds the library first).
import { createServer } from 'node:http'
import { createSessions } from 'tessera'

const sessions = createSessions({
  secrets: process.env.SESSION_SECRET ?? 'demo-only secret: set SESSION_SECRET in real apps!',
})

const page = (session) => `<!doctype html>
<meta charset="utf-8"><title>Tessera demo</title>
<style>body{font:16px system-ui;max-width:32rem;margin:3rem auto}button{font:inherit}</style>
<h1>Tessera</h1>
<p>${session.data.user ? `Signed in as <b>${escape(session.data.user)}</b>` : 'Not signed in.'}</p>
<p>Views: <b>${session.data.views}</b></p>
${session.data.user
  ? '<form method="post" action="/logout"><button>Log out</button></form>'
  : '<form method="post" action="/login"><input name="name" placeholder="Your name" required> <button>Log in</button></form>'}`

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

async function body(req) {
  let text = ''
  for await (const chunk of req) text += chunk
  return new URLSearchParams(text)
}

createServer(async (req, res) => {
  try {
    const session = await sessions.get(req, res)
    if (req.method === 'POST' && req.url === '/login') {
      const name = (await body(req)).get('name')?.slice(0, 40) || 'guest'
      await session.regenerate() // new id at every privilege change
      session.data.user = name
      res.writeHead(303, { Location: '/' }).end()
    } else if (req.method === 'POST' && req.url === '/logout') {
      await session.destroy()
      res.writeHead(303, { Location: '/' }).end()
    } else if (req.url === '/') {
      session.data.views = (session.data.views ?? 0) + 1
      res.setHeader('Content-Type', 'text/html; charset=utf-8')
      res.end(page(session)) // autoCommit: the session is saved before the response leaves
    } else {
      res.writeHead(404).end('Not found')
    }
  } catch (error) {
    console.error(error)
    if (!res.headersSent) res.writeHead(500).end('Session error')
  }
}).listen(Number(process.env.PORT ?? 3000), () => {
  console.log(`Tessera demo on http://localhost:${process.env.PORT ?? 3000}`)
})

// Test helpers: real node:http servers on loopback, and a cookie jar that speaks Set-Cookie.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Running {
  url: string
  close(): Promise<void>
}

/** Starts a node:http server on a free loopback port. */
export async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>): Promise<Running> {
  const server: Server = createServer((req, res) => {
    Promise.resolve(handler(req, res)).catch((error: unknown) => {
      if (!res.headersSent) {
        res.statusCode = 500
        res.end(`handler error: ${(error as Error).message}`)
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }),
  }
}

/** A minimal browser cookie jar: keeps name=value pairs, drops cookies sent with Max-Age=0. */
export class Jar {
  readonly cookies = new Map<string, string>()

  get header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }

  take(setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair] = line.split(';')
      const eq = pair!.indexOf('=')
      const name = pair!.slice(0, eq)
      if (/max-age=0/i.test(line)) this.cookies.delete(name)
      else this.cookies.set(name, pair!.slice(eq + 1))
    }
  }

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers)
    if (this.cookies.size) headers.set('cookie', this.header)
    const response = await fetch(url, { ...init, headers, redirect: 'manual' })
    this.take(response.headers.getSetCookie())
    return response
  }
}

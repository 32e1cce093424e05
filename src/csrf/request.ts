// A request as the CSRF checks read it: a Web `Request`, a node:http `IncomingMessage` (Express,
// Connect, Next.js Pages API routes) or `{ method, headers }` (Next.js `headers()` in a server
// action), normalised to one shape; and the token it carries, from a header or a form body.
import { isObject } from '../core/plain.js'
import { isNodeRequest, isRequestLike, isResponseLike } from '../adapters/shapes.js'
import { CSRF_FIELD } from './tokens.js'

/** A Node request as far as the CSRF checks read one (Express, Connect, Next.js Pages API routes). */
export interface NodeLikeRequest {
  method?: string
  /** The request target: a path (`/login`), or an absolute URL. */
  url?: string
  headers: Record<string, string | string[] | undefined>
  /** The connection; `encrypted: true` (a TLS socket) makes the request's own origin https. */
  socket?: object | null
  /** A body parsed by the app (`express.urlencoded()`, Next.js Pages API routes). */
  body?: unknown
}

/** What the CSRF checks accept: a Web `Request`, a Node request, or `{ method, headers }` (Next.js `headers()`). */
export type CsrfRequest =
  | Request
  | NodeLikeRequest
  | { method?: string; url?: string; headers: { get(name: string): string | null } }

/** One request, whatever shape it came in. */
export interface NormalizedRequest {
  /** Upper case; '' when the request has none. */
  method: string
  /** A header's value (several joined with ', '), trimmed; undefined when absent. */
  header(name: string): string | undefined
  url: string | undefined
  /** Whether the connection is TLS; undefined when the request does not say (no socket). */
  encrypted: boolean | undefined
  /** The Web request, when its body can be read from a clone. */
  web: Request | undefined
  /** The body parsed by a Node framework. */
  body: unknown
}

/** The request header a token is read from (fetch calls). */
export const CSRF_HEADER = 'x-csrf-token'

// Only GET, HEAD and OPTIONS are safe; any other method (or none at all) is checked.
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** Whether a request with this method skips CSRF checks (GET, HEAD, OPTIONS). */
export function isSafeMethod(method: string | undefined): boolean {
  return typeof method === 'string' && SAFE_METHODS.has(method.toUpperCase())
}

function headerValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim()
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join(', ').trim()
  return undefined
}

/** Reads Web `Headers` (or anything with `get`); a throwing getter reads as absent. */
function webHeader(headers: { get(name: string): unknown }): (name: string) => string | undefined {
  return (name) => {
    try {
      return headerValue(headers.get(name)) // null when absent
    } catch {
      return undefined
    }
  }
}

/** Reads a node:http headers object; Node lowercases names, a hand-made object may not. */
function nodeHeader(headers: Record<string, unknown>): (name: string) => string | undefined {
  return (name) => {
    if (Object.prototype.hasOwnProperty.call(headers, name)) return headerValue(headers[name])
    for (const key of Object.keys(headers)) if (key.toLowerCase() === name) return headerValue(headers[key])
    return undefined
  }
}

/** The request in one shape, or undefined when it has no headers to read. */
export function normalizeRequest(request: unknown): NormalizedRequest | undefined {
  let header: (name: string) => string | undefined
  // isResponseLike tests "an object whose headers have get()": a Web Request, or `{ headers }`
  // from Next.js headers(), as much as a Response.
  if (isNodeRequest(request)) header = nodeHeader(request.headers)
  else if (isResponseLike(request)) header = webHeader(request.headers)
  else return undefined
  const fields = request as unknown as Record<string, unknown>
  const web = isRequestLike(request) && typeof fields.clone === 'function' ? (request as unknown as Request) : undefined
  const socket = fields.socket
  return {
    method: typeof fields.method === 'string' ? fields.method.toUpperCase() : '',
    header,
    url: typeof fields.url === 'string' ? fields.url : undefined,
    encrypted: isObject(socket) ? socket.encrypted === true : undefined,
    web,
    body: web ? undefined : fields.body,
  }
}

// ---------------------------------------------------------------------------------------------
// The token a request carries

/** Where {@link requestToken} looks for the token. */
export interface TokenSource {
  /** The request header carrying the token. @default 'x-csrf-token' */
  header?: string
  /** The form field carrying the token. @default 'csrf_token' */
  field?: string
  /**
   * The largest form body (in bytes) read from a Web `Request` to find the field; a bigger body
   * is not read and its token must come in the header. @default 1048576 (1 MiB)
   */
  maxBodySize?: number
}

const DEFAULT_MAX_BODY = 1024 * 1024

function formType(contentType: string | undefined): 'urlencoded' | 'multipart' | undefined {
  const type = contentType?.split(';')[0]?.trim().toLowerCase()
  if (type === 'application/x-www-form-urlencoded') return 'urlencoded'
  if (type === 'multipart/form-data') return 'multipart'
  return undefined
}

async function readAtMost(body: ReadableStream<Uint8Array>, max: number): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const reader = body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > max) {
      // Cancelling one branch of a tee resolves only once the other branch is cancelled too,
      // so it is not awaited; it stops the copy from buffering the rest of the body.
      reader.cancel().catch(() => {})
      return undefined
    }
    chunks.push(value)
  }
  const out = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.byteLength
  }
  return out
}

/** The form field from a clone of a Web request's body, leaving the body itself for the app. */
async function webFormField(request: Request, type: 'urlencoded' | 'multipart', field: string, max: number): Promise<string | undefined> {
  if (request.body === null || request.bodyUsed) return undefined
  const declared = Number(request.headers.get('content-length'))
  if (Number.isFinite(declared) && declared > max) return undefined
  const bytes = await readAtMost(request.clone().body!, max)
  if (!bytes) return undefined
  if (type === 'urlencoded') return new URLSearchParams(new TextDecoder().decode(bytes)).get(field) ?? undefined
  const form = await new Response(bytes, { headers: { 'content-type': request.headers.get('content-type')! } }).formData()
  const value = form.get(field)
  return typeof value === 'string' ? value : undefined
}

/** The token a request carries: the header, else the form field. Never the query string (checklist 43). */
export async function requestToken(req: NormalizedRequest, source: TokenSource): Promise<string | undefined> {
  const fromHeader = req.header((source.header ?? CSRF_HEADER).toLowerCase())
  if (fromHeader !== undefined) return fromHeader
  const type = formType(req.header('content-type'))
  if (!type) return undefined
  const field = source.field ?? CSRF_FIELD
  if (req.web) {
    try {
      return await webFormField(req.web, type, field, source.maxBodySize ?? DEFAULT_MAX_BODY)
    } catch {
      return undefined
    }
  }
  // Node: only a body the app already parsed (express.urlencoded(), multer, Next.js Pages API
  // routes). Reading the stream here would take it from the app.
  if (isObject(req.body)) {
    const value = req.body[field]
    return typeof value === 'string' ? value : undefined
  }
  return undefined
}

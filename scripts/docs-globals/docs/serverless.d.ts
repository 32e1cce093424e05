// The runtime globals docs/serverless.md's snippets use, for docs-check only (see
// decisions/docs-check.md): each is the part of the runtime's own API the snippets touch, with the
// runtime's signature, so a snippet that compiles here compiles there. They are prepended to each
// block of the page (module-scoped), not declared for the other pages.

// Cloudflare Workers (@cloudflare/workers-types; not installed: it redeclares fetch's types and
// cannot share a program with the DOM lib the other pages need).
interface KVNamespace<Key extends string = string> {
  get(key: Key, type: 'text'): Promise<string | null>
  get<Value = unknown>(key: Key, type: 'json'): Promise<Value | null>
  put(key: Key, value: string | ArrayBuffer | ArrayBufferView | ReadableStream, options?: { expiration?: number; expirationTtl?: number; metadata?: unknown }): Promise<void>
  delete(key: Key): Promise<void>
}
interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void
  passThroughOnException(): void
}
interface ExportedHandler<Env = unknown> {
  fetch?: (request: Request, env: Env, ctx: ExecutionContext) => Response | Promise<Response>
}

// Bun (bun-types: Bun.serve).
declare const Bun: {
  serve(options: { port?: number | string; hostname?: string; fetch(request: Request, server: unknown): Response | Promise<Response> }): unknown
}

// Deno (lib.deno.d.ts, from `deno types`: Deno.env, Deno.serve).
declare const Deno: {
  env: { get(key: string): string | undefined }
  serve(options: { port?: number; hostname?: string }, handler: (request: Request, info: unknown) => Response | Promise<Response>): unknown
}

// Netlify Edge Functions (@netlify/edge-functions: the Netlify global).
declare const Netlify: {
  env: { get(name: string): string | undefined }
}

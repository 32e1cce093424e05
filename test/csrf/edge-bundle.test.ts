// `tessera/csrf` must run where only Web APIs exist (Edge runtime, Workers): bundle it the way
// such a runtime would, prove it pulls in no `node:*` module, and run the bundle in a context that
// has Web globals but no process, Buffer or require.
import { build } from 'esbuild'
import { resolve } from 'node:path'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'

async function bundle(format: 'esm' | 'iife') {
  return build({
    entryPoints: [resolve(import.meta.dirname, '../../src/csrf.ts')],
    absWorkingDir: resolve(import.meta.dirname, '../..'),
    bundle: true,
    platform: 'neutral',
    format,
    globalName: format === 'iife' ? 'csrf' : undefined,
    write: false,
    metafile: true,
    logLevel: 'silent',
  })
}

describe('tessera/csrf on the Edge runtime', () => {
  it('bundles for a neutral platform with no node:* import', async () => {
    const result = await bundle('esm')
    const inputs = Object.keys(result.metafile.inputs)
    expect(inputs).toContain('src/csrf.ts')
    expect(inputs.filter((path) => !path.startsWith('src/'))).toEqual([])
    const imports = Object.values(result.metafile.inputs).flatMap((input) => input.imports.map((i) => i.path))
    expect(imports.filter((path) => path.startsWith('node:') || !path.startsWith('src/'))).toEqual([])
    expect(result.outputFiles[0]!.text).not.toMatch(/\brequire\(|\bprocess\.|\bBuffer\b/)
  })

  it('works in a context with only Web globals', async () => {
    const result = await bundle('iife')
    const web = { crypto, TextEncoder, TextDecoder, URL, URLSearchParams, Headers, Request, Response, ReadableStream, FormData, Blob, btoa, atob, Object, Array, Map, Set, WeakMap, BigInt, Promise, Uint8Array, Number, String, JSON, Math, RegExp, TypeError, Error, Symbol, Reflect }
    const context: Record<string, unknown> = { ...web }
    runInNewContext(`${result.outputFiles[0]!.text}; globalThis.csrf = csrf`, context)
    const csrf = context.csrf as typeof import('../../src/csrf.js')
    const session = { id: 'an-edge-session-id-0123456789', data: {} as Record<string, unknown> }
    const token = csrf.csrfToken(session)
    expect(csrf.verifyCsrfToken(session, token)).toEqual({ ok: true })
    const request = new Request('https://edge.example/submit', { method: 'POST', headers: { origin: 'https://edge.example', 'x-csrf-token': token } })
    expect(await csrf.verifyRequest(session, request)).toEqual({ ok: true })
    const signed = await csrf.createCsrfToken('an-edge-secret-of-at-least-thirty-two-chars', session.id)
    expect(await csrf.verifySignedCsrfToken('an-edge-secret-of-at-least-thirty-two-chars', session.id, signed)).toEqual({ ok: true })
    expect(context.process).toBeUndefined()
  })
})

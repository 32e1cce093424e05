// The core entries bundle for the Edge runtime: esbuild, browser platform, and not one Node
// built-in (`node:crypto`, or the bare `crypto`, `buffer`, ...) anywhere in the module graph.
// Then the bundle of `tessera` runs a whole session round trip in a V8 context that has only Web
// globals: no process, no Buffer, no require.
import { builtinModules } from 'node:module'
import { fileURLToPath } from 'node:url'
import vm from 'node:vm'
import { build, type Metafile, type Plugin } from 'esbuild'
import { describe, expect, it } from 'vitest'

const SRC = fileURLToPath(new URL('../../src/', import.meta.url))
const BUILTINS = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]))

interface Bundle {
  code: string
  metafile: Metafile
  /** `specifier (imported by file)` for every Node built-in the graph asked for. */
  builtins: string[]
}

// Records Node built-ins instead of letting the build fail on the first, so a failure lists all.
function recordBuiltins(found: string[]): Plugin {
  return {
    name: 'record-node-builtins',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (!BUILTINS.has(args.path) && !args.path.startsWith('node:')) return undefined
        found.push(`${args.path} (imported by ${args.importer.replace(SRC, 'src/')})`)
        return { path: args.path, external: true }
      })
    },
  }
}

async function bundle(entry: string, format: 'esm' | 'iife' = 'esm'): Promise<Bundle> {
  const builtins: string[] = []
  const result = await build({
    entryPoints: [SRC + entry],
    bundle: true,
    platform: 'browser',
    format,
    ...(format === 'iife' ? { globalName: 'tessera' } : {}),
    target: 'es2022',
    external: ['next', 'next/*'],
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [recordBuiltins(builtins)],
  })
  return { code: result.outputFiles[0]!.text, metafile: result.metafile, builtins }
}

/** Every import the bundle leaves to the runtime (what esbuild did not inline). */
function externalImports(metafile: Metafile): string[] {
  const out = new Set<string>()
  for (const input of Object.values(metafile.inputs)) {
    for (const imported of input.imports) if (imported.external) out.add(imported.path)
  }
  return [...out].sort()
}

describe('Edge runtime: core entries import no Node built-in', () => {
  it('tessera (src/index.ts)', async () => {
    const { builtins, metafile, code } = await bundle('index.ts')
    expect(builtins).toEqual([])
    expect(externalImports(metafile)).toEqual([])
    expect(code).not.toMatch(/\brequire\(/)
  })

  it('tessera as Edge runtimes resolve it (src/index.edge.ts), without the node:http autoCommit patcher', async () => {
    const { builtins, metafile, code } = await bundle('index.edge.ts')
    expect(builtins).toEqual([])
    expect(externalImports(metafile)).toEqual([])
    expect(Object.keys(metafile.inputs).filter((file) => file.includes('autocommit'))).toEqual([])
    expect(code).not.toMatch(/\.writeHead\s*=/) // the patcher replaces res.writeHead
    // The check can fail: the Node build carries the patcher.
    const node = await bundle('index.ts')
    expect(Object.keys(node.metafile.inputs).some((file) => file.includes('adapters/autocommit'))).toBe(true)
    expect(node.code).toMatch(/\.writeHead\s*=/)
  })

  it('the Edge build of tessera exports the same names as the Node build', async () => {
    const [full, edge] = await Promise.all([import('../../src/index.js'), import('../../src/index.edge.js')])
    expect(Object.keys(edge).sort()).toEqual(Object.keys(full).sort())
  })

  it('tessera/web (src/web.ts)', async () => {
    const { builtins, metafile } = await bundle('web.ts')
    expect(builtins).toEqual([])
    expect(externalImports(metafile)).toEqual([])
  })

  it('tessera/next (src/next.ts): only next/headers is left to the runtime', async () => {
    const { builtins, metafile } = await bundle('next.ts')
    expect(builtins).toEqual([])
    expect(externalImports(metafile)).toEqual(['next/headers.js'])
  })

  it('tessera/csrf (src/csrf.ts)', async () => {
    const { builtins, metafile } = await bundle('csrf.ts')
    expect(builtins).toEqual([])
    expect(externalImports(metafile)).toEqual([])
  })

  it('tessera/cloudflare (src/cloudflare.ts): KVStore, nothing from cloudflare:* or workers-types', async () => {
    const { builtins, metafile, code } = await bundle('cloudflare.ts')
    expect(builtins).toEqual([])
    expect(externalImports(metafile)).toEqual([])
    expect(Object.keys(metafile.inputs).some((file) => file.endsWith('stores/kv-store.ts'))).toBe(true)
    expect(code).not.toMatch(/\brequire\(/)
  })

  it('the check itself catches a Node built-in, bare or with node:', async () => {
    const found: string[] = []
    await build({
      stdin: { contents: "import 'node:crypto'; import 'buffer'; import { Headers } from 'undici'", resolveDir: SRC, loader: 'ts' },
      bundle: true,
      platform: 'browser',
      write: false,
      logLevel: 'silent',
      external: ['undici'],
      plugins: [recordBuiltins(found)],
    })
    expect(found.map((line) => line.split(' ')[0])).toEqual(['node:crypto', 'buffer'])
  })
})

describe('Edge runtime: the bundle runs with Web globals only', () => {
  // What Vercel Edge, Workers and Deno all provide; nothing Node-specific.
  function webContext(): vm.Context {
    return vm.createContext({
      crypto: globalThis.crypto,
      TextEncoder,
      TextDecoder,
      Headers,
      Request,
      Response,
      URL,
      atob,
      btoa,
      structuredClone,
      setTimeout,
      clearTimeout,
      setInterval,
      clearInterval,
      queueMicrotask,
      console,
    })
  }

  it('creates, signs, stores, reloads and destroys a session', async () => {
    const { code } = await bundle('index.ts', 'iife')
    const context = webContext()
    vm.runInContext(code, context)
    expect(vm.runInContext('typeof process + typeof Buffer + typeof require', context)).toBe('undefinedundefinedundefined')

    const run = vm.runInContext(
      `(async () => {
        const sessions = tessera.createSessions({ secrets: 'an edge secret of at least thirty-two chars', store: new tessera.MemoryStore() })
        const first = await sessions.get(new Request('https://edge.example/'))
        first.data.views = 1
        const [setCookie] = await first.commit()
        const cookie = setCookie.split(';')[0]
        const second = await sessions.get(new Request('https://edge.example/', { headers: { cookie } }))
        const views = second.data.views
        second.data.views = views + 1
        await second.commit()
        const third = await sessions.get(new Request('https://edge.example/', { headers: { cookie } }))
        const response = new Response('ok')
        const fourth = await sessions.get(new Request('https://edge.example/', { headers: { cookie } }), response)
        await fourth.destroy()
        const gone = await sessions.read(new Request('https://edge.example/', { headers: { cookie } }))
        return { setCookie, views, after: third.data.views, cleared: response.headers.get('set-cookie'), gone }
      })()`,
      context,
    ) as Promise<{ setCookie: string; views: number; after: number; cleared: string; gone: unknown }>
    const result = await run

    expect(result.setCookie).toMatch(/^sid=[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]+; /)
    expect(result.setCookie).toMatch(/; HttpOnly/)
    expect(result.setCookie).toMatch(/; Secure/) // https request, secure: 'auto'
    expect(result.views).toBe(1)
    expect(result.after).toBe(2)
    expect(result.cleared).toMatch(/^sid=; .*Max-Age=0/)
    expect(result.gone).toBeUndefined()
  })

  it('tessera/web: withSession answers a fetch handler', async () => {
    const { code } = await bundle('web.ts', 'iife')
    const context = webContext()
    vm.runInContext(code, context)
    const run = vm.runInContext(
      `(async () => {
        const sessions = tessera.createSessions() // the default store, kept on this context's globalThis
        const fetch = tessera.withSession(sessions, async (request, session) => {
          session.data.n = (session.data.n ?? 0) + 1
          return new Response(String(session.data.n))
        })
        const first = await fetch(new Request('http://edge.example/'))
        const cookie = first.headers.get('set-cookie').split(';')[0]
        const second = await fetch(new Request('http://edge.example/', { headers: { cookie } }))
        return [await first.text(), await second.text(), second.headers.get('set-cookie')]
      })()`,
      context,
    ) as Promise<[string, string, string | null]>
    // The second response changed a loaded session: stored, but no new cookie needed.
    expect(await run).toEqual(['1', '2', null])
  })
})

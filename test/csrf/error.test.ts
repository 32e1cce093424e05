// CsrfError: what code that throws a refusal (a server action's first line) gets, and how it is
// answered. The checks themselves return results; only the caller throws.
import { describe, expect, it } from 'vitest'
import { SessionError } from '../../src/index.js'
import { CsrfError, csrfForbidden, verifyOrigin, type CsrfFailure } from '../../src/csrf.js'

describe('CsrfError', () => {
  it('carries the reason as code, a 403 status and a message naming the reason', () => {
    const result = verifyOrigin({ method: 'POST', headers: new Headers({ host: 'app.example', origin: 'https://evil.example' }) })
    expect(result.ok).toBe(false)
    const error = new CsrfError(result as CsrfFailure)
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('CsrfError')
    expect(error.code).toBe('invalid-origin')
    expect(error.status).toBe(403)
    expect(error.message).toBe('CSRF check failed (invalid-origin)')
    expect(new CsrfError('missing-token').code).toBe('missing-token')
  })

  it('is not a SessionError: a store failure handler does not catch a refused request', () => {
    expect(new CsrfError('invalid-token')).not.toBeInstanceOf(SessionError)
  })

  it('keeps a cause', () => {
    const cause = new Error('inner')
    expect(new CsrfError('invalid-token', { cause }).cause).toBe(cause)
  })

  it('csrfForbidden answers a caught CsrfError like a failed result', async () => {
    const fromError = csrfForbidden(new CsrfError('invalid-token'))
    const fromResult = csrfForbidden({ ok: false, reason: 'invalid-token' })
    expect(fromError.status).toBe(403)
    expect(await fromError.text()).toBe(await fromResult.text())
    expect(fromError.headers.get('vary')).toBe('Origin, Sec-Fetch-Site')
  })
})

// compat/data-view.ts: the "session object is the data" shape shared by the compat entries.
import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { dataView } from '../../src/compat/data-view.js'

function make() {
  let data: Record<string, unknown> = { user: 'ada', id: 'hidden by the own id' }
  const save = () => 'saved'
  const view = dataView<Record<string, any>>(() => data, { id: () => 'sid-1', cookie: () => ({ path: '/' }), save: () => save }, { enumerable: ['cookie'] })
  return { view, save, replace: (next: Record<string, unknown>) => (data = next), data: () => data }
}

describe('dataView', () => {
  it('reads and writes the data, and follows data that is replaced', () => {
    const { view, data, replace } = make()
    view.views = 1
    delete view.user
    expect(data()).toEqual({ id: 'hidden by the own id', views: 1 })
    replace({ other: true })
    expect(view.other).toBe(true)
    expect('views' in view).toBe(false)
  })

  it('answers its own properties, which hide data keys of the same names and cannot be changed', () => {
    const { view, save } = make()
    expect(view.id).toBe('sid-1')
    expect(view.save).toBe(save)
    expect('save' in view).toBe(true)
    expect(() => (view.id = 'x')).toThrow(TypeError)
    expect(() => delete view.save).toThrow(TypeError)
    expect(() => Object.defineProperty(view, 'cookie', { value: 1 })).toThrow(TypeError)
  })

  it('shows the data and the enumerable own properties to Object.keys, JSON and console.log; the rest stay own but hidden', () => {
    const { view } = make()
    expect(Object.keys(view)).toEqual(['user', 'cookie'])
    expect(JSON.parse(JSON.stringify(view))).toEqual({ user: 'ada', cookie: { path: '/' } })
    expect({ ...view }).toEqual({ user: 'ada', cookie: { path: '/' } })
    expect(Object.getOwnPropertyNames(view)).toEqual(['user', 'id', 'cookie', 'save'])
    expect(inspect(view)).toBe("{ user: 'ada', cookie: { path: '/' } }")
  })
})

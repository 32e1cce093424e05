// Small facts about plain values that every layer asks: is it an object, and how to put a key
// on one without the `__proto__` setter turning a write into a prototype change.

/** A non-null object (arrays and functions' objects included). */
export function isObject(value: unknown): value is Record<PropertyKey, any> {
  return typeof value === 'object' && value !== null
}

/**
 * `target[key] = value` as an own, enumerable property, whatever the key: a key named
 * `__proto__` (which `JSON.parse` makes own) stays data instead of replacing the prototype.
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true })
  else target[key] = value
}

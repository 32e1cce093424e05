// The session payload every scenario stores: a small, realistic user session whose JSON is
// exactly 103 bytes (the size the DESIGN.md memory target is stated for).

/** A fresh payload object; `i` makes it unique (0 ≤ i < 10^7), so no two sessions share strings. */
export function payload(i = 0) {
  return {
    user: { id: `u${String(i % 1e7).padStart(7, '0')}`, name: 'Ada Lovelace' },
    roles: ['reader', 'writer'],
    theme: 'dark',
    lang: 'en',
  }
}

export const PAYLOAD_BYTES = JSON.stringify(payload()).length

if (PAYLOAD_BYTES !== 103) throw new Error(`bench payload is ${PAYLOAD_BYTES} bytes of JSON, expected 103`)

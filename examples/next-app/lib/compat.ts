// The compatibility entries, as an app mid-migration uses them: each route under
// pages/api/compat/, app/api/compat/ and pages/compat/ is written exactly as for the library it
// replaces, with only the import line changed (docs/migrate/). They keep their own cookies, so
// they do not disturb the native `sessions` of lib/session.ts.
import type { SessionOptions } from 'tessera/compat/iron-session'

/** What iron-session was configured with: the same password keeps every sealed cookie valid. */
export const ironOptions: SessionOptions = {
  cookieName: 'iron_demo',
  password: process.env.SESSION_SECRET ?? 'tessera-demo: development only, set SESSION_SECRET in production',
}

export interface IronData {
  views?: number
  user?: string
}

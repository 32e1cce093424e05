export type Component = 'redis' | 'postgres' | 'chromium'
export interface SystemPaths {
  redis?: { server: string; cli: string }
  postgres?: { initdb: string; pg_ctl: string; postgres: string }
  chromium?: string
}
export function ensureSystem(options?: { need?: readonly Component[] }): Promise<SystemPaths>
export function findPostgresBin(name: string): string

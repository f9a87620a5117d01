// Kimura's version, from the project's package.json (one source of truth). It is two levels
// above this file in dist/ and three in the dev build (build/src/main).
import { readFileSync } from 'node:fs'

function readVersion (): string {
  for (const path of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as { name?: unknown, version?: unknown }
      if (pkg.name === 'kimura' && typeof pkg.version === 'string') return pkg.version
    } catch {
      // Not this path: try the next.
    }
  }
  return 'unknown'
}

export const KIMURA_VERSION: string = readVersion()

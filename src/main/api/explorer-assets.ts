// The block explorer's files (GET / and /explorer/*), built by `npm run build:explorer` into
// dist/explorer and read once, at start, into memory: a handful of small files.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { b3 } from '../../shared/hash.js'
import { toHex } from '../../shared/bytes.js'
import type { StaticAsset } from './backend.js'

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json'
}

/** Where the built explorer is: dist/explorer, seen from dist/main/api or from the dev build's build/src/main/api. */
const CANDIDATES = ['../../explorer/', '../../../../dist/explorer/']

/** The most bytes read: the explorer is small, and a stray large file is not served. */
const MAX_FILE_BYTES = 4 * 1024 * 1024

export function explorerDirectory (): string | undefined {
  for (const candidate of CANDIDATES) {
    const dir = fileURLToPath(new URL(candidate, import.meta.url))
    if (existsSync(join(dir, 'index.html'))) return dir
  }
  return undefined
}

/** Every file of the explorer directory (not recursive), by name; empty when it is not built. */
export function loadExplorerAssets (dir: string | undefined = explorerDirectory()): Map<string, StaticAsset> {
  const assets = new Map<string, StaticAsset>()
  if (dir === undefined) return assets
  for (const name of readdirSync(dir)) {
    const contentType = CONTENT_TYPES[extname(name)]
    const path = join(dir, name)
    if (contentType === undefined || !statSync(path).isFile() || statSync(path).size > MAX_FILE_BYTES) continue
    const body = new Uint8Array(readFileSync(path))
    assets.set(name, { body, contentType, etag: `"${toHex(b3(body)).slice(0, 32)}"` })
  }
  return assets
}

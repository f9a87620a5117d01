// Branch coverage from V8's own counters (NODE_V8_COVERAGE), mapped back to the TypeScript
// sources by c8: per file, or for a file whose decoders are only some of its functions, over
// those functions' branches alone.
import { readFileSync } from 'node:fs'
import { relative, resolve } from 'node:path'
import { Report } from 'c8'

export interface C8Config {
  include: string[]
  'temp-directory': string
  'report-dir': string
  reporter: string[]
}

export function loadC8Config (root: string): C8Config {
  return JSON.parse(readFileSync(resolve(root, '.c8rc.json'), 'utf8')) as C8Config
}

export interface BranchCount {
  covered: number
  total: number
}

/** The decoder files whose branches the goal counts, and for some, which functions decode. */
export const DECODER_FILES: Readonly<Record<string, readonly string[] | undefined>> = {
  'src/shared/codec.ts': undefined,
  'src/shared/status.ts': undefined,
  'src/shared/json.ts': undefined,
  'src/shared/submission-codec.ts': undefined,
  // The rest of this file serves sync requests: its decoders are these two.
  'src/main/network/sync-protocol.ts': ['decodeSyncRequest', 'requestBlocks']
}

export function pct (c: BranchCount): number {
  return c.total === 0 ? 100 : Math.floor(1000 * c.covered / c.total) / 10
}

/**
 * Branch counts per source file (repository-relative .ts paths), from the V8 coverage files in
 * `tempDirectory`. With `onlyDecoders`, a file listed with functions counts those functions only.
 */
export async function branchCoverage (root: string, tempDirectory: string, include: string[], onlyDecoders = false): Promise<Map<string, BranchCount>> {
  const report = new Report({ tempDirectory, include, reporter: [], excludeAfterRemap: false, src: [root], resolve: root })
  const map = await report.getCoverageMapFromAllCoverageFiles()
  const out = new Map<string, BranchCount>()
  for (const file of map.files()) {
    const source = relative(root, file)
    const data = map.fileCoverageFor(file).data
    const functions = onlyDecoders ? DECODER_FILES[source] : undefined
    const ranges = functions === undefined
      ? undefined
      : Object.values(data.fnMap).filter(f => functions.includes(f.name)).map(f => [f.loc.start.line, f.loc.end.line])
    let covered = 0
    let total = 0
    for (const [id, branch] of Object.entries(data.branchMap)) {
      const line = branch.loc.start.line
      if (ranges !== undefined && !ranges.some(([a, b]) => line >= a && line <= b)) continue
      for (const count of data.b[id]) {
        total++
        if (count > 0) covered++
      }
    }
    out.set(source, { covered, total })
  }
  return out
}

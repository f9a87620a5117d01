// The part of c8's programmatic API the fuzz runner uses (c8 ships no types).
declare module 'c8' {
  import type { CoverageMap } from 'istanbul-lib-coverage'

  export interface ReportOptions {
    tempDirectory: string
    include?: string[]
    exclude?: string[]
    reporter?: string[]
    reportsDirectory?: string
    excludeAfterRemap?: boolean
    all?: boolean
    src?: string[]
    resolve?: string
    omitRelative?: boolean
    allowExternal?: boolean
    excludeNodeModules?: boolean
  }

  export class Report {
    constructor (options: ReportOptions)
    getCoverageMapFromAllCoverageFiles (): Promise<CoverageMap>
    run (): Promise<void>
  }
}

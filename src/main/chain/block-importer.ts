// Imports blocks from gossip and sync into the store through the worker pool, one run at a
// time so that blocks commit strictly in height order. A large block's signatures are split
// across all workers first (verifyMessages), then one importBlocks task checks the rest and
// commits.
import { copyBytes } from '../../shared/bytes.js'
import { decodeBlockHeader } from '../../shared/codec.js'
import type { ChainStore, ChainTip } from '../../shared/store/index.js'
import type { ImportBlocksInput, ImportBlocksOutput, ImportedBlock, WireBuffer } from '../../shared/thread-contract.js'
import type { WorkerPool } from '../pool/worker-pool.js'

/**
 * Blocks with at least this many messages are verified in slices on every worker. Below it,
 * one task's round trip (~65 µs) and each worker decoding the block cost more than they save.
 */
export const SPLIT_MIN_MESSAGES = 128

export type ImportSource = 'gossip' | 'sync'

export interface ImportResult {
  imported: number
  blocks: ImportedBlock[]
  known: number
  error?: { code: string, reason: string }
}

export interface BlockImporterHooks {
  onImported?: (blocks: ImportedBlock[], source: ImportSource) => void
}

export class BlockImporter {
  private tail: Promise<unknown> = Promise.resolve()
  private waiting = 0

  constructor (
    private readonly pool: WorkerPool,
    private readonly store: ChainStore,
    private readonly hooks: BlockImporterHooks = {}
  ) {}

  /** Imports queued or running: gossip refuses new blocks beyond a bound (see block-gossip.ts). */
  get queued (): number {
    return this.waiting
  }

  tipHeight (): number {
    return this.store.tip().height
  }

  tip (): ChainTip {
    return this.store.tip()
  }

  /** Validates and commits consecutive blocks, after any import already running. */
  async importBlocks (blocks: Uint8Array[], source: ImportSource = 'sync'): Promise<ImportResult> {
    this.waiting++
    // Signatures are checked at once, in parallel with the import before this one; only the
    // import task itself (validation against the parent, and the commit) waits its turn.
    const prepared = this.prepare(blocks)
    // Awaited below, possibly after it failed: mark it handled now.
    prepared.catch(() => undefined)
    const run = this.tail.then(async () => await this.pool.importBlocks({ ...await prepared, now: Date.now(), commit: true }))
    this.tail = run.catch(() => undefined)
    let output: ImportBlocksOutput
    try {
      output = await run
    } finally {
      this.waiting--
      // The commit happened on a worker: see it on this thread before anyone reads the tip.
      this.store.refresh()
    }
    if (output.imported.length > 0) this.hooks.onImported?.(output.imported, source)
    return {
      imported: output.imported.length,
      blocks: output.imported,
      known: output.known,
      ...(output.error === undefined ? {} : { error: { code: output.error.code, reason: output.error.reason } })
    }
  }

  /** Full SPEC 3 validation against the stored parent, writing nothing. */
  async validateBlock (block: Uint8Array): Promise<ImportBlocksOutput> {
    return await this.pool.importBlocks({ ...await this.prepare([block]), now: Date.now(), commit: false })
  }

  /** Copies the blocks for the pool and verifies the signatures of the large ones in slices. */
  private async prepare (blocks: Uint8Array[]): Promise<Pick<ImportBlocksInput, 'blocks' | 'verifiedIds'>> {
    const buffers: WireBuffer[] = []
    const verifying: Array<Promise<ArrayBuffer | null>> = []
    for (const block of blocks) {
      const shape = decodeBlockHeader(block)
      const count = shape.ok ? shape.value.messageCount : 0
      if (count < SPLIT_MIN_MESSAGES || this.pool.threads < 2) {
        // A copy that owns its buffer (a Buffer's .slice() would share the pool's), then transferred.
        buffers.push(copyBytes(block).buffer)
        verifying.push(Promise.resolve(null))
        continue
      }
      // Shared, not copied per worker: every slice task reads the same bytes.
      const shared = new SharedArrayBuffer(block.byteLength)
      new Uint8Array(shared).set(block)
      buffers.push(shared)
      verifying.push(this.verifyInSlices(shared, count))
    }
    return { blocks: buffers, verifiedIds: await Promise.all(verifying) }
  }

  /** Verifies a block's signatures in one slice per worker; null (verify again in import) on failure. */
  private async verifyInSlices (block: SharedArrayBuffer, count: number): Promise<ArrayBuffer | null> {
    const slices = this.pool.threads
    const size = Math.ceil(count / slices)
    const parts = await Promise.all(Array.from({ length: slices }, async (_, i) =>
      await this.pool.verifyMessages({ block, start: i * size, end: Math.min(count, (i + 1) * size) })))
    const ids = new Uint8Array(count * 32)
    let offset = 0
    for (const part of parts) {
      // The import task re-verifies and reports the precise failure.
      if (!part.ok) return null
      ids.set(new Uint8Array(part.ids), offset)
      offset += part.ids.byteLength
    }
    return ids.buffer
  }
}

// Imports blocks from gossip and sync into the store through the worker pool, one run at a
// time so that blocks commit strictly in height order. A large block is checked in steps
// before its import task: its header signature on this thread (one verification: a forged
// block costs nothing more), then hashBlock (ids, uniqueness within the block, root) on one
// worker, then its signatures in one slice per worker; the import task checks it against the
// chain. Small blocks are validated whole inside the import task, which checks the header
// first too.
import { copyBytes } from '../../shared/bytes.js'
import { decodeBlockHeader } from '../../shared/codec.js'
import type { ChainStore, ChainTip } from '../../shared/store/index.js'
import type { CheckedBody, ImportBlocksInput, ImportBlocksOutput, ImportedBlock, ImportErrorCode, WireBuffer } from '../../shared/thread-contract.js'
import { verifyHeaderSignature } from '../../shared/validation.js'
import type { WorkerPool } from '../pool/worker-pool.js'

/**
 * Blocks with at least this many messages are checked in slices on every worker. Below it,
 * the extra round trips (~65 µs each) cost more than the parallel verification saves.
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
  /** While true, nothing is imported (error HALTED): the node stopped following (equivocation). */
  halted?: () => boolean
  /** The disk filled up (true) or took a commit again (false): called on each change only. */
  onStorageFull?: (full: boolean) => void
  /** A block was refused because its prevHash is not the stored block below it. */
  onWrongParent?: (block: Uint8Array, source: ImportSource) => void
}

export interface ImportOptions {
  /** The caller has verified every header's signature against the leader key already. */
  headersVerified?: boolean
  /**
   * Called once a large block's header signature, message ids, uniqueness within the block
   * and root have held, before its message signatures are checked: it may be forwarded (SPEC
   * 5). Not called for a block validated whole by the import task.
   */
  onChecked?: () => void
}

function haltedResult (): ImportResult {
  return { imported: 0, blocks: [], known: 0, error: { code: 'HALTED', reason: 'this node stopped following the chain (equivocation)' } }
}

interface CheckFailure { index: number, code: ImportErrorCode, reason: string }

/** What the import task gets: the blocks before the first one that failed its checks, and that failure. */
interface Prepared {
  input: Pick<ImportBlocksInput, 'blocks' | 'checked'>
  failure?: CheckFailure
}

export class BlockImporter {
  private tail: Promise<unknown> = Promise.resolve()
  private waiting = 0
  /**
   * The last gossiped block queued for import whose header holds (signed, on the block queued
   * before it): the next gossiped block may link to it before it is stored. Cleared when an
   * import fails; below the stored tip it no longer counts.
   */
  private queuedHead: ChainTip | undefined
  private storageFull = false

  constructor (
    private readonly pool: WorkerPool,
    private readonly store: ChainStore,
    private readonly leaderKey: Uint8Array,
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

  /**
   * The block the next gossiped block must follow: the last one queued for import while it is
   * not yet stored, else the stored tip. With imports slower than the block interval, a block
   * that arrives while its parent is still being imported is queued behind it instead of being
   * ignored and fetched again by sync.
   */
  head (): ChainTip {
    const stored = this.store.tip()
    return this.queuedHead !== undefined && this.queuedHead.height > stored.height ? this.queuedHead : stored
  }

  /**
   * Imports a gossiped `block` (its header signed, linked to head() or to the stored tip)
   * behind those queued; it becomes the head when it is above it.
   */
  async importNext (block: Uint8Array, tip: ChainTip, options: ImportOptions = {}): Promise<ImportResult> {
    if (tip.height > this.head().height) this.queuedHead = tip
    const result = await this.importBlocks([block], 'gossip', { ...options, headersVerified: true })
    // The head not imported breaks the queued chain: what was queued behind it fails on its
    // parent (and starts a sync); the store is the head again.
    if (result.imported === 0 && this.queuedHead === tip) this.queuedHead = undefined
    return result
  }

  /** Validates and commits consecutive blocks, after any import already running. */
  async importBlocks (blocks: Uint8Array[], source: ImportSource = 'sync', options: ImportOptions = {}): Promise<ImportResult> {
    if (this.hooks.halted?.() === true) return haltedResult()
    this.waiting++
    // Signatures are checked at once, in parallel with the import before this one; only the
    // import task itself (validation against the parent, and the commit) waits its turn.
    const prepared = this.prepare(blocks, options.headersVerified === true, options.onChecked)
    // Awaited below, possibly after it failed: mark it handled now.
    prepared.catch(() => undefined)
    const run = this.tail.then(async (): Promise<ImportBlocksOutput | undefined> => {
      const { input, failure } = await prepared
      // The node may have halted while this import waited its turn or its checks: it commits
      // nothing more (an import task already on a worker still finishes).
      if (this.hooks.halted?.() === true) return undefined
      // A block that failed its checks is imported no further; the ones before it still are.
      if (input.blocks.length === 0) return { imported: [], known: 0, tipHeight: this.store.tip().height, ...(failure === undefined ? {} : { error: failure }) }
      const output = await this.pool.importBlocks({ ...input, now: Date.now() })
      return failure === undefined || output.error !== undefined ? output : { ...output, error: failure }
    })
    this.tail = run.catch(() => undefined)
    let output: ImportBlocksOutput | undefined
    try {
      output = await run
    } finally {
      this.waiting--
      // The commit happened on a worker: see it on this thread before anyone reads the tip.
      this.store.refresh()
    }
    if (output === undefined) return haltedResult()
    const full = output.error?.code === 'STORAGE_FULL'
    if (full !== this.storageFull && (full || output.imported.length > 0)) {
      this.storageFull = full
      this.hooks.onStorageFull?.(full)
    }
    if (output.imported.length > 0) this.hooks.onImported?.(output.imported, source)
    if (output.error?.code === 'BLOCK_WRONG_PREV_HASH') this.hooks.onWrongParent?.(blocks[output.error.index], source)
    return {
      imported: output.imported.length,
      blocks: output.imported,
      known: output.known,
      ...(output.error === undefined ? {} : { error: { code: output.error.code, reason: output.error.reason } })
    }
  }

  /** Copies the blocks for the pool and checks the large ones in steps (header, ids, signatures). */
  private async prepare (blocks: Uint8Array[], headersVerified: boolean, onChecked?: () => void): Promise<Prepared> {
    const buffers: WireBuffer[] = []
    const checks: Array<Promise<CheckFailure | CheckedBody | null>> = []
    for (let index = 0; index < blocks.length; index++) {
      const block = blocks[index]
      const shape = decodeBlockHeader(block)
      const count = shape.ok ? shape.value.messageCount : 0
      if (!shape.ok || count < SPLIT_MIN_MESSAGES || this.pool.threads < 2) {
        // A copy that owns its buffer (a Buffer's .slice() would share the pool's), then transferred.
        buffers.push(copyBytes(block).buffer)
        checks.push(Promise.resolve(null))
        continue
      }
      if (!headersVerified) {
        const signed = verifyHeaderSignature(shape.value.header, this.leaderKey)
        if (!signed.ok) {
          checks.push(Promise.resolve({ index, code: signed.code, reason: signed.reason }))
          break
        }
      }
      // Shared, not copied per worker: every task reads the same bytes.
      const shared = new SharedArrayBuffer(block.byteLength)
      new Uint8Array(shared).set(block)
      buffers.push(shared)
      checks.push(this.checkInSteps(shared, count, index, blocks.length === 1 ? onChecked : undefined))
    }
    const results = await Promise.all(checks)
    const checked: Array<CheckedBody | null> = []
    for (const r of results) {
      if (r !== null && 'code' in r) return { input: { blocks: buffers.slice(0, r.index), checked }, failure: r }
      checked.push(r)
    }
    return { input: { blocks: buffers, checked } }
  }

  /** hashBlock on one worker, then one signature slice per worker; the verified ids, or the failure. */
  private async checkInSteps (block: SharedArrayBuffer, count: number, index: number, onChecked?: () => void): Promise<CheckFailure | CheckedBody> {
    const hashed = await this.pool.hashBlock({ block })
    if (!hashed.ok) return { index, code: hashed.code, reason: hashed.reason }
    onChecked?.()
    const ids = toShared(hashed.ids)
    const offsets = toShared(hashed.offsets)
    const slices = this.pool.threads
    const size = Math.ceil(count / slices)
    const parts = await Promise.all(Array.from({ length: slices }, async (_, i) =>
      await this.pool.verifyMessages({ block, ids, offsets, start: i * size, end: Math.min(count, (i + 1) * size) })))
    const failed = parts.find(p => !p.ok)
    if (failed !== undefined && !failed.ok) return { index, code: failed.code, reason: failed.reason }
    return { ids: hashed.ids, offsets: hashed.offsets }
  }
}

function toShared (buffer: ArrayBuffer): SharedArrayBuffer {
  const shared = new SharedArrayBuffer(buffer.byteLength)
  new Uint8Array(shared).set(new Uint8Array(buffer))
  return shared
}

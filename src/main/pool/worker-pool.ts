// The Piscina pool that hashes, validates and writes off the main thread. Callers see
// backpressure (canAcceptWork, ERR_POOL_OVERLOADED) instead of an unbounded queue.
import { Piscina } from 'piscina'
import { KimuraError } from '../../shared/errors.js'
import {
  TASK, type AdmitMessagesInput, type AdmitMessagesOutput, type AdmitSubmissionInput, type AdmitSubmissionOutput,
  type HashBlockInput, type HashBlockOutput, type ImportBlocksInput, type ImportBlocksOutput, type MessageTreeOutput,
  type RenderBlockInput, type RenderBlockOutput, type VerifyMessagesInput, type VerifyMessagesOutput, type WarmUpOutput, type WorkerConfig
} from '../../shared/thread-contract.js'
import { toTransferable } from '../../shared/bytes.js'
import type { WorkerPoolOptions } from './options.js'
import { ByteCache } from './render-cache.js'

export type TaskName = keyof typeof TASK

/** Observers the node wires to its metrics and logs. */
export interface WorkerPoolHooks {
  onTaskDone?: (task: TaskName, seconds: number) => void
  /**
   * A worker failed: it threw outside a task, or it ended (piscina fails its task, if any,
   * and starts a replacement). `workersLeft` is how many live workers remain after it.
   */
  onWorkerFailed?: (err: Error, task: TaskName | undefined, workersLeft: number) => void
}

/** The error piscina fails a task with when its worker ended under it. */
const WORKER_EXITED = /worker exited|terminat/i

/**
 * A worker's young generation is capped at 12 MB (V8 lets it grow to 48 with 16 MB semi-spaces):
 * a worker's garbage is short-lived batches and blocks, and the cap took the leader's peak
 * anonymous memory under load from 221 to about 180 MB with no loss of throughput
 * (benchmarks/README.md).
 */
export const WORKER_HEAP_LIMITS = { maxYoungGenerationSizeMb: 12 } as const

const WORKER_URL = new URL('../../workers/pool-worker.js', import.meta.url)

/**
 * API reads (renderBlock, messageTree) queued or running beyond this are refused with
 * ERR_POOL_OVERLOADED (HTTP 503) instead of waiting in piscina's unbounded queue.
 */
export const MAX_QUEUED_READS = 64
/**
 * Rendered block JSON kept (stored blocks never change), for readers that ask for one block
 * again (explorers, event streams joining): a 10,000-message block of 100-byte contents renders
 * to 0.67 MB as ids (25-35 ms of a worker) and 5.4 MB with its messages (55-60 ms), so 12 MB
 * holds the dozen or so large blocks read last, or one with its messages. A reader of every block
 * once (an indexer, a follower) only fills it: at 32 MB it held an eighth of a loaded leader's
 * anonymous memory (benchmarks/README.md, "The render cache").
 */
const RENDER_CACHE = { maxBytes: 12 * 1024 * 1024, maxEntryBytes: 6 * 1024 * 1024 }
/** Merkle trees kept for proofs: a 10,000-message block's is 640 KB. */
const TREE_CACHE = { maxBytes: 16 * 1024 * 1024, maxEntryBytes: 4 * 1024 * 1024 }

/** A stored block's tree for proofs (see src/shared/merkle-proof.ts), with its hash and root. */
export interface BlockTree {
  count: number
  nodes: Uint8Array
  blockHash: string
  messageRoot: string
}

export class WorkerPool {
  private pool: Piscina | undefined
  private admitInFlight = 0
  private readsInFlight = 0
  private readonly rendered = new ByteCache<string | null>(RENDER_CACHE, json => json?.length ?? 0)
  private readonly trees = new ByteCache<BlockTree | null>(TREE_CACHE, tree => tree?.nodes.byteLength ?? 0)
  private readonly inFlight = new Set<Promise<unknown>>()
  private priorities: string[] = []

  constructor (
    private readonly options: WorkerPoolOptions,
    private readonly config: WorkerConfig,
    private readonly hooks: WorkerPoolHooks = {}
  ) {}

  get threads (): number {
    return this.options.threads
  }

  /** What each worker's warm-up did to its thread's priority (distinct answers), for the log. */
  get workerPriority (): string {
    return this.priorities.join('; ')
  }

  /** Tasks waiting for a worker. */
  get queueSize (): number {
    return this.pool?.queueSize ?? 0
  }

  /** Starts the workers and waits until each has loaded its modules and opened the store. */
  async start (): Promise<void> {
    if (this.pool !== undefined) return
    this.pool = new Piscina({
      filename: WORKER_URL.href,
      minThreads: this.options.threads,
      maxThreads: this.options.threads,
      // Workers hold an open store: keep them for the node's life.
      idleTimeout: Number.POSITIVE_INFINITY,
      // With piscina's default 'sync' atomics an idle worker blocks in Atomics.wait and its
      // event loop never turns, so lmdb-js never renews its read snapshot (a setTimeout):
      // the worker would keep reading the chain as it was at its last write.
      atomics: 'disabled',
      resourceLimits: WORKER_HEAP_LIMITS,
      workerData: this.config
    })
    // Without a listener, an error thrown in an idle worker would be re-thrown on this thread.
    this.pool.on('error', (err: Error) => { this.hooks.onWorkerFailed?.(err, undefined, this.liveWorkers()) })
    // Node 20 can abort the process when a worker is terminated while it still loads modules
    // (a stop right after start): a warm-up task per worker makes start() return after that.
    const warmed = await Promise.all(Array.from({ length: this.options.threads }, async () => await this.run<WarmUpOutput>('warmUp', {}, [])))
    this.priorities = [...new Set(warmed.map(w => w.priority))]
  }

  /**
   * Refuses new tasks, waits for every task already submitted to finish, then ends the
   * workers. (piscina's own close() can terminate a worker mid-task, inside an LMDB write.)
   */
  async stop (): Promise<void> {
    const pool = this.pool
    if (pool === undefined) return
    this.pool = undefined
    await Promise.allSettled(this.inFlight)
    await pool.close()
  }

  /** Workers alive now (piscina replaces one that ended, unless workers fail while starting). */
  private liveWorkers (): number {
    return this.pool?.threads.length ?? 0
  }

  /** Whether an admission would be queued now rather than refused. */
  canAcceptWork (): boolean {
    return this.pool !== undefined && this.admitInFlight < this.options.maxAdmitQueue
  }

  /**
   * Verifies an encoded batch of messages (the producer appends the valid ones to `pending`);
   * throws ERR_POOL_OVERLOADED when the admission queue is full. The batch's buffer is
   * transferred (and so detached) when the batch spans all of it: encode again to resend.
   */
  async admitMessages (batch: Uint8Array, options: Omit<AdmitMessagesInput, 'batch'> = { mode: 'all' }): Promise<AdmitMessagesOutput> {
    return await this.admit<AdmitMessagesOutput>('admitMessages', batch, buffer => ({ batch: buffer, ...options }))
  }

  /**
   * Parses and verifies the body of a submission, whole or not at all; throws ERR_POOL_OVERLOADED when the admission queue is full. The body's buffer is
   * transferred (detached) when the body spans all of it.
   */
  async admitSubmission (body: Uint8Array, options: Omit<AdmitSubmissionInput, 'body'>): Promise<AdmitSubmissionOutput> {
    return await this.admit<AdmitSubmissionOutput>('admitSubmission', body, buffer => ({ body: buffer, ...options }))
  }

  /** Admission tasks share one bounded queue (maxAdmitQueue). */
  private async admit<R> (task: 'admitMessages' | 'admitSubmission', bytes: Uint8Array, input: (buffer: ArrayBuffer) => AdmitMessagesInput | AdmitSubmissionInput): Promise<R> {
    if (this.pool === undefined) throw new KimuraError('ERR_POOL_STOPPED', 'the worker pool is stopped')
    if (!this.canAcceptWork()) {
      throw new KimuraError('ERR_POOL_OVERLOADED', `the worker pool has ${this.admitInFlight} admissions queued`, { queued: this.admitInFlight })
    }
    this.admitInFlight++
    try {
      const buffer = toTransferable(bytes)
      return await this.run<R>(task, input(buffer), [buffer])
    } finally {
      this.admitInFlight--
    }
  }

  async hashBlock (input: HashBlockInput): Promise<HashBlockOutput> {
    return await this.run<HashBlockOutput>('hashBlock', input, [])
  }

  async verifyMessages (input: VerifyMessagesInput): Promise<VerifyMessagesOutput> {
    return await this.run<VerifyMessagesOutput>('verifyMessages', input, [])
  }

  async importBlocks (input: ImportBlocksInput): Promise<ImportBlocksOutput> {
    const transfer = [...input.blocks, ...input.checked.flatMap(c => c === null ? [] : [c.ids, c.offsets])].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer)
    return await this.run<ImportBlocksOutput>('importBlocks', input, transfer)
  }

  /**
   * A stored block as SPEC 8's JSON, from a cache by height (a stored block never changes);
   * 'latest' is rendered afresh. Throws ERR_POOL_OVERLOADED when MAX_QUEUED_READS reads wait.
   */
  async renderBlock (input: RenderBlockInput): Promise<RenderBlockOutput> {
    if (input.height === 'latest') return await this.read(async () => await this.run<RenderBlockOutput>('renderBlock', input, []))
    const key = `${input.height}:${input.withMessages ? 'messages' : 'ids'}`
    const json = await this.rendered.getOrCompute(key, async () => (await this.read(async () => await this.run<RenderBlockOutput>('renderBlock', input, []))).json, value => value !== null)
    return { json }
  }

  /** A stored block's Merkle tree (cached by height), or null when none is stored there; bounded as renderBlock. */
  async messageTree (height: number): Promise<BlockTree | null> {
    return await this.trees.getOrCompute(String(height), async () => {
      const out = await this.read(async () => await this.run<MessageTreeOutput>('messageTree', { height }, []))
      return out.found ? { count: out.count, nodes: new Uint8Array(out.nodes), blockHash: out.blockHash, messageRoot: out.messageRoot } : null
    }, tree => tree !== null)
  }

  /** One API read, refused beyond MAX_QUEUED_READS. */
  private async read<R> (task: () => Promise<R>): Promise<R> {
    if (this.pool === undefined) throw new KimuraError('ERR_POOL_STOPPED', 'the worker pool is stopped')
    if (this.readsInFlight >= MAX_QUEUED_READS) throw new KimuraError('ERR_POOL_OVERLOADED', `the worker pool has ${this.readsInFlight} reads queued`, { queued: this.readsInFlight })
    this.readsInFlight++
    try {
      return await task()
    } finally {
      this.readsInFlight--
    }
  }

  private async run<R> (task: TaskName, input: unknown, transferList: ArrayBuffer[]): Promise<R> {
    const pool = this.pool
    if (pool === undefined) throw new KimuraError('ERR_POOL_STOPPED', 'the worker pool is stopped')
    const started = performance.now()
    const running = pool.run(input, { name: TASK[task], transferList }) as Promise<R>
    this.inFlight.add(running)
    try {
      return await running
    } catch (err) {
      if (err instanceof Error && WORKER_EXITED.test(err.message) && this.pool !== undefined) {
        // piscina has started a replacement unless the worker died while starting; report how many remain.
        this.hooks.onWorkerFailed?.(err, task, this.liveWorkers())
      }
      throw new KimuraError('ERR_WORKER_TASK', `worker task ${task} failed: ${String(err)}`, { task }, { cause: err })
    } finally {
      this.inFlight.delete(running)
      this.hooks.onTaskDone?.(task, (performance.now() - started) / 1000)
    }
  }
}

// The Piscina pool that hashes, validates and writes off the main thread. Callers see
// backpressure (canAcceptWork, ERR_POOL_OVERLOADED) instead of an unbounded queue.
import { Piscina } from 'piscina'
import { KimuraError } from '../../shared/errors.js'
import {
  TASK, type AdmitMessagesInput, type AdmitMessagesOutput, type AdmitSubmissionInput, type AdmitSubmissionOutput,
  type HashBlockInput, type HashBlockOutput, type ImportBlocksInput, type ImportBlocksOutput,
  type RenderBlockInput, type RenderBlockOutput, type VerifyMessagesInput, type VerifyMessagesOutput, type WorkerConfig
} from '../../shared/thread-contract.js'
import { toTransferable } from '../../shared/bytes.js'
import type { WorkerPoolOptions } from './options.js'

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

const WORKER_URL = new URL('../../workers/pool-worker.js', import.meta.url)

export class WorkerPool {
  private pool: Piscina | undefined
  private admitInFlight = 0
  private readonly inFlight = new Set<Promise<unknown>>()

  constructor (
    private readonly options: WorkerPoolOptions,
    private readonly config: WorkerConfig,
    private readonly hooks: WorkerPoolHooks = {}
  ) {}

  get threads (): number {
    return this.options.threads
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
      workerData: this.config
    })
    // Without a listener, an error thrown in an idle worker would be re-thrown on this thread.
    this.pool.on('error', (err: Error) => { this.hooks.onWorkerFailed?.(err, undefined, this.liveWorkers()) })
    // Node 20 can abort the process when a worker is terminated while it still loads modules
    // (a stop right after start): a warm-up task per worker makes start() return after that.
    await Promise.all(Array.from({ length: this.options.threads }, async () => await this.run('warmUp', {}, [])))
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
   * Verifies an encoded batch of messages and (persist) appends them to `pending` durably;
   * throws ERR_POOL_OVERLOADED when the admission queue is full. The batch's buffer is
   * transferred (and so detached) when the batch spans all of it: encode again to resend.
   */
  async admitMessages (batch: Uint8Array, options: Omit<AdmitMessagesInput, 'batch'> = { mode: 'all', persist: true }): Promise<AdmitMessagesOutput> {
    return await this.admit<AdmitMessagesOutput>('admitMessages', batch, buffer => ({ batch: buffer, ...options }))
  }

  /**
   * Parses, verifies and (persist) durably admits the body of a submission, whole or not at
   * all; throws ERR_POOL_OVERLOADED when the admission queue is full. The body's buffer is
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

  async renderBlock (input: RenderBlockInput): Promise<RenderBlockOutput> {
    return await this.run<RenderBlockOutput>('renderBlock', input, [])
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

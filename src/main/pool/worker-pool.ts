// The Piscina pool that hashes, validates and writes off the main thread. Callers see
// backpressure (canAcceptWork, ERR_POOL_OVERLOADED) instead of an unbounded queue.
import { Piscina } from 'piscina'
import { KimuraError } from '../../shared/errors.js'
import {
  TASK, type AdmitMessagesOutput, type ImportBlocksInput, type ImportBlocksOutput,
  type RenderBlockInput, type RenderBlockOutput, type VerifyMessagesInput, type VerifyMessagesOutput, type WorkerConfig
} from '../../shared/thread-contract.js'
import { toTransferable } from '../../shared/bytes.js'
import type { WorkerPoolOptions } from './options.js'

export type TaskName = keyof typeof TASK

/** Observers the node wires to its metrics. */
export interface WorkerPoolHooks {
  onTaskDone?: (task: TaskName, seconds: number) => void
}

const WORKER_URL = new URL('../../workers/pool-worker.js', import.meta.url)

export class WorkerPool {
  private pool: Piscina | undefined
  private admitInFlight = 0

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

  get utilization (): number {
    return this.pool?.utilization ?? 0
  }

  start (): void {
    if (this.pool !== undefined) return
    this.pool = new Piscina({
      filename: WORKER_URL.href,
      minThreads: this.options.threads,
      maxThreads: this.options.threads,
      // Workers hold an open store: keep them for the node's life.
      idleTimeout: Number.POSITIVE_INFINITY,
      workerData: this.config
    })
  }

  /** Waits for queued and running tasks to finish, then ends the workers. */
  async stop (): Promise<void> {
    const pool = this.pool
    if (pool === undefined) return
    this.pool = undefined
    await pool.close()
  }

  /** Whether an admission would be queued now rather than refused. */
  canAcceptWork (): boolean {
    return this.pool !== undefined && this.admitInFlight < this.options.maxAdmitQueue
  }

  /**
   * Verifies an encoded batch of messages and (persist) appends them to `pending` durably;
   * throws ERR_POOL_OVERLOADED when the admission queue is full.
   */
  async admitMessages (batch: Uint8Array, options: { mode: 'all' | 'each', persist: boolean } = { mode: 'all', persist: true }): Promise<AdmitMessagesOutput> {
    if (!this.canAcceptWork()) {
      throw new KimuraError('ERR_POOL_OVERLOADED', `the worker pool has ${this.admitInFlight} admissions queued`, { queued: this.admitInFlight })
    }
    this.admitInFlight++
    try {
      const buffer = toTransferable(batch)
      return await this.run<AdmitMessagesOutput>('admitMessages', { batch: buffer, ...options }, [buffer])
    } finally {
      this.admitInFlight--
    }
  }

  async verifyMessages (input: VerifyMessagesInput): Promise<VerifyMessagesOutput> {
    return await this.run<VerifyMessagesOutput>('verifyMessages', input, [])
  }

  async importBlocks (input: ImportBlocksInput): Promise<ImportBlocksOutput> {
    const transfer = [...input.blocks, ...input.verifiedIds].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer)
    return await this.run<ImportBlocksOutput>('importBlocks', input, transfer)
  }

  async renderBlock (input: RenderBlockInput): Promise<RenderBlockOutput> {
    return await this.run<RenderBlockOutput>('renderBlock', input, [])
  }

  private async run<R> (task: TaskName, input: unknown, transferList: ArrayBuffer[]): Promise<R> {
    const pool = this.pool
    if (pool === undefined) throw new KimuraError('ERR_POOL_STOPPED', 'the worker pool is stopped')
    const started = performance.now()
    try {
      return await pool.run(input, { name: TASK[task], transferList }) as R
    } catch (err) {
      throw new KimuraError('ERR_WORKER_TASK', `worker task ${task} failed: ${String(err)}`, { task }, { cause: err })
    } finally {
      this.hooks.onTaskDone?.(task, (performance.now() - started) / 1000)
    }
  }
}

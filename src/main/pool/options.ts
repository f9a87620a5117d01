import { availableParallelism } from 'node:os'

export interface WorkerPoolOptions {
  /**
   * Worker threads. Default: one per core. On 2 cores the main thread is mostly idle (network
   * I/O), so 2 workers give ~2x the verification rate of 1 (see benchmarks/README.md).
   */
  threads: number
  /**
   * Admission tasks waiting beyond this are refused (ERR_POOL_OVERLOADED, HTTP 503) instead of
   * queued without limit. 64 batches of up to 10,000 messages is seconds of work on 2 cores.
   */
  maxAdmitQueue: number
}

export function defaultWorkerPoolOptions (): WorkerPoolOptions {
  return { threads: Math.max(1, availableParallelism()), maxAdmitQueue: 64 }
}

// Per-worker state: the configuration from `workerData` and the store, opened once per worker.
import { workerData } from 'node:worker_threads'
import { fromHex } from '../shared/bytes.js'
import { KimuraError } from '../shared/errors.js'
import { ChainStore } from '../shared/store/index.js'
import type { WorkerConfig } from '../shared/thread-contract.js'
import type { BlockRules } from '../shared/validation.js'
import { VerifiedSet } from '../shared/verified-set.js'
import { lowerThreadPriority } from './thread-priority.js'

export interface WorkerContext {
  config: WorkerConfig
  store: ChainStore
  leaderKey: Uint8Array
  rules: (now: number) => BlockRules
  verified: VerifiedSet | undefined
  /** What lowering this thread's priority did (see thread-priority.ts). */
  priority: string
}

let context: WorkerContext | undefined

/** This worker's context, with a read snapshot renewed to see every commit made so far. */
export function workerContext (): WorkerContext {
  if (context !== undefined) {
    context.store.refresh()
    return context
  }
  const config = workerData as WorkerConfig
  const priority = lowerThreadPriority(config.nice)
  const leaderKey = fromHex(config.leaderKey, 32)
  if (leaderKey === undefined) throw new KimuraError('ERR_INVALID_CONFIG', 'workerData.leaderKey is not a 32-byte hex key')
  // The main thread created and checked the store before starting workers.
  const store = ChainStore.open({ dataDir: config.dataDir, initialize: false })
  const verified = config.verifiedSet === undefined ? undefined : new VerifiedSet(config.verifiedSet)
  context = { config, store, leaderKey, rules: now => ({ params: config.params, leaderKey, now }), verified, priority }
  return context
}

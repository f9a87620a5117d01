// The producer: a long-lived worker, outside the pool, that holds the leader's signing key and
// builds blocks. Being its own thread, a block is built on time even when the pool's queue is
// full of admissions and validations; and the key is loaded here only, never sent per task.
// It is also the one writer of `pending`: admissions verified in the pool are appended here,
// group-committed (PendingAppender).
// comlink gives the main thread a typed facade over it (ProducerApi).
import '../shared/polyfill.js'
import { parentPort, workerData } from 'node:worker_threads'
import { expose, transfer } from 'comlink/dist/esm/comlink.mjs'
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs'
import { toHex } from '../shared/bytes.js'
import { loadSigningKey } from '../shared/key-file.js'
import { ChainStore } from '../shared/store/index.js'
import type { AppendPendingOutput, BuildBlockOutput, ProducerApi, ProducerConfig, VerifiedMessages } from '../shared/thread-contract.js'
import { buildBlock } from './build-block.js'
import { PendingAppender } from './pending-appender.js'
import { lowerThreadPriority } from './thread-priority.js'

const config = workerData as ProducerConfig
const priority = lowerThreadPriority(config.nice)
const key = loadSigningKey(config.keyFile)
const store = ChainStore.open({ dataDir: config.dataDir, initialize: false })
// Before the node starts: the first admission would otherwise wait while the index of what is
// pending is built from the stored batches.
store.pending.buildIndex()
const appender = new PendingAppender(store, config.maxPending)

const api: ProducerApi = {
  publicKey: () => toHex(key.publicKey),
  priority: () => priority,
  buildBlock (timestamp: number, maxMessages: number): BuildBlockOutput {
    const result = buildBlock(store, key, config.params, timestamp, maxMessages)
    return result.ok ? transfer(result, [result.block]) : result
  },
  async appendPending (verified: VerifiedMessages): Promise<AppendPendingOutput> {
    return await appender.append(verified)
  },
  // The producer keeps the index of `pending` up to date; another thread would build its own.
  pendingMessage (id: Uint8Array): Uint8Array | undefined {
    store.refresh()
    return store.pending.get(id)
  }
}

if (parentPort === null) throw new Error('producer-worker must run as a worker thread')
expose(api, nodeEndpoint(parentPort))

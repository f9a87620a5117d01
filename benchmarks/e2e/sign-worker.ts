// A worker thread of the load generator: signs the batches it is given and posts them back in
// chunks, their buffers transferred.
import '../../src/shared/polyfill.js'
import { parentPort } from 'node:worker_threads'
import { signBatch, type SignedBatch, type SubmissionPath } from './messages.js'

export interface SignTask {
  from: number
  to: number
  paths: SubmissionPath[]
}

/** `done` once the last chunk of a task is posted. */
export type SignOutput = { batches: SignedBatch[] } | { done: true }

const CHUNK_BATCHES = 8

parentPort?.on('message', (task: SignTask) => {
  let chunk: SignedBatch[] = []
  const flush = (): void => {
    const transfer = chunk.flatMap(b => [b.ids, b.json, b.binary]).filter((x): x is Uint8Array => x !== undefined).map(x => x.buffer as ArrayBuffer)
    parentPort?.postMessage({ batches: chunk } satisfies SignOutput, transfer)
    chunk = []
  }
  for (let batch = task.from; batch < task.to; batch++) {
    chunk.push(signBatch(batch, task.paths))
    if (chunk.length === CHUNK_BATCHES) flush()
  }
  if (chunk.length > 0) flush()
  parentPort?.postMessage({ done: true } satisfies SignOutput)
})

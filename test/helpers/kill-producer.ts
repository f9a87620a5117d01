// Preloaded into a node process (NODE_OPTIONS=--import=<this file, compiled>) to make its
// producer worker die: TEST_KILL_PRODUCER_AFTER_MS after it starts, the worker is terminated
// from outside, as a crash in it would end it. Nothing in src knows about this.
import { createRequire, syncBuiltinESMExports } from 'node:module'
import type * as WorkerThreads from 'node:worker_threads'

const require = createRequire(import.meta.url)
const threads = require('node:worker_threads') as typeof WorkerThreads
const delayMs = Number(process.env.TEST_KILL_PRODUCER_AFTER_MS ?? 0)

if (threads.isMainThread && delayMs > 0) {
  const Original = threads.Worker
  class Patched extends Original {
    constructor (url: string | URL, options?: WorkerThreads.WorkerOptions) {
      super(url, options)
      if (String(url).includes('producer-worker')) setTimeout(() => { void this.terminate() }, delayMs).unref()
    }
  }
  // The node imports Worker as an ES module binding: sync the builtin's ESM view with the patch.
  Object.defineProperty(threads, 'Worker', { value: Patched, writable: true, configurable: true })
  syncBuiltinESMExports()
}

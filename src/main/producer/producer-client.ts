// The main thread's side of the producer worker: starts it, talks to it through comlink, and
// notices when it dies. A comlink call to a dead worker never settles, so every call races
// the worker's end, and the owner hears of an unexpected end at once (onDied).
import { Worker } from 'node:worker_threads'
import { wrap, releaseProxy, transfer, type Remote } from 'comlink/dist/esm/comlink.mjs'
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs'
import { KimuraError } from '../../shared/errors.js'
import { WORKER_HEAP_LIMITS } from '../pool/worker-pool.js'
import type { AppendPendingOutput, BuildBlockOutput, ProducerApi, ProducerConfig, VerifiedMessages } from '../../shared/thread-contract.js'

const WORKER_URL = new URL('../../workers/producer-worker.js', import.meta.url)

export interface ProducerClientHooks {
  /** The worker ended without stop() (a crash, an exit, an uncaught error in it). */
  onDied?: (err: KimuraError) => void
}

export class ProducerClient {
  private worker: Worker | undefined
  private api: Remote<ProducerApi> | undefined
  private inFlight: Promise<unknown> = Promise.resolve()
  /** Appends not yet answered: stop() lets them commit. */
  private readonly appending = new Set<Promise<unknown>>()
  /** Rejects when the running worker ends unexpectedly. */
  private died: Promise<never> = new Promise<never>(() => {})
  private priority = ''

  constructor (private readonly config: ProducerConfig, private readonly hooks: ProducerClientHooks = {}) {}

  /** What the worker did to its thread's priority, for the log ('' before start). */
  get threadPriority (): string {
    return this.priority
  }

  /** Starts the worker and waits until it has loaded its key and store. */
  async start (): Promise<void> {
    if (this.worker !== undefined) return
    const worker = new Worker(WORKER_URL, { workerData: this.config, resourceLimits: WORKER_HEAP_LIMITS })
    this.worker = worker
    this.api = wrap<ProducerApi>(nodeEndpoint(worker))
    let errorSeen: Error | undefined
    let started = false
    this.died = new Promise<never>((_resolve, reject) => {
      worker.once('error', err => { errorSeen = err })
      worker.once('exit', code => {
        if (this.worker !== worker) return
        const cause = errorSeen === undefined ? `exit code ${code}` : errorSeen.message
        const err = new KimuraError('ERR_WORKER_DIED', `the producer worker ended unexpectedly: ${cause}`, { exitCode: code }, { cause: errorSeen })
        this.worker = undefined
        this.api = undefined
        reject(err)
        // A worker that fails while starting fails start(); only a running one is news.
        if (started) this.hooks.onDied?.(err)
      })
    })
    this.died.catch(() => undefined)
    try {
      const publicKey = await Promise.race([this.api.publicKey(), this.died])
      if (publicKey !== this.config.leaderKey) throw new KimuraError('ERR_KEY_FILE', 'the key file does not hold the configured leader key')
      this.priority = await Promise.race([this.api.priority(), this.died])
      started = true
    } catch (err) {
      await this.stop()
      throw err
    }
  }

  async buildBlock (timestamp: number, maxMessages: number): Promise<BuildBlockOutput> {
    const api = this.api
    if (api === undefined) throw new KimuraError('ERR_POOL_STOPPED', 'the producer is stopped')
    const build = Promise.race([api.buildBlock(timestamp, maxMessages), this.died])
    this.inFlight = build.catch(() => undefined)
    return await build
  }

  /**
   * Appends verified messages to `pending` durably (the producer group-commits appends that
   * arrive together); the buffers are transferred, so the caller must not use them again.
   */
  async appendPending (verified: VerifiedMessages): Promise<AppendPendingOutput> {
    const api = this.api
    if (api === undefined) throw new KimuraError('ERR_POOL_STOPPED', 'the producer is stopped')
    const append = Promise.race([api.appendPending(transfer(verified, [verified.wire, verified.ids])), this.died])
    const settled = append.catch(() => undefined)
    this.appending.add(settled)
    void settled.then(() => this.appending.delete(settled))
    return await append
  }

  /** Lets a build and the appends in flight finish (each commit is atomic either way), then ends the worker. */
  async stop (): Promise<void> {
    const worker = this.worker
    if (worker === undefined) return
    await Promise.all([this.inFlight, ...this.appending])
    this.api?.[releaseProxy]()
    this.api = undefined
    this.worker = undefined
    await worker.terminate()
  }
}

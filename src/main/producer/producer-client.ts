// The main thread's side of the producer worker: starts it, talks to it through comlink, and
// notices when it dies. A comlink call to a dead worker never settles, so every call is
// rejected when the worker ends first (CallsInFlight), and the owner hears of an unexpected
// end at once (onDied).
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
  /** Calls not yet answered: stop() lets them finish; the worker's unexpected end rejects them. */
  private calls = new CallsInFlight()
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
    const calls = new CallsInFlight()
    this.calls = calls
    let errorSeen: Error | undefined
    let started = false
    worker.once('error', err => { errorSeen = err })
    worker.once('exit', code => {
      if (this.worker !== worker) return
      const cause = errorSeen === undefined ? `exit code ${code}` : errorSeen.message
      const err = new KimuraError('ERR_WORKER_DIED', `the producer worker ended unexpectedly: ${cause}`, { exitCode: code }, { cause: errorSeen })
      this.worker = undefined
      this.api = undefined
      calls.fail(err)
      // A worker that fails while starting fails start(); only a running one is news.
      if (started) this.hooks.onDied?.(err)
    })
    try {
      const publicKey = await calls.guard(this.api.publicKey())
      if (publicKey !== this.config.leaderKey) throw new KimuraError('ERR_KEY_FILE', 'the key file does not hold the configured leader key')
      this.priority = await calls.guard(this.api.priority())
      started = true
    } catch (err) {
      await this.stop()
      throw err
    }
  }

  async buildBlock (timestamp: number, maxMessages: number): Promise<BuildBlockOutput> {
    return await this.calls.guard<BuildBlockOutput>(this.running().buildBlock(timestamp, maxMessages))
  }

  /**
   * Appends verified messages to `pending` durably (the producer group-commits appends that
   * arrive together); the buffers are transferred, so the caller must not use them again.
   */
  async appendPending (verified: VerifiedMessages): Promise<AppendPendingOutput> {
    return await this.calls.guard<AppendPendingOutput>(this.running().appendPending(transfer(verified, [verified.wire, verified.ids])))
  }

  /** The wire bytes of a pending message, from the producer (the one thread that indexes `pending`); undefined when it is not pending. */
  async pendingMessage (id: Uint8Array): Promise<Uint8Array | undefined> {
    return await this.calls.guard<Uint8Array | undefined>(this.running().pendingMessage(id))
  }

  /** The running worker's facade; ERR_POOL_STOPPED when there is none. */
  private running (): Remote<ProducerApi> {
    if (this.api === undefined) throw new KimuraError('ERR_POOL_STOPPED', 'the producer is stopped')
    return this.api
  }

  /** Lets a build and the appends in flight finish (each commit is atomic either way), then ends the worker. */
  async stop (): Promise<void> {
    const worker = this.worker
    if (worker === undefined) return
    await this.calls.settled()
    this.api?.[releaseProxy]()
    this.api = undefined
    this.worker = undefined
    await worker.terminate()
  }
}

/**
 * Calls to a worker, each settled by its answer or rejected by the worker's end, whichever
 * comes first. Not Promise.race against one long-lived "died" promise: every race adds a
 * reaction to that promise, and each reaction keeps its call's answer reachable until the
 * worker ends. On the leader that kept every block it built (about 1 MB each at saturation).
 * Here a call is forgotten as soon as its answer arrives, and what is kept for settled()
 * resolves with nothing, not with the answer.
 */
class CallsInFlight {
  /** Each call not yet answered: a promise that settles with it, and its rejecter. */
  private readonly waiting = new Map<Promise<void>, (err: Error) => void>()
  private failure: Error | undefined

  async guard<T> (call: Promise<T>): Promise<T> {
    if (this.failure !== undefined) throw this.failure
    return await new Promise<T>((resolve, reject) => {
      const answered: Promise<void> = call.then(resolve, reject).finally(() => this.waiting.delete(answered))
      this.waiting.set(answered, reject)
    })
  }

  /** Resolves once every call made so far has been answered (or failed with the worker). */
  async settled (): Promise<void> {
    await Promise.all(this.waiting.keys())
  }

  /** Rejects every call not yet answered, and every later one. */
  fail (err: Error): void {
    this.failure = err
    for (const reject of this.waiting.values()) reject(err)
    this.waiting.clear()
  }
}

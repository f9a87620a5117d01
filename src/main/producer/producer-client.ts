// The main thread's side of the producer worker: starts it, talks to it through comlink.
import { Worker } from 'node:worker_threads'
import { wrap, releaseProxy, type Remote } from 'comlink/dist/esm/comlink.mjs'
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs'
import { KimuraError } from '../../shared/errors.js'
import type { BuildBlockOutput, ProducerApi, ProducerConfig } from '../../shared/thread-contract.js'

const WORKER_URL = new URL('../../workers/producer-worker.js', import.meta.url)

export class ProducerClient {
  private worker: Worker | undefined
  private api: Remote<ProducerApi> | undefined
  private inFlight: Promise<unknown> = Promise.resolve()

  constructor (private readonly config: ProducerConfig) {}

  /** Starts the worker and waits until it has loaded its key and store. */
  async start (): Promise<void> {
    if (this.worker !== undefined) return
    const worker = new Worker(WORKER_URL, { workerData: this.config })
    this.worker = worker
    this.api = wrap<ProducerApi>(nodeEndpoint(worker))
    const failed = new Promise<never>((_resolve, reject) => {
      worker.once('error', err => { reject(new KimuraError('ERR_WORKER_TASK', `the producer worker failed to start: ${err.message}`, {}, { cause: err })) })
    })
    try {
      const publicKey = await Promise.race([this.api.publicKey(), failed])
      if (publicKey !== this.config.leaderKey) throw new KimuraError('ERR_KEY_FILE', 'the key file does not hold the configured leader key')
    } catch (err) {
      await this.stop()
      throw err
    }
  }

  async buildBlock (timestamp: number, maxMessages: number): Promise<BuildBlockOutput> {
    const api = this.api
    if (api === undefined) throw new KimuraError('ERR_POOL_STOPPED', 'the producer is stopped')
    const build = api.buildBlock(timestamp, maxMessages)
    this.inFlight = build.catch(() => undefined)
    return await build
  }

  /** Lets a build in flight finish (its commit is atomic either way), then ends the worker. */
  async stop (): Promise<void> {
    const worker = this.worker
    if (worker === undefined) return
    await this.inFlight
    this.api?.[releaseProxy]()
    this.api = undefined
    this.worker = undefined
    await worker.terminate()
  }
}

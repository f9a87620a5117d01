// The composition root: builds every part of a node in dependency order and stops them in
// reverse (stop taking traffic, stop producing, leave the network, drain the pool, close the
// store last). This is the one place that shows how a Kimura node fits together.
import { toHex } from '../shared/bytes.js'
import { errorCode, errorMessage } from '../shared/errors.js'
import { loadOrCreateSigningKey } from '../shared/key-file.js'
import { ChainStore } from '../shared/store/index.js'
import { ApiServer } from './api/api-server.js'
import { createNodeBackend } from './api/node-backend.js'
import { blockGossipVerdict } from './chain/block-gossip.js'
import { BlockImporter } from './chain/block-importer.js'
import { DEFAULT_BATCHER_OPTIONS, MessageBatcher } from './chain/message-batcher.js'
import { MessageSubmission } from './chain/submission.js'
import type { NodeConfig } from './config.js'
import type { Logger } from './logger.js'
import { NodeMetrics } from './metrics.js'
import { Network } from './network/network.js'
import { SyncClient } from './network/sync-client.js'
import { defaultWorkerPoolOptions } from './pool/options.js'
import { WorkerPool } from './pool/worker-pool.js'
import { BlockProducer } from './producer/block-producer.js'
import { ProducerClient } from './producer/producer-client.js'

interface Parts {
  store: ChainStore
  metrics: NodeMetrics
  pool: WorkerPool
  importer: BlockImporter
  batcher: MessageBatcher
  network: Network
  producerClient?: ProducerClient
  producer?: BlockProducer
  sync?: SyncClient
  api?: ApiServer
}

export class KimuraNode {
  private parts: Partial<Parts> = {}
  private leaderKey: Uint8Array = new Uint8Array(0)
  private state: 'stopped' | 'starting' | 'started' | 'stopping' = 'stopped'

  constructor (readonly config: NodeConfig, private readonly logger: Logger) {}

  /** The leader's public key, hex (on a leader, its own). */
  get leaderPublicKey (): string {
    return toHex(this.leaderKey)
  }

  get network (): Network | undefined {
    return this.parts.network
  }

  get apiAddress (): { host: string, port: number } | undefined {
    return this.parts.api?.boundAddress
  }

  async start (): Promise<void> {
    if (this.state !== 'stopped') return
    this.state = 'starting'
    try {
      await this.startParts()
      this.state = 'started'
    } catch (err) {
      // A failed start stops what already started.
      await this.stopParts()
      this.state = 'stopped'
      throw err
    }
  }

  async stop (): Promise<void> {
    if (this.state !== 'started') return
    this.state = 'stopping'
    await this.stopParts()
    this.state = 'stopped'
  }

  private async startParts (): Promise<void> {
    const { config, logger } = this
    const p = this.parts
    if (config.role === 'leader') {
      const { key, created } = loadOrCreateSigningKey(config.keyFile)
      this.leaderKey = key.publicKey
      logger.info({ keyFile: config.keyFile, created, publicKey: this.leaderPublicKey }, created ? 'created the leader signing key' : 'loaded the leader signing key')
    } else {
      this.leaderKey = config.leaderKey ?? new Uint8Array(0)
    }

    p.store = new ChainStore({ dataDir: config.dataDir, initialize: true })
    const opened = p.store.start()
    const store = p.store
    logger.info({ dataDir: config.dataDir, height: store.tip().height, hash: toHex(store.tip().hash), formatVersion: opened.formatVersion, ...(opened.migration === undefined ? {} : { migration: opened.migration }) }, opened.migration === undefined ? 'store opened' : `store opened: migrated from format ${opened.migration.from} to ${opened.migration.to} (${opened.migration.messages} messages in ${Math.round(opened.migration.ms)} ms)`)

    p.metrics = new NodeMetrics({
      height: () => store.tip().height,
      pending: () => config.role === 'leader' ? store.pending.count() : 0,
      poolQueue: () => this.parts.pool?.queueSize ?? 0,
      peers: () => this.parts.network?.connectedPeerCount() ?? 0
    })
    const metrics = p.metrics

    const workerConfig = { dataDir: config.dataDir, params: config.params, leaderKey: this.leaderPublicKey }
    const poolOptions = defaultWorkerPoolOptions()
    if (config.threads !== undefined) poolOptions.threads = config.threads
    p.pool = new WorkerPool(poolOptions, workerConfig, { onTaskDone: (task, seconds) => { metrics.workerTaskTime.observe({ task }, seconds) } })
    await p.pool.start()
    const pool = p.pool

    p.importer = new BlockImporter(pool, store, this.leaderKey, {
      onImported: (blocks, source) => {
        metrics.blocksReceived.inc({ source }, blocks.length)
        if (source === 'gossip') {
          for (const b of blocks) logger.info({ height: b.height, hash: b.hash, messages: b.messageCount, latencyMs: Date.now() - b.timestamp }, 'block received')
        } else {
          const last = blocks[blocks.length - 1]
          logger.debug({ from: blocks[0].height, to: last.height, hash: last.hash }, 'blocks synced')
        }
      }
    })
    const importer = p.importer

    const persist = config.role === 'leader'
    p.batcher = new MessageBatcher(DEFAULT_BATCHER_OPTIONS, async batch => {
      const output = await pool.admitMessages(batch, { mode: 'each', persist, maxPending: config.maxPending })
      if (output.ok) {
        metrics.messagesAdmitted.inc({ source: 'gossip' }, output.ids.length - output.rejected.length)
        for (const r of output.rejected) metrics.messagesRejected.inc({ code: r.code })
      }
      return output
    })
    const batcher = p.batcher

    p.network = new Network({
      dataDir: config.dataDir,
      listen: config.listen,
      maxBlockBytes: config.params.maxBlockBytes,
      ...(config.leaderAddr === undefined ? {} : { leaderAddr: config.leaderAddr })
    }, {
      logger: logger.child({ component: 'network' }),
      gossipHandler: {
        onBlock: async (data, from) => await blockGossipVerdict(data, from, {
          importer,
          leaderKey: this.leaderKey,
          logger,
          metrics,
          requestSync: () => { void this.parts.sync?.requestSync() }
        }),
        onMessage: async data => await batcher.add(data)
      },
      blockSource: {
        getEncodedBlocks: (from, count, maxBytes) => store.blocks.getEncodedRange(from, count, maxBytes),
        tipHeight: () => store.tip().height
      }
    })
    await p.network.start()
    const network = p.network

    if (config.role === 'leader') {
      p.producerClient = new ProducerClient({ ...workerConfig, keyFile: config.keyFile })
      await p.producerClient.start()
      const producerClient = p.producerClient
      p.producer = new BlockProducer(
        { blockIntervalMs: config.params.blockIntervalMs, maxBlockMessages: config.params.maxBlockMessages },
        {
          build: async (timestamp, max) => {
            const built = await producerClient.buildBlock(timestamp, max)
            store.refresh()
            return built
          },
          publish: async block => await network.publishBlock(block),
          logger,
          metrics
        })
      p.producer.start()
    } else {
      p.sync = new SyncClient({ network, importer, logger: logger.child({ component: 'sync' }) })
      p.sync.start()
    }

    if (config.api !== null) {
      const apiLogger = logger.child({ component: 'api' })
      const submission = new MessageSubmission({ role: config.role, maxPending: config.maxPending }, { pool, network, metrics, logger: apiLogger })
      p.api = new ApiServer(config.api, {
        backend: createNodeBackend({ role: config.role, leaderKey: this.leaderPublicKey, store, pool, network, metrics, submission }),
        logger: apiLogger,
        onRequest: (route, status) => { metrics.apiRequests.inc({ route, status: String(status) }) }
      })
      await p.api.start()
      logger.info({ api: p.api.boundAddress }, 'HTTP API listening')
    }
  }

  private async stopParts (): Promise<void> {
    const p = this.parts
    const steps: Array<[string, (() => Promise<void> | void) | undefined]> = [
      ['api', p.api === undefined ? undefined : async () => await p.api?.stop()],
      ['producer', p.producer === undefined ? undefined : async () => await p.producer?.stop()],
      ['sync', p.sync === undefined ? undefined : async () => await p.sync?.stop()],
      ['batcher', p.batcher === undefined ? undefined : () => { p.batcher?.flush() }],
      ['network', p.network === undefined ? undefined : async () => await p.network?.stop()],
      ['producer worker', p.producerClient === undefined ? undefined : async () => await p.producerClient?.stop()],
      ['worker pool', p.pool === undefined ? undefined : async () => await p.pool?.stop()],
      ['store', p.store === undefined ? undefined : async () => await p.store?.stop()]
    ]
    for (const [name, stop] of steps) {
      if (stop === undefined) continue
      try {
        await stop()
      } catch (err) {
        this.logger.error({ part: name, code: errorCode(err), err: errorMessage(err) }, 'error while stopping')
      }
    }
    this.parts = {}
  }
}

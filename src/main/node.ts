// The composition root: builds every part of a node in dependency order and stops them in
// reverse (stop taking traffic, stop producing, leave the network, drain the pool, close the
// store last). This is the one place that shows how a Kimura node fits together.
import { fromHex, toHex } from '../shared/bytes.js'
import { errorCode, errorMessage, KimuraError } from '../shared/errors.js'
import { loadOrCreateSigningKey } from '../shared/key-file.js'
import { ChainStore } from '../shared/store/index.js'
import type { WorkerConfig } from '../shared/thread-contract.js'
import type { BlockHeader } from '../shared/types.js'
import { VerifiedSet } from '../shared/verified-set.js'
import { ApiServer } from './api/api-server.js'
import { EventFeed } from './api/event-feed.js'
import { loadExplorerAssets } from './api/explorer-assets.js'
import { createNodeBackend } from './api/node-backend.js'
import { blockGossipVerdict } from './chain/block-gossip.js'
import { BlockImporter } from './chain/block-importer.js'
import { EquivocationGuard } from './chain/equivocation.js'
import { StatusAnswer } from './chain/status-answer.js'
import { DEFAULT_BATCHER_OPTIONS, MessageBatcher } from './chain/message-batcher.js'
import { DEFAULT_RELAY_RETRY, RelayRetry } from './chain/relay-retry.js'
import { MessageSubmission } from './chain/submission.js'
import { DEFAULT_EVENT_LOOP_RESOLUTION_MS, type NodeConfig } from './config.js'
import type { Logger } from './logger.js'
import { NodeMetrics } from './metrics.js'
import { Network } from './network/network.js'
import { SyncClient } from './network/sync-client.js'
import { defaultWorkerPoolOptions } from './pool/options.js'
import { WorkerPool } from './pool/worker-pool.js'
import { BlockProducer } from './producer/block-producer.js'
import { LeaderCatchUp } from './producer/leader-catch-up.js'
import { ProducerClient } from './producer/producer-client.js'

/**
 * Messages a peer remembers having verified (a 4 MiB table): several blocks' worth at full
 * load, so a message gossiped before its block is not verified twice.
 */
const VERIFIED_SET_SLOTS = 1 << 17

interface Parts {
  store: ChainStore
  metrics: NodeMetrics
  pool: WorkerPool
  importer: BlockImporter
  batcher: MessageBatcher
  network: Network
  guard: EquivocationGuard
  producerClient?: ProducerClient
  producer?: BlockProducer
  sync?: SyncClient
  api?: ApiServer
  events?: EventFeed
  relayRetry?: RelayRetry
}

export class KimuraNode {
  private parts: Partial<Parts> = {}
  private leaderKey: Uint8Array = new Uint8Array(0)
  private state: 'stopped' | 'starting' | 'started' | 'stopping' = 'stopped'
  private reportFatal: (err: KimuraError) => void = () => {}
  private readonly fatal = new Promise<KimuraError>(resolve => { this.reportFatal = resolve })

  constructor (readonly config: NodeConfig, private readonly logger: Logger) {}

  /**
   * Resolves when a part the node cannot run without has failed (the producer worker died, or
   * no pool worker is left): the owner logs it and stops the node with a non-zero exit.
   */
  get failed (): Promise<KimuraError> {
    return this.fatal
  }

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
    // The tip this node started from, before any sync or gossip moved it.
    const openedTip = store.tip()
    logger.info({ dataDir: config.dataDir, height: openedTip.height, hash: toHex(openedTip.hash), formatVersion: opened.formatVersion, ...(opened.migration === undefined ? {} : { migration: opened.migration }) }, opened.migration === undefined ? 'store opened' : `store opened: migrated from format ${opened.migration.from} to ${opened.migration.to} (${opened.migration.messages} included and ${opened.migration.pending} pending messages in ${Math.round(opened.migration.ms)} ms)`)

    p.metrics = new NodeMetrics({
      height: () => store.tip().height,
      pending: () => config.role === 'leader' ? store.pending.count() : 0,
      poolQueue: () => this.parts.pool?.queueSize ?? 0,
      peers: () => this.parts.network?.connectedPeerCount() ?? 0
    }, { eventLoopResolutionMs: config.eventLoopResolutionMs ?? DEFAULT_EVENT_LOOP_RESOLUTION_MS })
    const metrics = p.metrics

    const workerConfig: WorkerConfig = {
      dataDir: config.dataDir,
      params: config.params,
      leaderKey: this.leaderPublicKey,
      nice: config.workerNice,
      ...(config.role === 'peer' ? { verifiedSet: VerifiedSet.create(VERIFIED_SET_SLOTS) } : {})
    }
    const poolOptions = defaultWorkerPoolOptions()
    if (config.threads !== undefined) poolOptions.threads = config.threads
    p.pool = new WorkerPool(poolOptions, workerConfig, {
      onTaskDone: (task, seconds) => { metrics.workerTaskTime.observe({ task }, seconds) },
      onWorkerFailed: (err, task, workersLeft) => {
        logger.error({ err: errorMessage(err), task, workersLeft }, workersLeft > 0 ? 'a pool worker failed; piscina started a replacement' : 'a pool worker failed and none is left')
        if (workersLeft === 0) this.reportFatal(new KimuraError('ERR_WORKER_DIED', `no pool worker is left: ${errorMessage(err)}`))
      }
    })
    await p.pool.start()
    const pool = p.pool
    logger.info({ threads: pool.threads, priority: pool.workerPriority }, 'worker pool started')

    const statusAnswer = new StatusAnswer(store, this.leaderKey)
    const storedHeader = (height: number): BlockHeader | undefined => height <= store.tip().height ? statusAnswer.headerAt(height) : undefined
    p.guard = new EquivocationGuard(config.dataDir, {
      storedHeader,
      leaderKey: this.leaderKey,
      logger,
      onEquivocation: () => { metrics.equivocations.inc() },
      onHalt: () => { void this.stopFollowing() }
    })
    const guard = p.guard
    // The stored tip rose, by an import or (the leader) by a block it produced: event streams
    // send the new blocks, and status tips heard above the old tip are compared once reached.
    const tipRose = (): void => {
      this.parts.events?.notify()
      guard.tipAdvanced(store.tip().height)
    }

    p.importer = new BlockImporter(pool, store, this.leaderKey, {
      onImported: (blocks, source) => {
        tipRose()
        metrics.blocksReceived.inc({ source }, blocks.length)
        if (source === 'gossip') {
          for (const b of blocks) logger.info({ height: b.height, hash: b.hash, messages: b.messageCount, latencyMs: Date.now() - b.timestamp }, 'block received')
        } else {
          const last = blocks[blocks.length - 1]
          logger.debug({ from: blocks[0].height, to: last.height, hash: last.hash }, 'blocks synced')
        }
      },
      halted: () => guard.halted,
      onWrongParent: (block, source) => { guard.checkRefusedLink(block, `a block received by ${source}`) },
      onStorageFull: full => {
        if (full) logger.error({ code: 'STORAGE_FULL' }, 'the disk is full: blocks are not stored until space returns (they are fetched again by sync)')
        else logger.info('the disk takes writes again: storing blocks')
      }
    })
    const importer = p.importer

    p.batcher = new MessageBatcher({ ...DEFAULT_BATCHER_OPTIONS, forwardValid: config.role !== 'leader' }, async batch => {
      const output = await pool.admitMessages(batch, { mode: 'each' })
      if (!output.ok) return output
      for (const r of output.rejected) metrics.messagesRejected.inc({ code: r.code })
      const valid = output.ids.length - output.rejected.length
      if (config.role === 'leader' && valid > 0) {
        // Before the producer runs (catching up) the messages are ignored: peers hold them.
        const producer = this.parts.producerClient
        if (producer === undefined) return { ok: false, code: 'POOL_FULL', reason: 'the producer is not running' }
        const appended = await producer.appendPending(output.verified)
        if (!appended.ok) return { ok: false, code: appended.code, reason: appended.reason }
      }
      metrics.messagesAdmitted.inc({ source: 'gossip' }, valid)
      return output
    })
    const batcher = p.batcher

    p.network = new Network({
      dataDir: config.dataDir,
      listen: config.listen,
      leaderKey: this.leaderKey,
      peers: config.peers,
      maxBlockBytes: config.params.maxBlockBytes,
      // Every block starts at the leader: its gossip is shaped for a source (gossip.ts).
      publishesBlocks: config.role === 'leader',
      ...(config.announce === undefined ? {} : { announce: config.announce }),
      ...(config.allowPeers === undefined ? {} : { allowPeers: config.allowPeers }),
      ...(config.leaderAddr === undefined ? {} : { leaderAddr: config.leaderAddr })
    }, {
      logger: logger.child({ component: 'network' }),
      gossipHandler: {
        onBlock: async (data, from) => await blockGossipVerdict(data, from, {
          importer,
          leaderKey: this.leaderKey,
          storedHeader,
          guard,
          logger,
          metrics,
          requestSync: () => { void this.parts.sync?.requestSync() },
          peerHolds: (peer, tip) => { this.parts.network?.notePeerTip(peer, tip) }
        }),
        onMessage: async data => await batcher.add(data)
      },
      blockSource: {
        getEncodedBlocks: (from, count, maxBytes) => store.blocks.getEncodedRange(from, count, maxBytes),
        tipHeight: () => store.tip().height
      },
      statusAnswer: () => statusAnswer.current(),
      metricsRegistry: metrics.registry
    })
    await p.network.start()
    const network = p.network
    network.on('peer:status', event => {
      // A leader-signed tip that is not our block at its height (now, or once we hold it): equivocation.
      const hash = fromHex(event.tip.hash, 32)
      if (hash !== undefined) guard.checkStatusTip(event.header, hash, `the status of ${event.peerId}`, store.tip().height)
    })

    // Both roles sync: a peer follows the chain through whichever peers are ahead; a leader
    // that starts behind its peers (restored from an older copy) catches up before producing.
    p.sync = new SyncClient({ network, importer, logger: logger.child({ component: 'sync' }) },
      { stallMs: config.role === 'leader' ? 0 : 2 * config.params.blockIntervalMs })
    guard.start()
    if (!guard.halted) p.sync.start()

    if (config.role === 'leader' && !guard.halted) {
      const sync = p.sync
      const catchUp = new LeaderCatchUp({
        hasConfiguredPeers: config.peers.length > 0,
        startHeight: openedTip.height,
        tipHeight: () => store.tip().height,
        highestPeerTip: () => network.highestPeerTip(),
        requestSync: async () => await sync.requestSync(),
        logger
      })
      await catchUp.beforeFirstBlock()
      p.producerClient = new ProducerClient({ ...workerConfig, keyFile: config.keyFile, maxPending: config.maxPending }, { onDied: err => { this.reportFatal(err) } })
      await p.producerClient.start()
      const producerClient = p.producerClient
      logger.info({ priority: producerClient.threadPriority }, 'producer worker started')
      p.producer = new BlockProducer(
        { blockIntervalMs: config.params.blockIntervalMs, maxBlockMessages: config.params.maxBlockMessages },
        {
          build: async (timestamp, max) => {
            const blocked = catchUp.blocker()
            if (blocked !== undefined) return { ok: false, ...blocked }
            const built = await producerClient.buildBlock(timestamp, max)
            store.refresh()
            return built
          },
          // Event streams are told after the block is on its way to the peers: writing a block
          // record to hundreds of streams must not delay the gossip that peers are waiting for.
          publish: async block => {
            try {
              return await network.publishBlock(block)
            } finally {
              tipRose()
            }
          },
          logger,
          metrics
        })
      p.producer.start()
    }

    if (config.api !== null) {
      const apiLogger = logger.child({ component: 'api' })
      if (config.role === 'peer') {
        // What this peer acknowledges is sent again if no block includes it in time.
        p.relayRetry = new RelayRetry(DEFAULT_RELAY_RETRY, {
          isIncluded: id => store.messages.has(id),
          chainTime: () => store.tip().timestamp,
          publish: async payload => await network.publishMessage(payload),
          logger: apiLogger
        })
        p.relayRetry.start()
      }
      const submission = new MessageSubmission({ role: config.role }, {
        pool,
        network,
        metrics,
        logger: apiLogger,
        ...(p.producerClient === undefined ? {} : { pending: p.producerClient }),
        ...(p.relayRetry === undefined ? {} : { relayRetry: p.relayRetry })
      })
      // GET /v1/events: one feed, told by the importer and the producer when the tip moves.
      p.events = new EventFeed({ tipHeight: () => store.tip().height, renderBlock: async height => (await pool.renderBlock({ height, withMessages: false })).json }, apiLogger)
      p.events.start()
      const explorer = loadExplorerAssets()
      if (explorer.size === 0) apiLogger.warn('the explorer is not built (npm run build): GET / answers 404')
      p.api = new ApiServer(config.api, {
        backend: createNodeBackend({ role: config.role, leaderKey: this.leaderPublicKey, store, ...(p.producerClient === undefined ? {} : { pending: p.producerClient }), pool, network, metrics, submission, events: p.events, explorer }),
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
      // Event streams end first: the server's close waits for every open connection.
      ['api', p.api === undefined ? undefined : async () => { p.events?.stop(); await p.api?.stop() }],
      ['producer', p.producer === undefined ? undefined : async () => await p.producer?.stop()],
      ['relay retry', p.relayRetry === undefined ? undefined : () => { p.relayRetry?.stop() }],
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

  /** Equivocation: stop importing and producing; the API stays up for the operator. */
  private async stopFollowing (): Promise<void> {
    await this.parts.producer?.stop()
    await this.parts.sync?.stop()
  }
}

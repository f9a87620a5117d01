// The libp2p node of a Kimura node (SPEC 5): TCP + Noise + Yamux, identify (and push), ping,
// gossipsub on the blocks and messages topics, the status and sync protocols, and the mesh:
// connections kept to the configured nodes (--leader-addr, --peers), further peers learned by
// identify and gossipsub peer exchange, dead connections found by Yamux pings.
import { EventEmitter } from 'node:events'
import type { GossipSub } from '@libp2p/gossipsub'
import { identify, identifyPush, type Identify, type IdentifyPush } from '@libp2p/identify'
import type { IdentifyResult, Libp2p, PeerId, PrivateKey } from '@libp2p/interface'
import { noise } from '@libp2p/noise'
import { peerIdFromString } from '@libp2p/peer-id'
import { ping, type Ping } from '@libp2p/ping'
import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { KimuraError, errorMessage } from '../../shared/errors.js'
import { networkId } from '../../shared/status.js'
import { createConnectionGater } from './connection-gater.js'
import { ConnectionLiveness } from './connection-liveness.js'
import { BLOCKS_TOPIC, MESSAGES_TOPIC, TOPICS, createGossipsub, createTopicValidator } from './gossip.js'
import { resolveNetworkOptions, type NetworkInit, type NetworkOptions } from './options.js'
import { PeerBook, type VerifiedTip } from './peer-book.js'
import { loadOrCreatePeerKey } from './peer-key.js'
import { PeerKeeper, type ConfiguredPeer } from './peer-keeper.js'
import { STATUS_PROTOCOL, askStatus, checkStatus, createStatusHandler } from './status-exchange.js'
import { SyncLimits } from './sync-limits.js'
import { MAX_SYNC_STREAMS_PER_CONNECTION, SYNC_PROTOCOL, createSyncHandler, requestBlocks } from './sync-protocol.js'
import type { BlockSource, GossipHandler, NetworkEvents, SyncNetwork } from './types.js'
import { installYamuxWindowRule } from './yamux-window.js'
import { installGossipRpcBatching } from './gossip-batching.js'

export interface NetworkModules {
  logger: Logger
  gossipHandler: GossipHandler
  blockSource: BlockSource
  /** The encoded status answer (SPEC 5) for this node's stored tip, asked for on every status request. */
  statusAnswer: () => Uint8Array
  /** Where libp2p's own metrics go (Prometheus); none when absent. */
  metricsRegistry?: Registry
}

type Node = Libp2p<{ identify: Identify, identifyPush: IdentifyPush, ping: Ping, pubsub: GossipSub }>

type State =
  | { status: 'stopped' }
  | { status: 'starting', done: Promise<void> }
  | { status: 'started', node: Node, keeper: PeerKeeper, liveness: ConnectionLiveness }
  | { status: 'stopping', done: Promise<void> }

/** Status streams a connection may have open at once: one asked each way, one spare. */
const MAX_STATUS_STREAMS = 2

export class Network extends EventEmitter<NetworkEvents> implements SyncNetwork {
  readonly options: NetworkOptions
  private readonly modules: NetworkModules
  private readonly log: Logger
  private readonly configured: ConfiguredPeer[]
  private readonly networkId: Uint8Array
  private readonly peerBook = new PeerBook()
  private state: State = { status: 'stopped' }
  private localPeerId: string | undefined

  constructor (options: NetworkInit, modules: NetworkModules) {
    super()
    this.options = resolveNetworkOptions(options)
    this.modules = modules
    this.log = modules.logger
    this.networkId = networkId(this.options.leaderKey)
    const addrs = [...(this.options.leaderAddr === undefined ? [] : [this.options.leaderAddr]), ...this.options.peers]
    this.configured = addrs.map(a => parseConfiguredPeer(a))
  }

  /** This node's libp2p peer id; known once start() has loaded the peer key. */
  get peerId (): string {
    if (this.localPeerId === undefined) throw new KimuraError('ERR_INVALID_CONFIG', 'the network has not been started: no peer id yet')
    return this.localPeerId
  }

  async start (): Promise<void> {
    switch (this.state.status) {
      case 'started': return
      case 'starting': return await this.state.done
      case 'stopping': await this.state.done; return await this.start()
      case 'stopped': break
    }
    // State changes happen inside the promise, so whoever awaits it sees the final state.
    const done = (async () => {
      try {
        await this.doStart()
      } catch (err) {
        this.state = { status: 'stopped' }
        throw err
      }
    })()
    this.state = { status: 'starting', done }
    await done
  }

  async stop (): Promise<void> {
    switch (this.state.status) {
      case 'stopped': return
      case 'stopping': return await this.state.done
      case 'starting': await this.state.done.catch(() => {}); return await this.stop()
      case 'started': break
    }
    const { node, keeper, liveness } = this.state
    const done = (async () => {
      try {
        liveness.stop()
        keeper.stop()
        await node.stop()
        this.log.info('network stopped')
      } finally {
        this.state = { status: 'stopped' }
      }
    })()
    this.state = { status: 'stopping', done }
    await done
  }

  private async doStart (): Promise<void> {
    const { options } = this
    const privateKey = await loadOrCreatePeerKey(options.dataDir)
    const node = await this.createNode(privateKey)
    this.localPeerId = node.peerId.toString()
    const keeper = new PeerKeeper(node, this.configured, options.redialIntervalMs, this.log)
    const liveness = new ConnectionLiveness({ intervalMs: options.pingIntervalMs, timeoutMs: options.pingTimeoutMs }, {
      connections: () => node.getConnections(),
      protocolPing: async (connection, signal) => await node.services.ping.ping(connection.remotePeer, { signal }),
      logger: this.log
    })
    try {
      this.wireEvents(node)
      await node.start()
      await node.handle(SYNC_PROTOCOL, createSyncHandler({
        source: this.modules.blockSource,
        limits: new SyncLimits({
          maxStreamsPerPeer: options.syncMaxStreamsPerPeer,
          maxStreamsTotal: options.syncMaxStreamsTotal,
          maxBytesInFlight: options.syncMaxBytesInFlight,
          requestsPerSecond: options.syncRequestsPerSecond,
          burst: options.syncRequestBurst
        }),
        logger: this.log
      }), { maxInboundStreams: MAX_SYNC_STREAMS_PER_CONNECTION, maxOutboundStreams: MAX_SYNC_STREAMS_PER_CONNECTION })
      await node.handle(STATUS_PROTOCOL, createStatusHandler(this.modules.statusAnswer, this.log),
        { maxInboundStreams: MAX_STATUS_STREAMS, maxOutboundStreams: MAX_STATUS_STREAMS })
      this.subscribe(node)
      await keeper.start()
      liveness.start()
      this.state = { status: 'started', node, keeper, liveness }
    } catch (err) {
      liveness.stop()
      keeper.stop()
      try {
        await node.stop()
      } catch (stopErr) {
        this.log.debug({ err: errorMessage(stopErr) }, 'stopping libp2p after a failed start')
      }
      if (err instanceof KimuraError) throw err
      throw new KimuraError('ERR_NETWORK_START', `cannot start the network: ${errorMessage(err)}`, { listen: options.listen }, { cause: err })
    }
    this.log.info({ peerId: this.localPeerId, listen: this.getMultiaddrs(), peers: this.configured.map(p => p.addr.toString()) }, 'network started')
  }

  private async createNode (privateKey: PrivateKey): Promise<Node> {
    const { options } = this
    const allowPeers = options.allowPeers === undefined ? undefined : [...options.allowPeers, ...this.configured.map(p => p.peerId.toString())]
    const registry = this.modules.metricsRegistry
    if (!installYamuxWindowRule()) this.log.warn('@libp2p/yamux changed: every data frame read is answered by a window update (twice the frames)')
    let node: Node
    try {
      node = await createLibp2p({
        privateKey,
        start: false,
        addresses: { listen: options.listen, ...(options.announce === undefined ? {} : { announce: options.announce }) },
        transports: [tcp()],
        connectionEncrypters: [noise()],
        // Yamux's keep-alive pings never close a connection that stops answering:
        // ConnectionLiveness sends the same pings and does.
        streamMuxers: [yamux({ enableKeepAlive: false })],
        connectionGater: createConnectionGater(allowPeers),
        connectionManager: {
          // Nodes of one network often share a host (all on 127.0.0.1 in tests and small
          // setups): the default 5 inbound connections per second per host would refuse a
          // batch of peers redialing a restarted node.
          inboundConnectionThreshold: 100,
          maxIncomingPendingConnections: options.maxIncomingPendingConnections,
          maxConnections: options.maxConnections,
          dialTimeout: 5_000,
          // libp2p redials a keep-alive peer right after it disconnects; PeerKeeper covers
          // longer outages, so a few quick retries are enough here.
          reconnectRetries: 3,
          reconnectRetryInterval: 500,
          reconnectBackoffFactor: 2
        },
        // A ping stream per connection and interval: ConnectionLiveness pings by Yamux frames.
        connectionMonitor: { enabled: false },
        ...(registry === undefined ? {} : { metrics: prometheusMetrics({ registry, collectDefaultMetrics: false, preserveExistingMetrics: true }) }),
        services: {
          identify: identify(),
          identifyPush: identifyPush(),
          ping: ping(),
          pubsub: createGossipsub({
            maxBlockBytes: options.maxBlockBytes,
            appScore: peer => this.peerBook.isVerified(peer) ? 1 : 0,
            publishesBlocks: options.publishesBlocks
          })
        }
      })
    } catch (err) {
      throw new KimuraError('ERR_NETWORK_START', `cannot create the libp2p node: ${errorMessage(err)}`, { listen: options.listen }, { cause: err })
    }
    if (!installGossipRpcBatching(node.services.pubsub, this.log)) this.log.warn('@libp2p/gossipsub changed: every gossip RPC is encoded and sent on its own')
    return node
  }

  private subscribe (node: Node): void {
    const pubsub = node.services.pubsub
    const { gossipHandler } = this.modules
    pubsub.topicValidators.set(BLOCKS_TOPIC, createTopicValidator({
      logger: this.log,
      topic: BLOCKS_TOPIC,
      handle: async (data, from) => await gossipHandler.onBlock(data, from)
    }))
    pubsub.topicValidators.set(MESSAGES_TOPIC, createTopicValidator({
      logger: this.log,
      topic: MESSAGES_TOPIC,
      handle: async (data, from) => await gossipHandler.onMessage(data, from)
    }))
    for (const topic of TOPICS) {
      try {
        pubsub.subscribe(topic)
      } catch (err) {
        throw new KimuraError('ERR_NETWORK_SUBSCRIBE', `cannot subscribe to ${topic}: ${errorMessage(err)}`, { topic }, { cause: err })
      }
    }
  }

  private wireEvents (node: Node): void {
    node.addEventListener('peer:identify', evt => { this.onIdentify(node, evt.detail) })
    node.addEventListener('peer:connect', evt => { this.log.info({ peer: evt.detail.toString() }, 'peer connected') })
    node.addEventListener('peer:disconnect', evt => {
      const peer = evt.detail.toString()
      this.peerBook.remove(peer)
      this.log.info({ peer }, 'peer disconnected')
    })
  }

  /** Identify tells which protocols the peer speaks: ask its status if it speaks ours. */
  private onIdentify (node: Node, result: IdentifyResult): void {
    if (!result.protocols.includes(STATUS_PROTOCOL)) {
      this.log.debug({ peer: result.peerId.toString() }, 'peer does not speak the status protocol: treated as holding no chain')
      return
    }
    void this.askStatusOf(node, result.peerId)
  }

  private async askStatusOf (node: Node, peer: PeerId): Promise<VerifiedTip | undefined> {
    const id = peer.toString()
    let answer: Uint8Array
    try {
      answer = await askStatus(node, peer, STATUS_PROTOCOL)
    } catch (err) {
      this.log.debug({ peer: id, err: errorMessage(err) }, 'no status answer: the peer is treated as holding no chain')
      return undefined
    }
    const verdict = checkStatus(answer, this.networkId, this.options.leaderKey)
    if (!verdict.ok) {
      this.log.warn({ peer: id, code: verdict.code, reason: verdict.reason }, 'disconnecting a peer whose status does not hold')
      this.peerBook.remove(id)
      await node.hangUp(peer).catch(() => undefined)
      return undefined
    }
    this.peerBook.setTip(id, verdict.tip)
    this.emit('peer:status', { peerId: id, tip: verdict.tip, header: verdict.header })
    return verdict.tip
  }

  /** A leader-signed block `peer` sent shows it holds at least that block: sync may fetch to it. */
  notePeerTip (peer: string, tip: VerifiedTip): void {
    this.peerBook.raiseTip(peer, tip)
  }

  private get node (): Node | undefined {
    return this.state.status === 'started' ? this.state.node : undefined
  }

  /** Publishes an encoded Block; resolves with the number of peers it was sent to. */
  async publishBlock (bytes: Uint8Array): Promise<number> {
    return await this.publish(BLOCKS_TOPIC, bytes)
  }

  /** Publishes an encoded Message; resolves with the number of peers it was sent to. */
  async publishMessage (bytes: Uint8Array): Promise<number> {
    return await this.publish(MESSAGES_TOPIC, bytes)
  }

  private async publish (topic: string, data: Uint8Array): Promise<number> {
    const node = this.node
    if (node === undefined) throw new KimuraError('ERR_NETWORK_PUBLISH', 'the network is not started', { topic })
    // No valid payload is larger, and receivers would drop the frame unread: refuse it here.
    if (data.byteLength > this.options.maxBlockBytes) {
      throw new KimuraError('ERR_NETWORK_SERIALIZATION', `a ${data.byteLength}-byte payload exceeds the gossip frame limit`, { topic, bytes: data.byteLength })
    }
    try {
      const result = await node.services.pubsub.publish(topic, data)
      return result.recipients.length
    } catch (err) {
      const message = errorMessage(err)
      if (message.includes('NoPeersSubscribedToTopic')) {
        // Normal for a lone leader or a node between connections.
        this.log.debug({ topic }, 'published with no subscribed peer')
        return 0
      }
      throw new KimuraError('ERR_NETWORK_PUBLISH', `publish to ${topic} failed: ${message}`, { topic }, { cause: err })
    }
  }

  /** Listen addresses (or the announced ones), each ending in /p2p/<peerId>; empty while stopped. */
  getMultiaddrs (): string[] {
    const node = this.node
    if (node === undefined) return []
    const suffix = `/p2p/${node.peerId.toString()}`
    return node.getMultiaddrs().map(ma => {
      const text = ma.toString()
      return text.endsWith(suffix) ? text : `${text}${suffix}`
    })
  }

  connectedPeerCount (): number {
    return this.node?.getPeers().length ?? 0
  }

  /** Connected peers subscribed to `topic`. */
  topicPeerCount (topic: string): number {
    return this.node?.services.pubsub.getSubscribers(topic).length ?? 0
  }

  /** Connected peers whose verified tip is above `height`, the best to sync from first. */
  syncPeers (height: number): string[] {
    const node = this.node
    if (node === undefined) return []
    return this.peerBook.aheadOf(height, peer => node.getConnections(peerIdFromString(peer)).length > 0)
  }

  /** The highest tip a connected peer has proved (its status, or a block it gossiped). */
  highestPeerTip (): VerifiedTip | undefined {
    const node = this.node
    if (node === undefined) return undefined
    return this.peerBook.highest(peer => node.getConnections(peerIdFromString(peer)).length > 0)
  }

  /** A sync request to `peer` failed or brought blocks that were refused: ask it later than others. */
  reportSyncFailure (peer: string): void {
    this.peerBook.reportSyncFailure(peer)
  }

  reportSyncSuccess (peer: string): void {
    this.peerBook.reportSyncSuccess(peer)
  }

  /** Asks every connected peer for its status again (a node that heard no block for a while). */
  async refreshStatuses (): Promise<void> {
    const node = this.node
    if (node === undefined) return
    await Promise.all(node.getPeers().map(async peer => await this.askStatusOf(node, peer)))
  }

  /** One sync request to `peerId` (see sync-protocol.ts); rejects with ERR_SYNC. */
  async requestBlocks (peerId: string, from: number, count: number, signal?: AbortSignal): Promise<Uint8Array[]> {
    const node = this.node
    if (node === undefined) throw new KimuraError('ERR_SYNC', 'the network is not started')
    let peer: PeerId
    try {
      peer = peerIdFromString(peerId)
    } catch (err) {
      throw new KimuraError('ERR_SYNC', `not a peer id: ${peerId}`, { peerId }, { cause: err })
    }
    return await requestBlocks(node, peer, { from, count }, {
      maxBlockBytes: this.options.maxBlockBytes,
      timeoutMs: this.options.syncRequestTimeoutMs,
      signal
    })
  }
}

function parseConfiguredPeer (text: string): ConfiguredPeer {
  try {
    const addr = multiaddr(text)
    const id = addr.getComponents().findLast(c => c.name === 'p2p')?.value
    if (id === undefined) throw new Error('it does not end in /p2p/<peer id>')
    return { addr, peerId: peerIdFromString(id) }
  } catch (err) {
    throw new KimuraError('ERR_INVALID_CONFIG', `invalid peer address ${text}: ${errorMessage(err)}`, { addr: text }, { cause: err })
  }
}

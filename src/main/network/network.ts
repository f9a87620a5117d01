// The libp2p node of a Kimura node: TCP + Noise + Yamux, identify, gossipsub on the blocks and
// messages topics, the sync protocol server, and (peer role) the link to the leader.
import { EventEmitter } from 'node:events'
import type { GossipSub } from '@libp2p/gossipsub'
import { identify, type Identify } from '@libp2p/identify'
import type { Libp2p, PeerId, PrivateKey } from '@libp2p/interface'
import { noise } from '@libp2p/noise'
import { peerIdFromString } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import type { Logger } from 'pino'
import { KimuraError, errorMessage } from '../../shared/errors.js'
import { BLOCKS_TOPIC, MESSAGES_TOPIC, TOPICS, createGossipsub, createTopicValidator } from './gossip.js'
import { LeaderLink } from './leader-link.js'
import { resolveNetworkOptions, type NetworkInit, type NetworkOptions } from './options.js'
import { loadOrCreatePeerKey } from './peer-key.js'
import { createConnectionGater } from './connection-gater.js'
import { SyncLimits } from './sync-limits.js'
import { MAX_SYNC_STREAMS_PER_CONNECTION, SYNC_PROTOCOL, createSyncHandler, requestBlocks } from './sync-protocol.js'
import type { BlockSource, GossipHandler, NetworkEvents, SyncNetwork } from './types.js'

export interface NetworkModules {
  logger: Logger
  gossipHandler: GossipHandler
  blockSource: BlockSource
}

type Node = Libp2p<{ identify: Identify, pubsub: GossipSub }>

/** Peer-store tag on the leader: the highest value, so the connection pruner closes it last. */
const LEADER_TAG = 'kimura-leader'
const LEADER_TAG_VALUE = 100

type State =
  | { status: 'stopped' }
  | { status: 'starting', done: Promise<void> }
  | { status: 'started', node: Node, leaderLink: LeaderLink | undefined }
  | { status: 'stopping', done: Promise<void> }

export class Network extends EventEmitter<NetworkEvents> implements SyncNetwork {
  readonly options: NetworkOptions
  private readonly modules: NetworkModules
  private readonly log: Logger
  private readonly leader: { addr: Multiaddr, peerId: PeerId } | undefined
  private state: State = { status: 'stopped' }
  private localPeerId: string | undefined
  /** Last reported leader state, so leader:connected/disconnected fire on transitions only. */
  private leaderUp = false

  constructor (options: NetworkInit, modules: NetworkModules) {
    super()
    this.options = resolveNetworkOptions(options)
    this.modules = modules
    this.log = modules.logger
    this.leader = this.options.leaderAddr === undefined ? undefined : parseLeaderAddr(this.options.leaderAddr)
  }

  /** This node's libp2p peer id; known once start() has loaded the peer key. */
  get peerId (): string {
    if (this.localPeerId === undefined) throw new KimuraError('ERR_INVALID_CONFIG', 'the network has not been started: no peer id yet')
    return this.localPeerId
  }

  /** The configured leader's peer id (peer role), or undefined on the leader. */
  get leaderPeerId (): string | undefined {
    return this.leader?.peerId.toString()
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
    const { node, leaderLink } = this.state
    const done = (async () => {
      try {
        leaderLink?.stop()
        await node.stop()
        this.log.info('network stopped')
      } finally {
        this.leaderUp = false
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
    let leaderLink: LeaderLink | undefined
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
      this.subscribe(node)
      if (this.leader !== undefined) {
        const leader = this.leader
        await node.peerStore.merge(leader.peerId, { tags: { [LEADER_TAG]: { value: LEADER_TAG_VALUE } } })
        leaderLink = new LeaderLink({
          leaderAddr: leader.addr.toString(),
          minDelayMs: options.redialMinMs,
          maxDelayMs: options.redialMaxMs,
          dial: async (signal) => {
            try {
              await node.dial(leader.addr, { signal })
            } catch (err) {
              throw new KimuraError('ERR_NETWORK_DIAL', `cannot dial the leader: ${errorMessage(err)}`, { leaderAddr: leader.addr.toString() }, { cause: err })
            }
          },
          logger: this.log
        })
      }
      this.state = { status: 'started', node, leaderLink }
      leaderLink?.start()
    } catch (err) {
      leaderLink?.stop()
      try {
        await node.stop()
      } catch (stopErr) {
        this.log.debug({ err: errorMessage(stopErr) }, 'stopping libp2p after a failed start')
      }
      if (err instanceof KimuraError) throw err
      throw new KimuraError('ERR_NETWORK_START', `cannot start the network: ${errorMessage(err)}`, { listen: options.listen }, { cause: err })
    }
    this.log.info({ peerId: this.localPeerId, listen: this.getMultiaddrs(), leader: this.options.leaderAddr }, 'network started')
  }

  private async createNode (privateKey: PrivateKey): Promise<Node> {
    const { options } = this
    try {
      return await createLibp2p({
        privateKey,
        start: false,
        addresses: { listen: options.listen },
        transports: [tcp()],
        connectionEncrypters: [noise()],
        streamMuxers: [yamux()],
        connectionManager: {
          // Nodes of one network often share a host (all on 127.0.0.1 in tests and small
          // setups): the default 5 inbound connections per second per host would refuse a
          // batch of peers redialing a restarted leader.
          inboundConnectionThreshold: 100,
          maxIncomingPendingConnections: options.maxIncomingPendingConnections,
          maxConnections: options.maxConnections,
          dialTimeout: 5_000
        },
        connectionGater: createConnectionGater(options.allowPeers),
        services: {
          identify: identify(),
          pubsub: createGossipsub({ maxBlockBytes: options.maxBlockBytes, leaderPeerId: this.leader?.peerId.toString() })
        }
      })
    } catch (err) {
      throw new KimuraError('ERR_NETWORK_START', `cannot create the libp2p node: ${errorMessage(err)}`, { listen: options.listen }, { cause: err })
    }
  }

  private subscribe (node: Node): void {
    const pubsub = node.services.pubsub
    const { gossipHandler } = this.modules
    pubsub.topicValidators.set(BLOCKS_TOPIC, createTopicValidator({
      logger: this.log,
      topic: BLOCKS_TOPIC,
      handle: async (data, from) => await gossipHandler.onBlock(data, from),
      onAccept: (data, from, receivedAt) => { this.emit('block:received', { data, from, receivedAt }) }
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
    node.addEventListener('peer:connect', (evt) => {
      const peerId = evt.detail.toString()
      const isLeader = peerId === this.leaderPeerId
      if (isLeader) this.startedLeaderLink()?.onConnected()
      this.log.info({ peer: peerId, leader: isLeader }, 'peer connected')
      this.emit('peer:connected', { peerId })
      this.refreshLeaderState()
    })
    node.addEventListener('peer:disconnect', (evt) => {
      const peerId = evt.detail.toString()
      const isLeader = peerId === this.leaderPeerId
      this.log.info({ peer: peerId, leader: isLeader }, 'peer disconnected')
      this.emit('peer:disconnected', { peerId })
      this.refreshLeaderState()
      if (isLeader) this.startedLeaderLink()?.onDisconnected()
    })
    node.services.pubsub.addEventListener('subscription-change', (evt) => {
      if (evt.detail.peerId.toString() === this.leaderPeerId) this.refreshLeaderState()
    })
  }

  private startedLeaderLink (): LeaderLink | undefined {
    return this.state.status === 'started' ? this.state.leaderLink : undefined
  }

  /** Emits leader:connected/disconnected when isLeaderConnected() changes. */
  private refreshLeaderState (): void {
    const leaderPeerId = this.leaderPeerId
    if (leaderPeerId === undefined) return
    const up = this.isLeaderConnected()
    if (up === this.leaderUp) return
    this.leaderUp = up
    this.log.info({ leader: leaderPeerId }, up ? 'leader connected' : 'leader disconnected')
    this.emit(up ? 'leader:connected' : 'leader:disconnected', { peerId: leaderPeerId })
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
        // Normal for a lone leader or a peer between leader connections.
        this.log.debug({ topic }, 'published with no subscribed peer')
        return 0
      }
      throw new KimuraError('ERR_NETWORK_PUBLISH', `publish to ${topic} failed: ${message}`, { topic }, { cause: err })
    }
  }

  /** Listen addresses, each ending in /p2p/<peerId>; empty while stopped. */
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

  /** Peer role: connected to the leader and the leader subscribes to the messages topic. */
  isLeaderConnected (): boolean {
    const node = this.node
    const leader = this.leader
    if (node === undefined || leader === undefined) return false
    if (node.getConnections(leader.peerId).length === 0) return false
    return node.services.pubsub.getSubscribers(MESSAGES_TOPIC).some(peer => peer.equals(leader.peerId))
  }

  /** Connected peers subscribed to `topic`. */
  topicPeerCount (topic: string): number {
    return this.node?.services.pubsub.getSubscribers(topic).length ?? 0
  }

  /** Connected peers to sync from: the leader first (it is never behind), then the others. */
  syncPeers (): string[] {
    const node = this.node
    if (node === undefined) return []
    const peers = node.getPeers().map(p => p.toString())
    const leader = this.leaderPeerId
    if (leader === undefined || !peers.includes(leader)) return peers
    return [leader, ...peers.filter(p => p !== leader)]
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

function parseLeaderAddr (text: string): { addr: Multiaddr, peerId: PeerId } {
  try {
    const addr = multiaddr(text)
    const id = addr.getComponents().findLast(c => c.name === 'p2p')?.value
    if (id === undefined) throw new Error('it does not end in /p2p/<peer id>')
    return { addr, peerId: peerIdFromString(id) }
  } catch (err) {
    throw new KimuraError('ERR_INVALID_CONFIG', `invalid leader address ${text}: ${errorMessage(err)}`, { leaderAddr: text }, { cause: err })
  }
}

// Gossipsub configuration and topic validators for Kimura's two topics (SPEC 5).
import { gossipsub, TopicValidatorResult, type GossipsubOpts, type Message as GossipMessage, type TopicValidatorFn } from '@libp2p/gossipsub'
import { createTopicScoreParams } from '@libp2p/gossipsub/score'
import type { PeerId } from '@libp2p/interface'
import type { Logger } from 'pino'
import { bufferOf } from '../../shared/bytes.js'
import { errorMessage } from '../../shared/errors.js'
import { b3 } from '../../shared/hash.js'
import type { GossipVerdict } from './types.js'

export const BLOCKS_TOPIC = 'kimura/blocks/1.0.0'
export const MESSAGES_TOPIC = 'kimura/messages/1.0.0'
export const TOPICS: readonly string[] = [BLOCKS_TOPIC, MESSAGES_TOPIC]

/**
 * Room above maxBlockBytes in one inbound gossipsub RPC frame: the protobuf envelope plus
 * control messages piggybacked on it (an IHAVE can list thousands of 32-byte ids).
 */
export const GOSSIP_FRAME_HEADROOM_BYTES = 1024 * 1024

export interface GossipConfigInit {
  maxBlockBytes: number
  /**
   * A peer's application score, read at every heartbeat: 1 for a peer whose status proved it
   * follows this network (x appSpecificWeight 10 = 10, the acceptPXThreshold: only such peers'
   * peer exchange is acted on), 0 otherwise.
   */
  appScore: (peer: string) => number
  /**
   * Whether every block starts at this node (the leader). Its gossip is then shaped for a
   * source, whose upload is the network's bottleneck:
   * - no IHAVE gossip to peers outside its mesh: a peer that hears of a block from the leader
   *   has usually not received it yet, asks for it (IWANT), and the leader uploads the whole
   *   block once more (about one copy per block at 50 nodes: 13.2-13.6 x the block before,
   *   11.4-12.6 x after). Its mesh peers' IHAVEs, a hop later, repair holes in the mesh.
   * - Dhi 8 instead of 12: a mesh sits near its high mark, since peers short of Dlo graft onto
   *   whoever they are connected to, so Dhi, not D, bounds what each publish uploads.
   *   Grafts beyond 8 from peers it did not dial are pruned with peer exchange, which sends
   *   those peers to others: 8.2-8.9 x the block per block at 50 nodes instead of 13.3 x.
   */
  publishesBlocks: boolean
}

/** How long gossipsub remembers a payload's id, on every node, to drop it when it comes again. */
export const GOSSIP_SEEN_TTL_MS = 30_000

/**
 * Gossipsub for a permissioned network of 5 to 100 nodes in a mesh: each node dials a few
 * configured others and learns more by identify and peer exchange, so a block reaches most
 * nodes through other peers, often all on one host.
 */
export function createGossipsub (init: GossipConfigInit): ReturnType<typeof gossipsub> {
  const topicScore = createTopicScoreParams({
    topicWeight: 1,
    // Scores here only punish invalid payloads. Delivery-rate terms would penalise honest
    // nodes on quiet topics (one block per interval, messages only when users submit some).
    timeInMeshWeight: 0,
    firstMessageDeliveriesWeight: 0,
    meshMessageDeliveriesWeight: 0,
    meshFailurePenaltyWeight: 0,
    // A 'reject' verdict costs -count^2, the count decaying x0.9 per second: a rare mistake
    // is forgotten within about 20 s, while one invalid payload per second holds the count
    // near 10, a score of -100, below the graylist threshold (-80).
    invalidMessageDeliveriesWeight: -1,
    invalidMessageDeliveriesDecay: 0.9
  })
  const options: Partial<GossipsubOpts> = {
    // Blocks and messages carry their own Ed25519 signatures, checked by the node: a second
    // libp2p signature per gossip message would only cost main-thread CPU.
    globalSignaturePolicy: 'StrictNoSign',
    msgIdFn: (msg: GossipMessage) => b3(msg.data),
    // The library's default makes the same base64 in JavaScript (multiformats), about 3 % of a
    // loaded peer's main thread: it runs for every id received, sent or looked up.
    msgIdToStrFn: (id: Uint8Array) => bufferOf(id).toString('base64'),
    // 30 s, not 2 min: far longer than a payload takes to cross the mesh (gossip repairs look
    // back 3 heartbeats), and short enough that a peer's resend of a message that was lost
    // on the way (RelayRetry) is not dropped everywhere as already seen.
    seenTTL: GOSSIP_SEEN_TTL_MS,
    emitSelf: false,
    // In a mesh, flood publishing would make the leader upload every block once per connected
    // subscriber (up to every node that dials it); publishing to its mesh bounds the upload
    // by its mesh, and the mesh carries the block on from there.
    floodPublish: false,
    batchPublish: true,
    // Mesh degree for up to ~100 nodes: 8 reaches 100 nodes in about three hops; Dlo 6 and
    // Dhi 12 leave room to graft and prune without churn. Dout < Dlo and <= D/2, as gossipsub
    // requires; Dlazy 6 peers outside the mesh hear IHAVEs, which repairs holes in a sparse
    // mesh. The leader's differ: see publishesBlocks (gossip factor 0: not even the library's
    // default share of IHAVEs, 0.25).
    D: 8,
    Dlo: 6,
    ...(init.publishesBlocks ? { Dhi: 8, Dlazy: 0, gossipFactor: 0 } : { Dhi: 12, Dlazy: 6 }),
    Dout: 2,
    // Faster than the default 1 s: mesh repair after a (re)connect matters more than the
    // heartbeat cost, which is small with tens of peers.
    heartbeatInterval: 700,
    // IDONTWANT (gossipsub 1.2) for every payload, not only those of 512 bytes or more: a node
    // tells its mesh peers at once which Message it already holds, so that they do not forward
    // it again once they have validated it. The ids ride in the RPCs merged per turn
    // (gossip-batching.ts), 34 bytes each; a relayed Message then reaches a node about twice
    // instead of once per mesh peer. Sent one RPC each, as the library sends them, they cost
    // more than the copies they saved.
    idontwantMinDataSize: 1,
    // Peer exchange: a node pruning a full mesh names other peers; so a node that knows only
    // two or three others learns more. Only peers with appScore (a verified status) are heard.
    doPX: true,
    scoreThresholds: { acceptPXThreshold: 10 },
    // A node with no peer subscribed yet publishing is normal: Network reports 0 recipients.
    allowPublishToZeroTopicPeers: false,
    // The same bytes published twice (a message resubmitted to a peer) are not an error.
    ignoreDuplicatePublishError: true,
    // Only our topics: unknown ones would grow per-topic state for nothing.
    allowedTopics: [...TOPICS],
    maxInboundDataLength: init.maxBlockBytes + GOSSIP_FRAME_HEADROOM_BYTES,
    fallbackToFloodsub: false,
    scoreParams: {
      // Every node may share one host (tests, small deployments): the default colocation
      // penalty would graylist peers once more than 10 run on 127.0.0.1.
      IPColocationFactorWeight: 0,
      appSpecificScore: init.appScore,
      appSpecificWeight: 10,
      topics: { [BLOCKS_TOPIC]: topicScore, [MESSAGES_TOPIC]: topicScore }
    }
  }
  return gossipsub(options)
}

export interface ValidatorInit {
  logger: Logger
  topic: string
  handle: (data: Uint8Array, from: string) => Promise<GossipVerdict>
}

/** A topic validator that asks the GossipHandler; it never throws into gossipsub. */
export function createTopicValidator (init: ValidatorInit): TopicValidatorFn {
  const { logger, topic, handle } = init
  return async (peer: PeerId, msg: GossipMessage): Promise<TopicValidatorResult> => {
    const from = peer.toString()
    let verdict: GossipVerdict
    try {
      verdict = await handle(msg.data, from)
    } catch (err) {
      logger.debug({ topic, peer: from, err: errorMessage(err) }, 'gossip handler threw; ignoring the payload')
      return TopicValidatorResult.Ignore
    }
    switch (verdict) {
      case 'accept':
        return TopicValidatorResult.Accept
      case 'reject':
        return TopicValidatorResult.Reject
      case 'ignore':
        return TopicValidatorResult.Ignore
      default:
        logger.debug({ topic, peer: from, verdict: String(verdict) }, 'gossip handler returned an unknown verdict')
        return TopicValidatorResult.Ignore
    }
  }
}

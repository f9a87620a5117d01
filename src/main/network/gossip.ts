// Gossipsub configuration and topic validators for Kimura's two topics (SPEC 5).
import { gossipsub, TopicValidatorResult, type GossipsubOpts, type Message as GossipMessage, type TopicValidatorFn } from '@libp2p/gossipsub'
import { createTopicScoreParams } from '@libp2p/gossipsub/score'
import type { PeerId } from '@libp2p/interface'
import type { Logger } from 'pino'
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

/** Added to the leader's score (x appSpecificWeight 10): a peer never graylists its only block source. */
const LEADER_APP_SCORE = 100

export interface GossipConfigInit {
  maxBlockBytes: number
  /** Peer role: the configured leader's peer id, trusted by configuration. */
  leaderPeerId?: string
}

/**
 * Gossipsub tuned for a permissioned network of 2 to 50 nodes, usually a star around the
 * leader (peers dial only the leader), often all on one host.
 */
export function createGossipsub (init: GossipConfigInit): ReturnType<typeof gossipsub> {
  const topicScore = createTopicScoreParams({
    topicWeight: 1,
    // Scores here only punish invalid payloads. Delivery-rate terms would penalise honest
    // nodes on quiet topics (one block per 5 s, messages only when users submit some).
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
    emitSelf: false,
    // Peers dial only the leader, so the leader reaches every peer directly: flood publishing
    // sends its blocks to all subscribers at once instead of a D-sized mesh plus gossip, and
    // batchPublish encodes a (up to 4 MiB) block once for all of them.
    floodPublish: true,
    batchPublish: true,
    // Mesh degree for <= 50 nodes: a little above the default 6 so that, where peers do
    // interconnect, any node is within about two hops of the rest; Dlo/Dhi leave room to
    // graft and prune without churn (Dout < Dlo and <= D/2, as gossipsub requires).
    D: 8,
    Dlo: 6,
    Dhi: 12,
    Dlazy: 6,
    Dout: 2,
    // Faster than the default 1 s: mesh repair after a (re)connect matters more than the
    // heartbeat cost, which is negligible with tens of peers.
    heartbeatInterval: 700,
    // A lone leader (no peer subscribed yet) publishing is normal: Network reports 0 recipients.
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
      appSpecificScore: (peer: string) => peer === init.leaderPeerId ? LEADER_APP_SCORE : 0,
      topics: { [BLOCKS_TOPIC]: topicScore, [MESSAGES_TOPIC]: topicScore }
    }
  }
  return gossipsub(options)
}

export interface ValidatorInit {
  logger: Logger
  topic: string
  handle: (data: Uint8Array, from: string) => Promise<GossipVerdict>
  /** Called after an 'accept' verdict, with the time the payload reached the validator. */
  onAccept?: (data: Uint8Array, from: string, receivedAt: number) => void
}

/** A topic validator that asks the GossipHandler; it never throws into gossipsub. */
export function createTopicValidator (init: ValidatorInit): TopicValidatorFn {
  const { logger, topic, handle, onAccept } = init
  return async (peer: PeerId, msg: GossipMessage): Promise<TopicValidatorResult> => {
    const receivedAt = Date.now()
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
        if (onAccept !== undefined) {
          try {
            onAccept(msg.data, from, receivedAt)
          } catch (err) {
            logger.debug({ topic, peer: from, err: errorMessage(err) }, 'gossip accept listener threw')
          }
        }
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

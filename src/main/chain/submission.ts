// The submission policy (SPEC 8): what a 202 means on each role. A leader admits a batch
// durably into `pending`; a peer verifies it and sends every message to at least one peer
// subscribed to the messages topic. The body is parsed and verified in the pool and (leader)
// written by the producer, which group-commits appends: the main thread only moves bytes.
import { KimuraError } from '../../shared/errors.js'
import type { SubmissionFormat } from '../../shared/submission-codec.js'
import type { AdmitSubmissionOutput, AppendPendingOutput, VerifiedMessages } from '../../shared/thread-contract.js'
import type { SubmitOutcome } from '../api/backend.js'
import type { Logger } from '../logger.js'
import type { NodeMetrics } from '../metrics.js'
import { MESSAGES_TOPIC } from '../network/gossip.js'
import type { Network } from '../network/network.js'
import { splitVerified } from '../../shared/verified-messages.js'
import type { WorkerPool } from '../pool/worker-pool.js'
import type { RelayRetry } from './relay-retry.js'

/** What a peer's submission needs of the network. */
export type MessageRelay = Pick<Network, 'publishMessage' | 'topicPeerCount'>

/** Where a leader's verified messages go: the producer, the one writer of `pending`. */
export interface PendingSink {
  appendPending: (verified: VerifiedMessages) => Promise<AppendPendingOutput>
}

export interface SubmissionModules {
  pool: WorkerPool
  /** Leader: the producer (absent while it does not run, e.g. halted on equivocation). */
  pending?: PendingSink
  /** Peer: keeps what it acknowledged until a block includes it, and resends it otherwise. */
  relayRetry?: Pick<RelayRetry, 'track'>
  network: MessageRelay
  metrics: NodeMetrics
  logger: Logger
}

export interface SubmissionOptions {
  role: 'leader' | 'peer'
}

const OVERLOADED: SubmitOutcome = { ok: false, code: 'OVERLOADED', message: 'the node is overloaded; retry later' }
const NOT_PRODUCING: SubmitOutcome = { ok: false, code: 'OVERLOADED', message: 'the leader is not producing blocks now (starting, stopping or halted); retry later' }

export class MessageSubmission {
  /** Whether the last admission found the disk full: logged once per change. */
  private storageFull = false

  constructor (private readonly options: SubmissionOptions, private readonly modules: SubmissionModules) {}

  /** Leader: durable in pending. Peer: verified, then sent to at least one subscribed peer. */
  async submit (body: Uint8Array, format: SubmissionFormat): Promise<SubmitOutcome> {
    const leader = this.options.role === 'leader'
    // No pool work for a batch that could not go anywhere.
    if (!leader && this.subscribedPeers() === 0) return noPeers(0, 0)
    let output: AdmitSubmissionOutput
    try {
      output = await this.modules.pool.admitSubmission(body, { format })
    } catch (err) {
      if (err instanceof KimuraError && err.code === 'ERR_POOL_OVERLOADED') return OVERLOADED
      throw err
    }
    if (!output.ok) {
      this.modules.metrics.messagesRejected.inc({ code: output.code })
      return { ok: false, code: output.code, message: output.reason }
    }
    if (!leader) return await this.relay(output.ids, output.verified)
    const pending = this.modules.pending
    if (pending === undefined) return NOT_PRODUCING
    let appended: AppendPendingOutput
    try {
      appended = await pending.appendPending(output.verified)
    } catch (err) {
      if (err instanceof KimuraError && (err.code === 'ERR_POOL_STOPPED' || err.code === 'ERR_WORKER_DIED')) return NOT_PRODUCING
      throw err
    }
    this.noteStorage(appended)
    if (!appended.ok) {
      this.modules.metrics.messagesRejected.inc({ code: appended.code })
      return { ok: false, code: appended.code, message: appended.reason }
    }
    this.modules.metrics.messagesAdmitted.inc({ source: 'api' }, appended.added)
    return { ok: true, ids: output.ids }
  }

  /**
   * Publishes every message at once (gossipsub's publish is synchronous underneath) and
   * answers 202 only when each one reached a subscribed peer. Otherwise 503 NO_PEERS, never
   * a 500: resubmitting the whole batch is safe, since messages that went out are duplicates
   * (202, never included twice).
   */
  private async relay (ids: string[], verified: VerifiedMessages): Promise<SubmitOutcome> {
    const { network, metrics, logger } = this.modules
    const messages = splitVerified(verified)
    const sent = await Promise.allSettled(messages.map(async m => await network.publishMessage(m.encoded)))
    // 0 recipients is either no subscribed peer or a duplicate: gossipsub already holds the
    // message (published earlier to at least one peer, or received from one) and sends it on.
    const subscribed = this.subscribedPeers() > 0
    let reached = 0
    let failure: string | undefined
    for (const outcome of sent) {
      if (outcome.status === 'fulfilled') {
        if (outcome.value > 0 || subscribed) reached++
      } else {
        failure ??= outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason)
      }
    }
    metrics.messagesAdmitted.inc({ source: 'api' }, reached)
    if (failure !== undefined) logger.warn({ err: failure, reached, messages: ids.length }, 'publishing a submission failed')
    if (reached < ids.length) return noPeers(reached, ids.length)
    this.modules.relayRetry?.track(messages)
    return { ok: true, ids }
  }

  private subscribedPeers (): number {
    return this.modules.network.topicPeerCount(MESSAGES_TOPIC)
  }

  private noteStorage (output: AppendPendingOutput): void {
    const full = !output.ok && output.code === 'STORAGE_FULL'
    if (full === this.storageFull || (!full && !output.ok)) return
    this.storageFull = full
    if (full) this.modules.logger.error({ reason: output.reason }, 'the disk is full: submissions are refused with 507 until space returns')
    else this.modules.logger.info('disk space is back: submissions are admitted again')
  }
}

function noPeers (reached: number, total: number): SubmitOutcome {
  const message = total === 0
    ? 'this peer has no connected peer subscribed to the messages topic; retry, or submit to the leader'
    : `${reached} of ${total} messages reached a subscribed peer; resubmit the whole batch (messages that went out are not included twice), or submit to the leader`
  return { ok: false, code: 'NO_PEERS', message }
}

// The submission policy (SPEC 8): what a 202 means on each role. A leader admits a batch
// durably into `pending`; a peer verifies it and sends every message to at least one peer
// subscribed to the messages topic. The body is parsed, verified and written in the pool: the
// main thread only moves its bytes.
import { KimuraError } from '../../shared/errors.js'
import type { SubmissionFormat } from '../../shared/submission-codec.js'
import type { AdmitSubmissionOutput } from '../../shared/thread-contract.js'
import type { SubmitOutcome } from '../api/backend.js'
import type { Logger } from '../logger.js'
import type { NodeMetrics } from '../metrics.js'
import { MESSAGES_TOPIC } from '../network/gossip.js'
import type { Network } from '../network/network.js'
import type { WorkerPool } from '../pool/worker-pool.js'

/** What a peer's submission needs of the network. */
export type MessageRelay = Pick<Network, 'publishMessage' | 'topicPeerCount'>

export interface SubmissionModules {
  pool: WorkerPool
  network: MessageRelay
  metrics: NodeMetrics
  logger: Logger
}

export interface SubmissionOptions {
  role: 'leader' | 'peer'
  /** Leader: the most messages `pending` holds (SPEC 7, --max-pending). */
  maxPending: number
}

const OVERLOADED: SubmitOutcome = { ok: false, code: 'OVERLOADED', message: 'the node is overloaded; retry later' }

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
      output = await this.modules.pool.admitSubmission(body, { format, persist: leader, maxPending: this.options.maxPending })
    } catch (err) {
      if (err instanceof KimuraError && err.code === 'ERR_POOL_OVERLOADED') return OVERLOADED
      throw err
    }
    if (leader) this.noteStorage(output)
    if (!output.ok) {
      this.modules.metrics.messagesRejected.inc({ code: output.code })
      return { ok: false, code: output.code, message: output.reason }
    }
    if (leader) {
      this.modules.metrics.messagesAdmitted.inc({ source: 'api' }, output.added)
      return { ok: true, ids: output.ids }
    }
    return await this.relay(output.ids, output.wire, output.ends)
  }

  /**
   * Publishes every message at once (gossipsub's publish is synchronous underneath) and
   * answers 202 only when each one reached a subscribed peer. Otherwise 503 NO_PEERS, never
   * a 500: resubmitting the whole batch is safe, since messages that went out are duplicates
   * (202, never included twice).
   */
  private async relay (ids: string[], wire: ArrayBuffer | undefined, ends: number[] | undefined): Promise<SubmitOutcome> {
    const { network, metrics, logger } = this.modules
    if (wire === undefined || ends === undefined) throw new KimuraError('ERR_WORKER_TASK', 'admitSubmission answered no wire bytes to relay')
    const payloads = ends.map((end, i) => new Uint8Array(wire, i === 0 ? 0 : ends[i - 1], end - (i === 0 ? 0 : ends[i - 1])))
    const sent = await Promise.allSettled(payloads.map(async payload => await network.publishMessage(payload)))
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
    return { ok: true, ids }
  }

  private subscribedPeers (): number {
    return this.modules.network.topicPeerCount(MESSAGES_TOPIC)
  }

  private noteStorage (output: AdmitSubmissionOutput): void {
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

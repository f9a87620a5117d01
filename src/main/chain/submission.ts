// The submission policy (SPEC 8): what a 202 means on each role. A leader admits a batch
// durably into `pending`; a peer verifies it and relays it over gossip to the leader.
import { encodeMessage, joinEncodedMessages } from '../../shared/codec.js'
import { KimuraError } from '../../shared/errors.js'
import type { Message } from '../../shared/types.js'
import type { SubmitOutcome } from '../api/backend.js'
import type { NodeMetrics } from '../metrics.js'
import type { Network } from '../network/network.js'
import type { WorkerPool } from '../pool/worker-pool.js'

export interface SubmissionModules {
  pool: WorkerPool
  network: Network
  metrics: NodeMetrics
}

export class MessageSubmission {
  constructor (private readonly role: 'leader' | 'peer', private readonly modules: SubmissionModules) {}

  /** Leader: durable in pending. Peer: verified, then relayed to the leader over gossip. */
  async submit (messages: Message[]): Promise<SubmitOutcome> {
    const { pool, network, metrics } = this.modules
    const leader = this.role === 'leader'
    if (!leader && !network.isLeaderConnected()) {
      return { ok: false, status: 503, code: 'NO_LEADER', message: 'this peer has no connection to the leader; retry, or submit to the leader' }
    }
    // Each message is encoded once: the batch for the pool, and (peer) the gossip payloads.
    const encoded = messages.map(encodeMessage)
    let output
    try {
      output = await pool.admitMessages(joinEncodedMessages(encoded), { mode: 'all', persist: leader })
    } catch (err) {
      if (err instanceof KimuraError && err.code === 'ERR_POOL_OVERLOADED') return { ok: false, status: 503, code: 'OVERLOADED', message: 'the node is overloaded; retry later' }
      throw err
    }
    if (!output.ok) {
      metrics.messagesRejected.inc({ code: output.code })
      return { ok: false, status: output.code === 'BATCH_TOO_LARGE' ? 413 : 400, code: output.code, message: output.reason }
    }
    if (!leader) {
      for (const payload of encoded) await network.publishMessage(payload)
    }
    metrics.messagesAdmitted.inc({ source: 'api' }, leader ? output.added : messages.length)
    return { ok: true, ids: output.ids as string[] }
  }
}

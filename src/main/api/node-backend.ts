// The ApiBackend of a running node: reads from the store, the pool and the network, and hands
// submissions to the submission policy. The HTTP server itself knows none of these parts.
import { toHex } from '../../shared/bytes.js'
import { decodeMessage } from '../../shared/codec.js'
import { KimuraError } from '../../shared/errors.js'
import type { ChainStore } from '../../shared/store/index.js'
import type { MessageSubmission } from '../chain/submission.js'
import type { Role } from '../config.js'
import type { NodeMetrics } from '../metrics.js'
import type { Network } from '../network/network.js'
import type { WorkerPool } from '../pool/worker-pool.js'
import type { ApiBackend, StatusJson } from './backend.js'

export interface NodeBackendModules {
  role: Role
  /** The leader's public key, hex (a leader's own; a peer's configured one). */
  leaderKey: string
  store: ChainStore
  pool: WorkerPool
  network: Network
  metrics: NodeMetrics
  submission: MessageSubmission
}

export function createNodeBackend (m: NodeBackendModules): ApiBackend {
  return {
    submitMessages: async (body, format) => await m.submission.submit(body, format),
    renderBlock: async (height, withMessages) => (await m.pool.renderBlock({ height, withMessages })).json,
    getMessage: id => {
      const included = m.store.message(id)
      const encoded = included?.encoded ?? m.store.pending.get(id)
      if (encoded === undefined) return undefined
      const decoded = decodeMessage(encoded)
      if (!decoded.ok) throw new KimuraError('ERR_STORE_CORRUPT', `stored message does not decode: ${decoded.reason}`)
      return { message: decoded.value, height: included?.height ?? null }
    },
    status: (): StatusJson => {
      const tip = m.store.tip()
      return {
        role: m.role,
        peerId: m.network.peerId,
        listen: m.network.getMultiaddrs(),
        leaderKey: m.leaderKey,
        height: tip.height,
        hash: toHex(tip.hash),
        peers: m.network.connectedPeerCount(),
        pending: m.role === 'leader' ? m.store.pending.count() : 0
      }
    },
    metrics: async () => ({ body: await m.metrics.registry.metrics(), contentType: m.metrics.registry.contentType })
  }
}

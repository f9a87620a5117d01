// The ApiBackend of a running node: reads from the store, the pool and the network, and hands
// submissions to the submission policy. The HTTP server itself knows none of these parts.
import { toHex } from '../../shared/bytes.js'
import { decodeMessage } from '../../shared/codec.js'
import { KimuraError } from '../../shared/errors.js'
import { auditPath } from '../../shared/merkle-proof.js'
import type { ChainStore, IncludedMessage } from '../../shared/store/index.js'
import type { MessageSubmission } from '../chain/submission.js'
import type { Role } from '../config.js'
import type { NodeMetrics } from '../metrics.js'
import type { Network } from '../network/network.js'
import type { WorkerPool } from '../pool/worker-pool.js'
import { KIMURA_VERSION } from '../version.js'
import type { ApiBackend, EventStreams, ProofOutcome, StaticAsset, StatusJson } from './backend.js'

export interface NodeBackendModules {
  role: Role
  /** The leader's public key, hex (a leader's own; a peer's configured one). */
  leaderKey: string
  store: ChainStore
  /** A leader's pending messages (the producer); a peer holds none. */
  pending?: PendingMessages
  pool: WorkerPool
  network: Network
  metrics: NodeMetrics
  submission: MessageSubmission
  events: EventStreams
  explorer: ReadonlyMap<string, StaticAsset>
}

export interface PendingMessages {
  /** The wire bytes of a pending message; undefined when it is not pending. */
  pendingMessage: (id: Uint8Array) => Promise<Uint8Array | undefined>
}

export function createNodeBackend (m: NodeBackendModules): ApiBackend {
  /**
   * Where a message is: included (its bytes and place), pending (its bytes) or neither. A
   * leader's producer answers for `pending` after this thread read `messages`, and a block may
   * include the message in between: then `messages` is read again, at a renewed snapshot.
   */
  const locate = async (id: Uint8Array): Promise<{ included: IncludedMessage } | { pending: Uint8Array } | undefined> => {
    const included = m.store.message(id)
    if (included !== undefined) return { included }
    if (m.pending === undefined) return undefined
    const pending = await m.pending.pendingMessage(id)
    if (pending !== undefined) return { pending }
    m.store.refresh()
    const late = m.store.message(id)
    return late === undefined ? undefined : { included: late }
  }
  return {
    submitMessages: async (body, format) => await m.submission.submit(body, format),
    // The tip is resolved here, so that the pool can cache the answer by height.
    renderBlock: async (height, withMessages) => (await m.pool.renderBlock({ height: height === 'latest' ? m.store.tip().height : height, withMessages })).json,
    renderBlocks: async (from, limit) => {
      const last = Math.min(m.store.tip().height, from + limit - 1)
      const heights = Array.from({ length: Math.max(0, last - from + 1) }, (_, i) => from + i)
      // As many renders at once as the pool has workers: a page of 100 never fills its read queue.
      const texts = new Array<string>(heights.length)
      let next = 0
      await Promise.all(Array.from({ length: Math.min(m.pool.threads, heights.length) }, async () => {
        for (let i = next++; i < heights.length; i = next++) {
          const json = (await m.pool.renderBlock({ height: heights[i], withMessages: false })).json
          if (json === null) throw new KimuraError('ERR_STORE_CORRUPT', `block ${heights[i]} is below the tip but not stored`)
          texts[i] = json
        }
      }))
      return texts
    },
    getMessage: async id => {
      const found = await locate(id)
      if (found === undefined) return undefined
      const encoded = 'pending' in found ? found.pending : found.included.encoded
      const decoded = decodeMessage(encoded)
      if (!decoded.ok) throw new KimuraError('ERR_STORE_CORRUPT', `stored message does not decode: ${decoded.reason}`)
      return { message: decoded.value, height: 'included' in found ? found.included.height : null }
    },
    proof: async (id): Promise<ProofOutcome> => {
      const found = await locate(id)
      if (found === undefined) return { ok: false, code: 'MESSAGE_NOT_FOUND' }
      if ('pending' in found) return { ok: false, code: 'MESSAGE_NOT_INCLUDED' }
      const place = found.included
      const tree = await m.pool.messageTree(place.height)
      if (tree === null || place.index >= tree.count) throw new KimuraError('ERR_STORE_CORRUPT', `message ${toHex(id)} is indexed at ${place.height}/${place.index}, which that block does not hold`)
      return {
        ok: true,
        proof: {
          id: toHex(id),
          height: place.height,
          blockHash: tree.blockHash,
          messageRoot: tree.messageRoot,
          index: place.index,
          count: tree.count,
          path: auditPath(tree, place.index).map(toHex)
        }
      }
    },
    events: m.events,
    explorerAsset: name => m.explorer.get(name),
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
        pending: m.role === 'leader' ? m.store.pending.count() : 0,
        version: KIMURA_VERSION
      }
    },
    metrics: async () => ({ body: await m.metrics.registry.metrics(), contentType: m.metrics.registry.contentType })
  }
}

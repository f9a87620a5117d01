// Verdicts for gossiped blocks: cheap checks on the main thread first (decodable header, height
// against the tip, the header's signature), then validation and commit in the pool. Never
// throws into gossipsub.
import { bytesEqual } from '../../shared/bytes.js'
import { decodeBlockHeader } from '../../shared/codec.js'
import { errorMessage } from '../../shared/errors.js'
import { verifyHeaderSignature } from '../../shared/validation.js'
import type { Logger } from '../logger.js'
import type { NodeMetrics } from '../metrics.js'
import type { GossipVerdict } from '../network/types.js'
import type { BlockImporter } from './block-importer.js'

/**
 * Gossiped blocks waiting for the importer beyond this are ignored (not penalised): honest
 * traffic is one block per interval, so a longer queue means a flood, and sync recovers
 * anything honest that was dropped.
 */
export const MAX_QUEUED_GOSSIP_IMPORTS = 16

export interface BlockGossipModules {
  importer: BlockImporter
  /** The configured leader's public key. */
  leaderKey: Uint8Array
  logger: Logger
  metrics: NodeMetrics
  /** Called when a block's parent is unknown: the node is behind. */
  requestSync?: () => void
}

export async function blockGossipVerdict (data: Uint8Array, from: string, m: BlockGossipModules): Promise<GossipVerdict> {
  const receivedAt = Date.now()
  const shape = decodeBlockHeader(data)
  if (!shape.ok) {
    reject(m, 'MALFORMED', shape.reason, from)
    return 'reject'
  }
  const { header } = shape.value
  const tip = m.importer.tip()
  if (header.height <= tip.height) return 'ignore'
  // One signature check before anything else costs work (SPEC 5): a forged block costs this
  // node exactly this verification, and never starts a sync or occupies the pool.
  const signed = verifyHeaderSignature(header, m.leaderKey)
  if (!signed.ok) {
    reject(m, signed.code, signed.reason, from)
    return 'reject'
  }
  // Only a signed header's timestamp is worth a latency sample.
  const latency = Math.max(0, receivedAt - header.timestamp) / 1000
  m.metrics.gossipReceiveLatency.observe(latency)
  m.metrics.blockStageLatency.observe({ stage: 'received' }, latency)
  if (header.height > tip.height + 1) {
    m.logger.debug({ height: header.height, tip: tip.height }, 'gossiped block is ahead of the tip: syncing')
    m.requestSync?.()
    return 'ignore'
  }
  if (!bytesEqual(header.prevHash, tip.hash)) {
    reject(m, 'BLOCK_WRONG_PREV_HASH', `prevHash does not match the block at height ${tip.height}`, from)
    return 'reject'
  }
  if (m.importer.queued >= MAX_QUEUED_GOSSIP_IMPORTS) {
    m.logger.debug({ height: header.height, from }, 'import queue full: gossiped block ignored')
    return 'ignore'
  }
  try {
    const started = performance.now()
    const result = await m.importer.importBlocks([data], 'gossip', { headersVerified: true })
    m.metrics.validationTime.observe((performance.now() - started) / 1000)
    if (result.imported > 0) {
      const block = result.blocks[0]
      m.metrics.blockStageLatency.observe({ stage: 'validated' }, Math.max(0, block.validatedAt - header.timestamp) / 1000)
      m.metrics.blockStageLatency.observe({ stage: 'stored' }, Math.max(0, Date.now() - header.timestamp) / 1000)
      return 'accept'
    }
    if (result.error === undefined) return 'ignore'
    switch (result.error.code) {
      case 'PARENT_UNKNOWN':
        m.requestSync?.()
        return 'ignore'
      case 'STORE_CONFLICT':
        return 'ignore'
      default:
        reject(m, result.error.code, result.error.reason, from)
        return 'reject'
    }
  } catch (err) {
    m.logger.debug({ err: errorMessage(err), from }, 'gossiped block not processed')
    return 'ignore'
  }
}

function reject (m: BlockGossipModules, code: string, reason: string, from: string): void {
  m.metrics.blocksRejected.inc({ code })
  m.logger.warn({ code, reason, from }, 'rejected a gossiped block')
}

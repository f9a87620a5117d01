// Verdicts for gossiped blocks: cheap checks on the main thread first (decodable header, height
// against the tip, the header's signature), then validation and commit in the pool. A large
// block is forwarded ('accept') as soon as its header signature and messageRoot hold (SPEC 5),
// so each hop does not wait for a full validation; it is stored only once every rule holds.
// Never throws into gossipsub.
import { bytesEqual, toHex } from '../../shared/bytes.js'
import { decodeBlockHeader } from '../../shared/codec.js'
import { errorMessage } from '../../shared/errors.js'
import { blockHash } from '../../shared/hash.js'
import type { ChainTip } from '../../shared/store/index.js'
import type { BlockHeader } from '../../shared/types.js'
import { verifyHeaderSignature } from '../../shared/validation.js'
import type { Logger } from '../logger.js'
import type { NodeMetrics } from '../metrics.js'
import type { GossipVerdict } from '../network/types.js'
import type { BlockImporter, ImportResult } from './block-importer.js'
import type { EquivocationGuard } from './equivocation.js'

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
  /** This node's stored header at a height, if any (equivocation checks). */
  storedHeader: (height: number) => BlockHeader | undefined
  guard: EquivocationGuard
  logger: Logger
  metrics: NodeMetrics
  /** Called when a block's parent is unknown: the node is behind. */
  requestSync?: () => void
  /**
   * Called for each leader-signed block a peer sends above this node's tip, before the block
   * is judged further: that peer holds it (gossipsub forwards only what a node accepted), so
   * sync may fetch up to it there. A node that knew its peers' tips only from their statuses
   * (a late joiner that had just synced to them) otherwise found no peer ahead when the next
   * blocks came, and waited two intervals for the stall watch. A peer that sends signed
   * blocks it then does not serve only moves itself down the sync list.
   */
  peerHolds?: (peer: string, tip: { height: number, hash: string }) => void
}

export async function blockGossipVerdict (data: Uint8Array, from: string, m: BlockGossipModules): Promise<GossipVerdict> {
  const receivedAt = Date.now()
  if (m.guard.halted) return 'ignore'
  const shape = decodeBlockHeader(data)
  if (!shape.ok) {
    reject(m, 'MALFORMED', shape.reason, from)
    return 'reject'
  }
  const { header } = shape.value
  const tip = m.importer.tip()
  if (header.height <= tip.height) {
    // A duplicate or an old block, whatever its content; unless it differs from ours there.
    const ours = m.storedHeader(header.height)
    if (ours === undefined || bytesEqual(blockHash(ours), blockHash(header))) return 'ignore'
  }
  // One signature check before anything else costs work (SPEC 5): a forged block costs this
  // node exactly this verification, and never starts a sync or occupies the pool.
  const signed = verifyHeaderSignature(header, m.leaderKey)
  if (!signed.ok) {
    reject(m, signed.code, signed.reason, from)
    return 'reject'
  }
  if (header.height <= tip.height) {
    m.guard.checkAtOrBelowTip(header, signed.value, from, data)
    return 'ignore'
  }
  m.peerHolds?.(from, { height: header.height, hash: toHex(signed.value) })
  // Only a signed header's timestamp is worth a latency sample.
  const latency = Math.max(0, receivedAt - header.timestamp) / 1000
  m.metrics.gossipReceiveLatency.observe(latency)
  m.metrics.blockStageLatency.observe({ stage: 'received' }, latency)
  // The block right after the last one queued for import (not stored yet) queues behind it:
  // with imports slower than the interval it is not dropped and fetched again by sync.
  const head = m.importer.head()
  const extendsQueued = head.height > tip.height && header.height === head.height + 1 && bytesEqual(header.prevHash, head.hash)
  if (!extendsQueued) {
    // Anything else is judged against the stored tip, as the queued blocks may still fail.
    if (header.height > tip.height + 1) {
      m.logger.debug({ height: header.height, tip: tip.height }, 'gossiped block is ahead of the tip: syncing')
      m.requestSync?.()
      return 'ignore'
    }
    if (!bytesEqual(header.prevHash, tip.hash)) {
      const tipHeader = m.storedHeader(tip.height)
      // Leader-signed, on another parent: the leader signed a second block at our tip's height.
      if (tipHeader !== undefined) m.guard.checkParent(header, tipHeader, from, data)
      return 'ignore'
    }
  }
  if (m.importer.queued >= MAX_QUEUED_GOSSIP_IMPORTS) {
    m.logger.debug({ height: header.height, from }, 'import queue full: gossiped block ignored')
    return 'ignore'
  }
  return await importAndJudge(data, header, { height: header.height, hash: signed.value, timestamp: header.timestamp }, from, m)
}

/** Imports the block; answers as soon as its root and ids hold (large blocks) or once it is stored. */
async function importAndJudge (data: Uint8Array, header: BlockHeader, queued: ChainTip, from: string, m: BlockGossipModules): Promise<GossipVerdict> {
  const started = performance.now()
  let onChecked!: () => void
  const checked = new Promise<'checked'>(resolve => { onChecked = () => { resolve('checked') } })
  const imported = m.importer.importNext(data, queued, { onChecked })
    .then(result => {
      m.metrics.validationTime.observe((performance.now() - started) / 1000)
      if (result.imported > 0) {
        const block = result.blocks[0]
        m.metrics.blockStageLatency.observe({ stage: 'validated' }, Math.max(0, block.validatedAt - header.timestamp) / 1000)
        m.metrics.blockStageLatency.observe({ stage: 'stored' }, Math.max(0, Date.now() - header.timestamp) / 1000)
      }
      return verdictOf(result, from, m)
    }, (err: unknown) => {
      m.logger.debug({ err: errorMessage(err), from }, 'gossiped block not processed')
      return 'ignore' as const
    })
  const first = await Promise.race([checked, imported])
  if (first === 'checked') {
    // Forwarded already; what the full validation finds is logged and counted by verdictOf.
    void imported
    return 'accept'
  }
  return first
}

function verdictOf (result: ImportResult, from: string, m: BlockGossipModules): GossipVerdict {
  if (result.imported > 0) return 'accept'
  if (result.error === undefined) return 'ignore'
  switch (result.error.code) {
    case 'PARENT_UNKNOWN':
      m.requestSync?.()
      return 'ignore'
    case 'STORE_CONFLICT':
    case 'HALTED':
    case 'STORAGE_FULL':
      // This node's own state, not the block's fault: sync fetches it again later.
      return 'ignore'
    default:
      reject(m, result.error.code, result.error.reason, from)
      return 'reject'
  }
}

function reject (m: BlockGossipModules, code: string, reason: string, from: string): void {
  m.metrics.blocksRejected.inc({ code })
  m.logger.warn({ code, reason, from }, 'rejected a gossiped block')
}

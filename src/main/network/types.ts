// The contracts between the network layer and the rest of the node: what it calls (gossip
// handler, block source, chain importer) and what it emits. Only plain data crosses.
import type { BlockHeader } from '../../shared/types.js'

export type GossipVerdict = 'accept' | 'ignore' | 'reject'

export interface GossipHandler {
  /** Called for every inbound gossip block; never throws (a throw counts as 'ignore'). */
  onBlock (data: Uint8Array, from: string): Promise<GossipVerdict>
  /** Called for every inbound gossip message; never throws (a throw counts as 'ignore'). */
  onMessage (data: Uint8Array, from: string): Promise<GossipVerdict>
}

export interface BlockSource {
  /**
   * Encoded Blocks (SPEC 5 wire bytes) for heights from..from+count-1, in order, stopping
   * early at the tip or once maxBytes is reached (always at least one block if any exists).
   */
  getEncodedBlocks (from: number, count: number, maxBytes: number): Uint8Array[]
  tipHeight (): number
}

export interface ChainImporter {
  tipHeight (): number
  /**
   * Validates (against the stored parent) and commits a run of consecutive encoded blocks,
   * strictly in order; stops at the first invalid one.
   */
  importBlocks (blocks: Uint8Array[]): Promise<{
    imported: number
    /** Blocks skipped because the store already had their height (gossip got there first). */
    known?: number
    error?: { code: string, reason: string }
  }>
}

export interface PeerStatusEvent {
  peerId: string
  /** The peer's tip, as its leader-signed header proved it. */
  tip: { height: number, hash: string }
  header: BlockHeader
}

/** Events of the Network, as Node EventEmitter argument tuples. */
export interface NetworkEvents {
  /** A connected peer answered a status request and its tip header verified. */
  'peer:status': [PeerStatusEvent]
}

/** What SyncClient needs from the network; Network implements it. */
export interface SyncNetwork {
  /** Connected peers whose verified tip is above `height`, the best to sync from first. */
  syncPeers (height: number): string[]
  /** Asks `peerId` for blocks from..from+count-1; resolves with the encoded blocks, in order. */
  requestBlocks (peerId: string, from: number, count: number, signal?: AbortSignal): Promise<Uint8Array[]>
  /** The peer failed a request or served blocks that were refused: try it after the others. */
  reportSyncFailure (peerId: string): void
  reportSyncSuccess (peerId: string): void
  /** The highest tip a connected peer has proved. */
  highestPeerTip (): { height: number } | undefined
  /** Asks every connected peer for its status again. */
  refreshStatuses (): Promise<void>
  on (event: 'peer:status', listener: (event: PeerStatusEvent) => void): unknown
  off (event: 'peer:status', listener: (event: PeerStatusEvent) => void): unknown
}

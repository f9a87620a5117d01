// The contracts between the network layer and the rest of the node: what it calls (gossip
// handler, block source, chain importer) and what it emits. Only plain data crosses.

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

export interface BlockReceivedEvent {
  /** The encoded Block as gossiped. */
  data: Uint8Array
  /** Peer id of the peer that forwarded it to us. */
  from: string
  /** Date.now() when the payload reached this node's validator. */
  receivedAt: number
}

export interface PeerEvent {
  peerId: string
}

/** Events of the Network, as Node EventEmitter argument tuples. */
export interface NetworkEvents {
  'block:received': [BlockReceivedEvent]
  'peer:connected': [PeerEvent]
  'peer:disconnected': [PeerEvent]
  /** The leader is connected and subscribed to the messages topic (peer role). */
  'leader:connected': [PeerEvent]
  'leader:disconnected': [PeerEvent]
}

/** What SyncClient needs from the network; Network implements it. */
export interface SyncNetwork {
  /** Connected peers to sync from, the one most likely ahead (the leader) first. */
  syncPeers (): string[]
  /** Asks `peerId` for blocks from..from+count-1; resolves with the encoded blocks, in order. */
  requestBlocks (peerId: string, from: number, count: number, signal?: AbortSignal): Promise<Uint8Array[]>
  on (event: 'leader:connected', listener: (event: PeerEvent) => void): unknown
  off (event: 'leader:connected', listener: (event: PeerEvent) => void): unknown
}

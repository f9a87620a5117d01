// What this node knows of each connected peer's chain: its tip as a leader-signed header proved
// it (heights a peer merely claims are free to fake), and how its sync answers went, so sync
// goes first to peers that are ahead and serve well. Main thread only; no timers.
import { randomBytes } from 'node:crypto'

export interface VerifiedTip {
  height: number
  /** The tip's block hash, hex. */
  hash: string
}

interface PeerEntry {
  tip: VerifiedTip
  /** Sync requests that failed or brought blocks the importer refused, minus successes (>= 0). */
  syncFailures: number
}

/** Entries kept at most: one per connected peer, bounded by the connection limit anyway. */
const MAX_PEERS = 4096

/**
 * Peers whose tip is this close to the highest known one are equally good sync sources. Tips
 * recorded here lag (a status taken at connection, raised only by the blocks a peer delivered),
 * and a source serves up to its real tip anyway.
 */
export const NEAR_BEST_BLOCKS = 2

export class PeerBook {
  private readonly peers = new Map<string, PeerEntry>()

  /**
   * `salt` orders equally good sync sources, differently on each node: ordered by height alone,
   * every node that falls behind would sync from the leader, whose tip is always the highest,
   * and its upload would grow with each one (at 20 nodes under load, sync was a third of it).
   */
  constructor (private readonly salt: string = randomBytes(8).toString('hex')) {}

  /** Records a peer's verified tip (a newer one replaces it; a lower one too: the peer knows best). */
  setTip (peer: string, tip: VerifiedTip): void {
    const entry = this.peers.get(peer)
    if (entry !== undefined) {
      entry.tip = tip
      return
    }
    if (this.peers.size >= MAX_PEERS) {
      const oldest = this.peers.keys().next()
      if (oldest.done !== true) this.peers.delete(oldest.value)
    }
    this.peers.set(peer, { tip, syncFailures: 0 })
  }

  /** A peer that gossiped a leader-signed block above this node's tip has at least that block. */
  raiseTip (peer: string, tip: VerifiedTip): void {
    const entry = this.peers.get(peer)
    if (entry !== undefined && tip.height > entry.tip.height) entry.tip = tip
  }

  tip (peer: string): VerifiedTip | undefined {
    return this.peers.get(peer)?.tip
  }

  /** Whether the peer proved it follows this network (a status whose tip verified). */
  isVerified (peer: string): boolean {
    return this.peers.has(peer)
  }

  remove (peer: string): void {
    this.peers.delete(peer)
  }

  reportSyncFailure (peer: string): void {
    const entry = this.peers.get(peer)
    if (entry !== undefined) entry.syncFailures++
  }

  reportSyncSuccess (peer: string): void {
    const entry = this.peers.get(peer)
    if (entry !== undefined) entry.syncFailures = Math.max(0, entry.syncFailures - 1)
  }

  /**
   * Peers whose verified tip is above `height`: fewest failures first; then those within
   * NEAR_BEST_BLOCKS of the highest tip, in this node's salted order; then the others, highest
   * tip first.
   */
  aheadOf (height: number, connected: (peer: string) => boolean): string[] {
    const ahead = [...this.peers.entries()].filter(([peer, e]) => e.tip.height > height && connected(peer))
    const best = ahead.reduce((max, [, e]) => Math.max(max, e.tip.height), 0)
    const ranked = ahead.map(([peer, e]) => {
      const near = e.tip.height >= best - NEAR_BEST_BLOCKS
      return { peer, failures: e.syncFailures, near, height: e.tip.height, order: near ? fnv1a(this.salt + peer) : 0 }
    })
    return ranked
      .sort((a, b) => a.failures - b.failures || Number(b.near) - Number(a.near) || (a.near ? a.order - b.order : b.height - a.height))
      .map(r => r.peer)
  }

  /** The highest verified tip among connected peers. */
  highest (connected: (peer: string) => boolean): VerifiedTip | undefined {
    let best: VerifiedTip | undefined
    for (const [peer, e] of this.peers) if (connected(peer) && (best === undefined || e.tip.height > best.height)) best = e.tip
    return best
  }
}

/** 32-bit FNV-1a of a string's UTF-16 code units: a cheap, well-spread order, not a secret. */
function fnv1a (text: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193)
  return hash >>> 0
}

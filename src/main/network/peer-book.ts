// What this node knows of each connected peer's chain: its tip as a leader-signed header proved
// it (heights a peer merely claims are free to fake), and how its sync answers went, so sync
// goes first to peers that are ahead and serve well. Main thread only; no timers.

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

export class PeerBook {
  private readonly peers = new Map<string, PeerEntry>()

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

  /** A peer whose gossiped block this node stored has at least that block. */
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

  /** Peers whose verified tip is above `height`: fewest failures first, then the highest tip. */
  aheadOf (height: number, connected: (peer: string) => boolean): string[] {
    return [...this.peers.entries()]
      .filter(([peer, e]) => e.tip.height > height && connected(peer))
      .sort(([, a], [, b]) => a.syncFailures - b.syncFailures || b.tip.height - a.tip.height)
      .map(([peer]) => peer)
  }

  /** The highest verified tip among connected peers. */
  highest (connected: (peer: string) => boolean): VerifiedTip | undefined {
    let best: VerifiedTip | undefined
    for (const [peer, e] of this.peers) if (connected(peer) && (best === undefined || e.tip.height > best.height)) best = e.tip
    return best
  }
}

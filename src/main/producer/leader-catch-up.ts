// A leader never builds on a tip its peers have proved old: a leader restored from an older
// copy of its data would otherwise build heights its peers already hold, and fork the chain
// (they would see two leader-signed blocks at one height). Before its first block it waits
// (bounded) for its configured peers' statuses and syncs from any that is ahead; after that,
// each slot first asks whether a connected peer has proved a higher tip.
import type { Logger } from '../logger.js'
import type { VerifiedTip } from '../network/peer-book.js'
import type { SyncResult } from '../network/sync-client.js'

/** How long a leader with --peers waits for a peer's status before producing on its own tip. */
export const LEADER_CATCH_UP_WAIT_MS = 5_000

export interface LeaderCatchUpModules {
  /** Whether the leader was configured with peers (--peers): only then is there anyone to ask. */
  hasConfiguredPeers: boolean
  /**
   * The height the store held when the node started. The sync client may catch this leader up
   * from a peer's status before beforeFirstBlock looks; the operator must still hear that it
   * was behind.
   */
  startHeight: number
  tipHeight: () => number
  highestPeerTip: () => VerifiedTip | undefined
  requestSync: () => Promise<SyncResult>
  logger: Logger
}

export class LeaderCatchUp {
  constructor (private readonly m: LeaderCatchUpModules) {}

  /** Before the first block: wait for a peer's status (bounded), then sync while a peer is ahead. */
  async beforeFirstBlock (): Promise<void> {
    const { m } = this
    if (!m.hasConfiguredPeers) return
    const deadline = Date.now() + LEADER_CATCH_UP_WAIT_MS
    while (m.highestPeerTip() === undefined && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
    const ahead = m.highestPeerTip()
    if (ahead === undefined) {
      m.logger.warn({ waitedMs: LEADER_CATCH_UP_WAIT_MS, height: m.tipHeight() }, 'no configured peer answered its status: producing from this leader\'s own tip')
      return
    }
    if (ahead.height <= m.startHeight) return
    m.logger.warn({ height: m.startHeight, peerHeight: ahead.height, syncedTo: m.tipHeight() }, 'this leader is behind its peers (restored from an older copy?): syncing before producing')
    for (let round = 0; round < 10 && (m.highestPeerTip()?.height ?? 0) > m.tipHeight(); round++) {
      const result = await m.requestSync()
      if (result.status !== 'synced') break
    }
  }

  /** For each slot: undefined to build, or why not (a peer is ahead: a sync is started). */
  blocker (): { code: 'BEHIND_PEERS', reason: string } | undefined {
    const ahead = this.m.highestPeerTip()
    if (ahead === undefined || ahead.height <= this.m.tipHeight()) return undefined
    void this.m.requestSync()
    return { code: 'BEHIND_PEERS', reason: `a peer holds height ${ahead.height}, above this leader's ${this.m.tipHeight()}: syncing first` }
  }
}

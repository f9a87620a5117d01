// Keeps this node connected to the nodes it was configured with (--leader-addr and --peers).
// libp2p's own keep-alive tag redials a tagged peer right after it disconnects; what it does not
// cover is a peer that was down when this node started, or one whose redials ran out: every
// `intervalMs` the keeper re-tags and dials each configured peer that has no connection.
import type { Libp2p, PeerId } from '@libp2p/interface'
import { KEEP_ALIVE } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'
import { errorMessage } from '../../shared/errors.js'

/** libp2p redials peers whose tags start with KEEP_ALIVE, and prunes high-valued tags last. */
export const KEEP_ALIVE_TAG = `${KEEP_ALIVE}-kimura`
const KEEP_ALIVE_VALUE = 100

export interface ConfiguredPeer {
  peerId: PeerId
  addr: Multiaddr
}

export class PeerKeeper {
  private timer: NodeJS.Timeout | undefined
  private readonly dialing = new Set<string>()
  /** Failed dials per peer since its last connection: the first of an outage is logged at warn. */
  private readonly failures = new Map<string, number>()

  constructor (
    private readonly node: Libp2p,
    private readonly peers: readonly ConfiguredPeer[],
    private readonly intervalMs: number,
    private readonly log: Logger
  ) {}

  async start (): Promise<void> {
    if (this.timer !== undefined || this.peers.length === 0) return
    await Promise.all(this.peers.map(async p => { await this.tag(p) }))
    this.tick()
    this.timer = setInterval(() => { this.tick() }, this.intervalMs)
  }

  stop (): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }

  private async tag (peer: ConfiguredPeer): Promise<void> {
    await this.node.peerStore.merge(peer.peerId, { multiaddrs: [peer.addr], tags: { [KEEP_ALIVE_TAG]: { value: KEEP_ALIVE_VALUE } } })
  }

  private tick (): void {
    for (const peer of this.peers) {
      const id = peer.peerId.toString()
      if (this.dialing.has(id)) continue
      if (this.node.getConnections(peer.peerId).length > 0) {
        this.failures.delete(id)
        continue
      }
      this.dialing.add(id)
      void this.tag(peer)
        .then(async () => { await this.node.dial(peer.addr, { signal: AbortSignal.timeout(this.intervalMs * 2) }) })
        .then(() => { this.failures.delete(id) }, (err: unknown) => {
          const failures = (this.failures.get(id) ?? 0) + 1
          this.failures.set(id, failures)
          this.log[failures === 1 ? 'warn' : 'debug']({ peer: peer.addr.toString(), attempt: failures, err: errorMessage(err) }, 'dial to a configured peer failed; retrying')
        })
        .finally(() => { this.dialing.delete(id) })
    }
  }
}

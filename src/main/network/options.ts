// Network options and their defaults. Limits that are part of the sync wire contract
// (response caps) are constants in sync-protocol.ts, not options.

export interface NetworkOptions {
  /** The node's data directory; the libp2p peer key is kept there as `peer.key`. */
  dataDir: string
  /** libp2p listen multiaddrs, e.g. `/ip4/127.0.0.1/tcp/7000`. */
  listen: string[]
  /** What other nodes are told to dial (SPEC 7 --announce); the listen addresses when absent. */
  announce?: string[]
  /** The leader's public key: status answers are checked against it and its network id. */
  leaderKey: Uint8Array
  /** Where to dial the leader (ends in /p2p/<peer id>); absent on the leader, optional on a peer. */
  leaderAddr?: string
  /** Other nodes to dial and keep connected to (SPEC 7 --peers), each ending in /p2p/<peer id>. */
  peers: string[]
  /** Whether every block starts at this node, the leader: its gossip is shaped for that (gossip.ts, publishesBlocks). */
  publishesBlocks: boolean
  /** Largest encoded block (SPEC 4); bounds inbound gossip and sync frames. */
  maxBlockBytes: number
  /**
   * When set, the only peer ids this node connects with (SPEC 7 --allow-peers, with the
   * leader's and the configured peers' ids added): any other connection is closed right after
   * the encryption handshake, before a stream opens, and no other peer is dialled.
   */
  allowPeers?: readonly string[]
  /** Connections kept at most; libp2p prunes the least valuable beyond it. */
  maxConnections: number
  /** Inbound connections still in their handshake at once; more are refused. */
  maxIncomingPendingConnections: number
  /** How often a connection is pinged; one that does not answer is closed (a dead link or a stopped peer). */
  pingIntervalMs: number
  /** How long a ping may take before its connection is closed. */
  pingTimeoutMs: number
  /** How often configured peers without a connection are dialled again. */
  redialIntervalMs: number
  /** Sync streams one peer may have open on this node at once; extra ones are reset. */
  syncMaxStreamsPerPeer: number
  /** Sync streams served at once across all peers (peer ids are free: this is the real bound). */
  syncMaxStreamsTotal: number
  /** Sync response bytes held in memory at once across all streams. */
  syncMaxBytesInFlight: number
  /** Sustained sync requests per second accepted from one peer (token bucket refill). */
  syncRequestsPerSecond: number
  /** Sync requests one peer may burst before the refill rate applies (bucket size). */
  syncRequestBurst: number
  /** How long one sync request may take, request to last block, before it is abandoned. */
  syncRequestTimeoutMs: number
}

/** The options a caller must give; everything else has a default. */
export type NetworkInit = Pick<NetworkOptions, 'dataDir' | 'listen' | 'maxBlockBytes' | 'leaderKey'> & Partial<NetworkOptions>

type Defaults = Omit<NetworkOptions, 'dataDir' | 'listen' | 'announce' | 'leaderKey' | 'leaderAddr' | 'maxBlockBytes' | 'allowPeers'>

export const DEFAULT_NETWORK_OPTIONS: Readonly<Defaults> = Object.freeze({
  peers: [],
  publishesBlocks: false,
  // A permissioned network of up to ~100 nodes, each in a mesh of about a dozen: 128 leaves
  // room for every node of a small network to reach the leader while bounding the
  // per-connection memory (buffers, gossip state) a flood of connections can cost.
  maxConnections: 128,
  maxIncomingPendingConnections: 32,
  // A peer that stopped (SIGSTOP, a dead link) must be noticed within seconds, or the other
  // side keeps gossiping into a dead connection: every 10 s, and 5 s to answer, notices one
  // within about 15 s. Pings were once libp2p's, a new stream each (Yamux, multistream
  // negotiation, a peer-store update, Noise frames both ways) from both ends of every
  // connection: every 2 s was about half of an idle node's CPU, and every 30 s (1.14-1.48 % of a
  // core a peer, against 1.64-1.68 % at 10 s) let 20 saturated nodes (1 s blocks, 400 msg/s,
  // same seed) fare far worse: propagation p50 45 s against 8.5 s, 14,016 messages
  // acknowledged against 19,692 (lagging connections kept longer, probably). They are Yamux
  // PING frames now (connection-liveness.ts), a frame each way.
  pingIntervalMs: 10_000,
  // The upper end of the adaptive 1-5 s of libp2p's monitor, which the pings replaced: a
  // loaded node answers late, and every connection closed costs a new handshake, identify,
  // status and mesh graft.
  pingTimeoutMs: 5_000,
  redialIntervalMs: 2_000,
  // One pipelined request in flight plus one finishing is all an honest client needs.
  syncMaxStreamsPerPeer: 2,
  // 16 responses of at most 8 MiB each would be 128 MiB; the byte budget below is the bound
  // that matters, this one caps the bookkeeping.
  syncMaxStreamsTotal: 16,
  // Two full responses at once: enough for peers catching up in parallel (a response is
  // drained in well under a second on a LAN), and a fixed ceiling on what readers that never
  // read can pin.
  syncMaxBytesInFlight: 16 * 1024 * 1024,
  // A catching-up client asks for up to 512 blocks or 8 MiB per request and imports each
  // batch before the next finishes, so 10/s is far above honest use yet bounds disk reads.
  syncRequestsPerSecond: 10,
  syncRequestBurst: 20,
  // Generous for 8 MiB on a slow link; a stuck peer must not stall a sync round forever.
  syncRequestTimeoutMs: 30_000
})

export function resolveNetworkOptions (init: NetworkInit): NetworkOptions {
  // An explicit `undefined` in init means "use the default", not "unset".
  const given = Object.fromEntries(Object.entries(init).filter(([, v]) => v !== undefined)) as NetworkInit
  return { ...DEFAULT_NETWORK_OPTIONS, ...given }
}

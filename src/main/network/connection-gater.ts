// --allow-peers (SPEC 7) as a libp2p connection gater. Peer ids are checked right after the
// Noise handshake proves them, before the muxer and before any stream; dials to peers outside
// the set (learned through identify or gossipsub peer exchange) never start.
import type { ConnectionGater, PeerId } from '@libp2p/interface'

/** No set: libp2p's default gater (anyone may connect). */
export function createConnectionGater (allowPeers: readonly string[] | undefined): ConnectionGater {
  if (allowPeers === undefined) return {}
  const allowed = new Set(allowPeers)
  const deny = (peer: PeerId): boolean => !allowed.has(peer.toString())
  return {
    denyDialPeer: deny,
    denyInboundEncryptedConnection: deny,
    denyOutboundEncryptedConnection: deny
  }
}

// Keys made before any node starts, from the run's seed: every node's libp2p peer key (so its
// multiaddr is known up front and the nodes can start in any order) and the leader's signing
// key (so every peer gets --leader-key at once). Written as the node writes them (mode 0600).
import { join } from 'node:path'
import { generateKeyPairFromSeed, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { toHex } from '../../src/shared/bytes.js'
import { createPrivateKeyFile } from '../../src/shared/key-file.js'
import { signingKeyFromSeed } from '../../src/shared/keys.js'
import { PEER_KEY_FILE } from '../../src/main/network/peer-key.js'
import type { Rng } from './rng.js'

/** Writes `<dataDir>/peer.key`; returns the peer id. */
export async function createPeerKey (dataDir: string, rng: Rng): Promise<string> {
  const key = await generateKeyPairFromSeed('Ed25519', rng.bytes(32))
  createPrivateKeyFile(join(dataDir, PEER_KEY_FILE), privateKeyToProtobuf(key))
  return peerIdFromPrivateKey(key).toString()
}

/** Writes `<dataDir>/leader.key` (the hex seed, as the node creates it); returns the public key, hex. */
export function createLeaderKey (dataDir: string, rng: Rng): string {
  const seed = rng.bytes(32)
  createPrivateKeyFile(join(dataDir, 'leader.key'), new TextEncoder().encode(`${toHex(seed)}\n`))
  return toHex(signingKeyFromSeed(seed).publicKey)
}

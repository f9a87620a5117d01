// The libp2p peer identity, kept in the data directory so that a restarted node keeps its
// peer id and the addresses its peers were configured with stay valid (SPEC 1). A key file
// like the leader's: private to its owner (mode 0600, checked on load), fsync'd when created.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { KimuraError, errorMessage } from '../../shared/errors.js'
import { createPrivateKeyFile, readPrivateKeyFile } from '../../shared/key-file.js'

export const PEER_KEY_FILE = 'peer.key'

/** Loads `<dataDir>/peer.key` (libp2p private key protobuf), creating an Ed25519 one on first start. */
export async function loadOrCreatePeerKey (dataDir: string): Promise<PrivateKey> {
  const path = join(dataDir, PEER_KEY_FILE)
  if (!existsSync(path)) {
    const key = await generateKeyPair('Ed25519')
    // false: another process created the file meanwhile; its key is the one to use.
    if (createPrivateKeyFile(path, privateKeyToProtobuf(key))) return key
  }
  return parsePeerKey(readPrivateKeyFile(path), path)
}

function parsePeerKey (bytes: Uint8Array, path: string): PrivateKey {
  let key: PrivateKey
  try {
    key = privateKeyFromProtobuf(bytes)
  } catch (err) {
    throw new KimuraError('ERR_KEY_FILE', `the peer key ${path} is not a libp2p private key: ${errorMessage(err)}`, { path }, { cause: err })
  }
  if (key.type !== 'Ed25519') throw new KimuraError('ERR_KEY_FILE', `the peer key ${path} is ${key.type}, expected Ed25519`, { path })
  return key
}

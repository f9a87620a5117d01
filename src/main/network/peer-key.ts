// The libp2p peer identity, kept in the data directory so that a restarted node keeps its
// peer id and the addresses its peers were configured with stay valid (SPEC 1).
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { KimuraError, errorCode, errorMessage } from '../../shared/errors.js'

export const PEER_KEY_FILE = 'peer.key'

/** Loads `<dataDir>/peer.key` (libp2p private key protobuf), creating an Ed25519 one on first start. */
export async function loadOrCreatePeerKey (dataDir: string): Promise<PrivateKey> {
  const path = join(dataDir, PEER_KEY_FILE)
  let bytes: Uint8Array | undefined
  try {
    bytes = await readFile(path)
  } catch (err) {
    if (errorCode(err) !== 'ENOENT') throw new KimuraError('ERR_KEY_FILE', `cannot read the peer key ${path}: ${errorMessage(err)}`, { path }, { cause: err })
  }
  if (bytes !== undefined) return parsePeerKey(bytes, path)

  const key = await generateKeyPair('Ed25519')
  await writeKeyFile(dataDir, path, privateKeyToProtobuf(key))
  return key
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

/** Writes through a temporary file and a rename, so a crash never leaves a truncated key. */
async function writeKeyFile (dataDir: string, path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`
  try {
    await mkdir(dataDir, { recursive: true })
    await writeFile(tmp, bytes, { mode: 0o600, flag: 'wx', flush: true })
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw new KimuraError('ERR_KEY_FILE', `cannot write the peer key ${path}: ${errorMessage(err)}`, { path }, { cause: err })
  }
}

// One verifier thread of crypto.bench.ts's all-cores figure: it loads, answers 'ready', waits
// for 'go' (so that every thread starts at once), verifies the given signatures in a loop for
// `durationMs`, and answers how many it verified in how long.
import { createPublicKey, verify, type KeyObject } from 'node:crypto'
import { parentPort, workerData } from 'node:worker_threads'
import { verifyDigest } from '../src/shared/keys.js'

export type Verifier = 'libsodium' | 'node:crypto'

export interface VerifyWorkerData {
  verifier: Verifier
  durationMs: number
  signed: Array<{ sender: Uint8Array, id: Uint8Array, signature: Uint8Array }>
}

export interface VerifyWorkerResult {
  verified: number
  seconds: number
}

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

/**
 * node:crypto's Ed25519 verification with each public key imported once (importing one per
 * verification halves the rate): how the node verified before it moved to libsodium.
 */
export function nodeCryptoVerifier (): (publicKey: Uint8Array, digest: Uint8Array, signature: Uint8Array) => boolean {
  const keys = new Map<string, KeyObject>()
  return (publicKey, digest, signature) => {
    const cacheKey = Buffer.from(publicKey).toString('latin1')
    let key = keys.get(cacheKey)
    if (key === undefined) {
      key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' })
      keys.set(cacheKey, key)
    }
    return verify(null, digest, key, signature)
  }
}

function run (data: VerifyWorkerData): VerifyWorkerResult {
  const check = data.verifier === 'libsodium' ? verifyDigest : nodeCryptoVerifier()
  const started = performance.now()
  const deadline = started + data.durationMs
  let verified = 0
  while (performance.now() < deadline) {
    for (const s of data.signed) if (!check(s.sender, s.id, s.signature)) throw new Error('a fixture signature did not verify')
    verified += data.signed.length
  }
  return { verified, seconds: (performance.now() - started) / 1000 }
}

if (parentPort !== null && workerData !== null) {
  const port = parentPort
  const data = workerData as VerifyWorkerData
  port.once('message', () => { port.postMessage(run(data)) })
  port.postMessage('ready')
}

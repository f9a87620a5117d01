// One verifier of the machine-limit measurement (verify-rate.ts): verifies pre-made Ed25519
// signatures, from 8 senders, for a fixed time once told to start, and reports how many.
import { createPublicKey, verify, type KeyObject } from 'node:crypto'
import { parentPort, workerData } from 'node:worker_threads'
import sodium from 'sodium-native'

export type Verifier = 'node' | 'sodium'

export interface VerifyWorkerData {
  verifier: Verifier
  seconds: number
}

export interface VerifyCount {
  verified: number
  seconds: number
}

const { verifier, seconds } = workerData as VerifyWorkerData
const SIGNATURES = 100
const KEYS = 8
/** DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw 32-byte key follows. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

interface Signed {
  publicKey: Buffer
  keyObject: KeyObject
  digest: Buffer
  signature: Buffer
}

function fixtures (): Signed[] {
  const keys = Array.from({ length: KEYS }, (_, i) => {
    const publicKey = Buffer.alloc(32)
    const secretKey = Buffer.alloc(64)
    sodium.crypto_sign_seed_keypair(publicKey, secretKey, Buffer.alloc(32, 0x70 + i))
    // The key object is made once per sender and cached, as a node would cache it.
    return { publicKey, secretKey, keyObject: createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' }) }
  })
  return Array.from({ length: SIGNATURES }, (_, i) => {
    const key = keys[i % KEYS]
    const digest = Buffer.alloc(32, i)
    const signature = Buffer.alloc(64)
    sodium.crypto_sign_detached(signature, digest, key.secretKey)
    return { publicKey: key.publicKey, keyObject: key.keyObject, digest, signature }
  })
}

const check: (s: Signed) => boolean = verifier === 'node'
  ? s => verify(null, s.digest, s.keyObject, s.signature)
  : s => sodium.crypto_sign_verify_detached(s.signature, s.digest, s.publicKey)

const signed = fixtures()
for (const s of signed) if (!check(s)) throw new Error(`${verifier} refused a valid signature`)

parentPort?.once('message', () => {
  const started = performance.now()
  const deadline = started + seconds * 1000
  let verified = 0
  while (performance.now() < deadline) {
    for (const s of signed) if (!check(s)) throw new Error(`${verifier} refused a valid signature`)
    verified += signed.length
  }
  parentPort?.postMessage({ verified, seconds: (performance.now() - started) / 1000 } satisfies VerifyCount)
})
parentPort?.postMessage('ready')

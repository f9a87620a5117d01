// Ed25519 through node:crypto (RFC 8032, pure). Public keys are imported once and cached:
// importing a key on every verification halves the verification rate.
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto'
import { bytesKey } from './bytes.js'
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES } from './params.js'

// DER prefixes that wrap a raw 32-byte Ed25519 key as SPKI (public) or PKCS#8 (private seed).
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

/** Bounded cache of imported public keys; cleared whole when full (senders are few and stable). */
const PUBLIC_KEY_CACHE_LIMIT = 10_000
const publicKeyCache = new Map<string, KeyObject>()

export interface SigningKey {
  readonly publicKey: Uint8Array
  readonly privateKey: KeyObject
}

export function publicKeyObject (publicKey: Uint8Array): KeyObject {
  const cacheKey = bytesKey(publicKey)
  let key = publicKeyCache.get(cacheKey)
  if (key === undefined) {
    key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' })
    if (publicKeyCache.size >= PUBLIC_KEY_CACHE_LIMIT) publicKeyCache.clear()
    publicKeyCache.set(cacheKey, key)
  }
  return key
}

/** A signing key from its 32-byte RFC 8032 seed. */
export function signingKeyFromSeed (seed: Uint8Array): SigningKey {
  if (seed.byteLength !== 32) throw new RangeError(`an Ed25519 seed is 32 bytes, got ${seed.byteLength}`)
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' })
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' })
  return { privateKey, publicKey: new Uint8Array(spki.subarray(SPKI_PREFIX.byteLength)) }
}

export function signDigest (key: SigningKey, digest: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, digest, key.privateKey))
}

/** Verifies an Ed25519 signature; false (never a throw) for malformed keys or signatures. */
export function verifyDigest (publicKey: Uint8Array, digest: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.byteLength !== PUBLIC_KEY_BYTES || signature.byteLength !== SIGNATURE_BYTES) return false
  try {
    return verify(null, digest, publicKeyObject(publicKey), signature)
  } catch {
    // A 32-byte string that is not a valid curve point fails the import.
    return false
  }
}

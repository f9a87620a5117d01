// Ed25519 through libsodium (sodium-native). Its crypto_sign_verify_detached is exactly the
// strict rule of SPEC 1: small-order and non-canonical keys and R refused, S < L, and
// cofactorless verification ([S]B - [k]A must encode to R byte for byte). It takes raw 32-byte
// keys, so there is no key object to import or cache.
import sodium from 'sodium-native'
import { bufferOf } from './bytes.js'
import { HASH_BYTES, PUBLIC_KEY_BYTES, SIGNATURE_BYTES } from './params.js'

const SEED_BYTES = 32
const SECRET_KEY_BYTES = 64

export interface SigningKey {
  /** The 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array
  /** libsodium's 64-byte secret key: the seed followed by the public key. */
  readonly secretKey: Uint8Array
}

/**
 * `bytes` as a Buffer libsodium can read: bufferOf's (a copy when small, else a view), copied
 * again if it views shared memory (sodium-native answers undefined, not a verdict, for views of
 * a SharedArrayBuffer, and blocks shared by the pool's workers are such views).
 */
function plain (bytes: Uint8Array): Buffer {
  const view = bufferOf(bytes)
  return view.buffer instanceof SharedArrayBuffer ? Buffer.from(view) : view
}

/** A signing key from its 32-byte RFC 8032 seed. */
export function signingKeyFromSeed (seed: Uint8Array): SigningKey {
  if (seed.byteLength !== SEED_BYTES) throw new RangeError(`an Ed25519 seed is 32 bytes, got ${seed.byteLength}`)
  const publicKey = Buffer.alloc(PUBLIC_KEY_BYTES)
  const secretKey = Buffer.alloc(SECRET_KEY_BYTES)
  sodium.crypto_sign_seed_keypair(publicKey, secretKey, plain(seed))
  return { publicKey: new Uint8Array(publicKey), secretKey }
}

export function signDigest (key: SigningKey, digest: Uint8Array): Uint8Array {
  const signature = Buffer.alloc(SIGNATURE_BYTES)
  sodium.crypto_sign_detached(signature, plain(digest), plain(key.secretKey))
  return new Uint8Array(signature.buffer, signature.byteOffset, signature.byteLength)
}

/**
 * Where verifyDigest and verifyDigestAt copy their arguments for libsodium: this thread's own
 * Buffers, made once. plain() makes a Buffer per argument, three per message verified.
 */
const verifyArgs = Buffer.alloc(PUBLIC_KEY_BYTES + HASH_BYTES + SIGNATURE_BYTES)
const keyArg = verifyArgs.subarray(0, PUBLIC_KEY_BYTES)
const digestArg = verifyArgs.subarray(PUBLIC_KEY_BYTES, PUBLIC_KEY_BYTES + HASH_BYTES)
const signatureArg = verifyArgs.subarray(PUBLIC_KEY_BYTES + HASH_BYTES)

/** Verifies an Ed25519 signature (SPEC 1); false, never a throw, for malformed keys or signatures. */
export function verifyDigest (publicKey: Uint8Array, digest: Uint8Array, signature: Uint8Array): boolean {
  // libsodium reads only the first 64 bytes of a longer signature: the lengths are checked here.
  if (publicKey.byteLength !== PUBLIC_KEY_BYTES || signature.byteLength !== SIGNATURE_BYTES) return false
  keyArg.set(publicKey)
  signatureArg.set(signature)
  // Every digest signed here is a 32-byte hash (an id, a block hash); another length is read as given.
  if (digest.byteLength !== HASH_BYTES) return verifyArgsOver(plain(digest))
  digestArg.set(digest)
  return verifyArgsOver(digestArg)
}

/**
 * verifyDigest of a key and a signature that lie in `source` at `keyAt` and `signatureAt` (a
 * block's bytes) and a 32-byte digest in `digests` at `digestAt`: copied from there byte by
 * byte, without a view of each (an object per message verified).
 */
export function verifyDigestAt (source: Uint8Array, keyAt: number, signatureAt: number, digests: Uint8Array, digestAt: number): boolean {
  if (keyAt < 0 || signatureAt < 0 || digestAt < 0 || keyAt + PUBLIC_KEY_BYTES > source.byteLength || signatureAt + SIGNATURE_BYTES > source.byteLength || digestAt + HASH_BYTES > digests.byteLength) return false
  for (let i = 0; i < PUBLIC_KEY_BYTES; i++) keyArg[i] = source[keyAt + i]
  for (let i = 0; i < SIGNATURE_BYTES; i++) signatureArg[i] = source[signatureAt + i]
  for (let i = 0; i < HASH_BYTES; i++) digestArg[i] = digests[digestAt + i]
  return verifyArgsOver(digestArg)
}

/** libsodium's verdict on the key and signature in the scratch, over `message`. */
function verifyArgsOver (message: Buffer): boolean {
  try {
    return sodium.crypto_sign_verify_detached(signatureArg, message, keyArg) === true
  } catch {
    return false
  }
}

/**
 * Whether `key` may be configured as a public key (`--leader-key`): a canonical encoding of a
 * curve point that is not of small order. crypto_core_ed25519_is_valid_point also refuses
 * points outside the prime-order subgroup (mixed-order keys), which no honest key generation
 * makes, so it is stricter than SPEC 1 asks of message senders, never looser.
 */
export function isValidPublicKey (key: Uint8Array): boolean {
  if (key.byteLength !== PUBLIC_KEY_BYTES) return false
  try {
    return sodium.crypto_core_ed25519_is_valid_point(plain(key)) === true
  } catch {
    return false
  }
}

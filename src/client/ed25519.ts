// Ed25519 with SPEC 1's strict rule, on @noble/curves' point arithmetic. noble's own verify()
// is cofactored (and ZIP-215 when asked), so the rule is written out here as libsodium's
// crypto_sign_verify_detached applies it: A and R canonical and not of small order, S < L,
// and [S]B - [k]A encoding to R byte for byte (cofactorless).
import { ed25519 } from '@noble/curves/ed25519.js'
import type { EdwardsPoint } from '@noble/curves/abstract/edwards.js'
import { bytesToNumberLE, concatBytes } from '@noble/curves/utils.js'
import { sha512 } from '@noble/hashes/sha2.js'
import { bytesEqual } from './hex.js'

const Point = ed25519.Point
/** The order of the prime subgroup. */
const L = Point.Fn.ORDER

/**
 * The point `bytes` encodes when the encoding is canonical (y < p; x = 0 only with a clear
 * sign bit) and the point is not of small order; undefined otherwise.
 */
function strictPoint (bytes: Uint8Array): EdwardsPoint | undefined {
  let point: EdwardsPoint
  try {
    point = Point.fromBytes(bytes, false)
  } catch {
    return undefined
  }
  return point.isSmallOrder() ? undefined : point
}

/** Whether `publicKey` may sign at all under SPEC 1: a canonical point that is not of small order. */
export function isStrictPublicKey (publicKey: Uint8Array): boolean {
  return publicKey.length === 32 && strictPoint(publicKey) !== undefined
}

/** SPEC 1's verification of `signature` by `publicKey` over `digest`; false, never a throw, for anything malformed. */
export function verifyStrict (publicKey: Uint8Array, digest: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false
  const a = strictPoint(publicKey)
  const r = signature.subarray(0, 32)
  if (a === undefined || strictPoint(r) === undefined) return false
  const s = bytesToNumberLE(signature.subarray(32))
  if (s >= L) return false
  const k = bytesToNumberLE(sha512(concatBytes(r, publicKey, digest))) % L
  const check = Point.BASE.multiplyUnsafe(s).subtract(a.multiplyUnsafe(k))
  return bytesEqual(check.toBytes(), r)
}

/** The public key of a 32-byte RFC 8032 seed. */
export function publicKeyOf (seed: Uint8Array): Uint8Array {
  return ed25519.getPublicKey(seed)
}

/** RFC 8032 signature (deterministic) of `digest` with the key of `seed`. */
export function signWithSeed (seed: Uint8Array, digest: Uint8Array): Uint8Array {
  return ed25519.sign(digest, seed)
}

/** 32 random bytes from the platform's CSPRNG (crypto.getRandomValues). */
export function randomSeed (): Uint8Array {
  return ed25519.utils.randomSecretKey()
}

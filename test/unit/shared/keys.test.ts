// Ed25519 keys (SPEC 1): verification answers false, never throws, for anything malformed.
import '../../../src/shared/polyfill.js'
import test from 'ava'
import { toHex } from '../../../src/shared/bytes.js'
import { b3 } from '../../../src/shared/hash.js'
import { signDigest, signingKeyFromSeed, verifyDigest } from '../../../src/shared/keys.js'
import { hex, leaderKey, senderKey } from '../../helpers/fixtures.js'

const digest = b3(new TextEncoder().encode('kimura'))

/**
 * Little-endian y = 2 (and y = 7): (y^2 - 1) / (d*y^2 + 1) is not a square mod 2^255 - 19, so
 * no curve point has these encodings (checked with Euler's criterion).
 */
const NOT_A_POINT = ['02' + '00'.repeat(31), '07' + '00'.repeat(31)]

test('a signature verifies under its own key and digest only', t => {
  const signature = signDigest(senderKey, digest)
  t.is(signature.byteLength, 64)
  t.true(verifyDigest(senderKey.publicKey, digest, signature))
  t.false(verifyDigest(leaderKey.publicKey, digest, signature), 'another key')
  t.false(verifyDigest(senderKey.publicKey, b3(digest), signature), 'another digest')
  t.false(verifyDigest(senderKey.publicKey, digest, signDigest(leaderKey, digest)), 'signed by another key')
  // Signing is deterministic (RFC 8032).
  t.is(toHex(signDigest(senderKey, digest)), toHex(signature))
})

test('a 32-byte public key that is not a curve point verifies nothing, without throwing', t => {
  const signature = signDigest(senderKey, digest)
  for (const key of [...NOT_A_POINT, 'ff'.repeat(32)]) {
    t.false(verifyDigest(hex(key), digest, signature), key)
    // A second call goes through the public-key cache, if any.
    t.false(verifyDigest(hex(key), digest, signature), `${key}, again`)
  }
})

test('wrong key or signature lengths verify nothing, without throwing', t => {
  const signature = signDigest(senderKey, digest)
  const key = senderKey.publicKey
  for (const length of [0, 31, 33, 64]) {
    const k = new Uint8Array(length)
    k.set(key.subarray(0, Math.min(length, 32)))
    t.false(verifyDigest(k, digest, signature), `key of ${length} bytes`)
  }
  for (const length of [0, 32, 63, 65]) {
    const s = new Uint8Array(length)
    s.set(signature.subarray(0, Math.min(length, 64)))
    t.false(verifyDigest(key, digest, s), `signature of ${length} bytes`)
  }
  t.true(verifyDigest(key, digest, signature))
})

test('keys come from 32-byte seeds only', t => {
  t.throws(() => signingKeyFromSeed(new Uint8Array(31)), { instanceOf: RangeError })
  t.throws(() => signingKeyFromSeed(new Uint8Array(33)), { instanceOf: RangeError })
  t.is(signingKeyFromSeed(new Uint8Array(32)).publicKey.byteLength, 32)
})

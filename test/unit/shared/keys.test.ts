// Ed25519 keys (SPEC 1): strict verification (small-order and non-canonical keys and R refused,
// S < L, cofactorless), configured keys checked, and verification that answers false, never
// throws, for anything malformed.
import '../../../src/shared/polyfill.js'
import { createPublicKey, verify as nodeVerify } from 'node:crypto'
import { chmodSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js'
import { GENESIS_HASH } from '../../../src/shared/block.js'
import { toHex } from '../../../src/shared/bytes.js'
import { KimuraError } from '../../../src/shared/errors.js'
import { blockHash, b3, messageId } from '../../../src/shared/hash.js'
import { isValidPublicKey, signDigest, signingKeyFromSeed, verifyDigest, verifyDigestAt } from '../../../src/shared/keys.js'
import { DEFAULT_PARAMS } from '../../../src/shared/params.js'
import type { BlockHeader, Message } from '../../../src/shared/types.js'
import { validateHeader, verifyMessage } from '../../../src/shared/validation.js'
import { resolveConfig, type RawOptions } from '../../../src/main/config.js'
import { loadOrCreatePeerKey, PEER_KEY_FILE } from '../../../src/main/network/peer-key.js'
import { loadOrCreateSigningKey, loadSigningKey } from '../../../src/shared/key-file.js'
import { BASE_TIMESTAMP, hex, leaderKey, LEADER_SEED, loadVectors, senderKey, SENDER_SEED } from '../../helpers/fixtures.js'
import { tempDir } from '../../helpers/temp-dir.js'
import { challenge, concat, fromLE, IDENTITY, IDENTITY_FORGERY, L, NON_CANONICAL_SMALL, P, toLE } from '../../helpers/ed25519.js'

const digest = b3(new TextEncoder().encode('kimura'))

/** node:crypto (OpenSSL): the node's verifier before libsodium; Node 20's accepts small-order keys. */
function opensslVerifies (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), publicKey])
  return nodeVerify(null, message, createPublicKey({ key: spki, format: 'der', type: 'spki' }), signature)
}

/**
 * Little-endian y = 2 (and y = 7): (y^2 - 1) / (d*y^2 + 1) is not a square mod 2^255 - 19, so
 * no curve point has these encodings (checked with Euler's criterion).
 */
const NOT_A_POINT = ['02' + '00'.repeat(31), '07' + '00'.repeat(31)]
/** y = 3 + p: a non-canonical encoding of a curve point (y = 3 is on the curve) that is not of small order. */
const NON_CANONICAL_POINT = toLE(P + 3n)

test('a signature verifies under its own key and digest only', t => {
  const signature = signDigest(senderKey, digest)
  t.is(signature.byteLength, 64)
  t.true(verifyDigest(senderKey.publicKey, digest, signature))
  t.false(verifyDigest(leaderKey.publicKey, digest, signature), 'another key')
  t.false(verifyDigest(senderKey.publicKey, b3(digest), signature), 'another digest')
  t.false(verifyDigest(senderKey.publicKey, digest, signDigest(leaderKey, digest)), 'signed by another key')
  // Signing is deterministic (RFC 8032), and OpenSSL agrees with libsodium on honest signatures.
  t.is(toHex(signDigest(senderKey, digest)), toHex(signature))
  t.true(opensslVerifies(senderKey.publicKey, digest, signature))
})

test('keys are raw bytes: a 32-byte public key and libsodium\'s 64-byte secret key (seed || public key)', t => {
  const vectors = loadVectors()
  t.is(toHex(senderKey.publicKey), vectors.keys.sender.publicKey)
  t.is(toHex(leaderKey.publicKey), vectors.keys.leader.publicKey)
  t.is(senderKey.secretKey.byteLength, 64)
  t.is(toHex(senderKey.secretKey), toHex(SENDER_SEED) + vectors.keys.sender.publicKey)
  t.is(toHex(signingKeyFromSeed(LEADER_SEED).secretKey.subarray(32)), vectors.keys.leader.publicKey)
})

/**
 * The forgery is real for a lax verifier: ZIP-215 rules (cofactored, small-order points
 * allowed) accept it for any message. Node 20's OpenSSL accepts it too; the OpenSSL of Node 24
 * refuses it, so that verdict is logged, not asserted.
 */
function forgeryIsReal (t: ExecutionContext, digest: Uint8Array): void {
  t.true(ed25519.verify(IDENTITY_FORGERY, digest, IDENTITY, { zip215: true }), 'the forgery SPEC 1 closes: a ZIP-215 verifier accepts it')
  t.log(`node:crypto (OpenSSL ${process.versions.openssl}) ${opensslVerifies(IDENTITY, digest, IDENTITY_FORGERY) ? 'accepts' : 'refuses'} it`)
}

test('the identity forgery verifies under lax rules but is refused here, for a message', t => {
  const forged: Message = { sender: IDENTITY, timestamp: BASE_TIMESTAMP, nonce: 1, content: new TextEncoder().encode('anything at all'), signature: IDENTITY_FORGERY }
  const id = messageId(forged)
  forgeryIsReal(t, id)
  t.false(verifyDigest(IDENTITY, id, IDENTITY_FORGERY))
  const verdict = verifyMessage(forged, DEFAULT_PARAMS)
  t.false(verdict.ok)
  if (!verdict.ok) t.is(verdict.code, 'MESSAGE_BAD_SIGNATURE')
})

test('the identity forgery verifies under lax rules but is refused here, for a block header', t => {
  const unsigned = { height: 1, timestamp: BASE_TIMESTAMP, prevHash: GENESIS_HASH, messageRoot: b3(new Uint8Array(0)), proposer: IDENTITY }
  const header: BlockHeader = { ...unsigned, signature: IDENTITY_FORGERY }
  forgeryIsReal(t, blockHash(unsigned))
  // Even a node configured with the identity as leader key (which resolveConfig refuses) refuses the block.
  const verdict = validateHeader(header, 0, { height: 0, hash: GENESIS_HASH, timestamp: 0 }, { params: DEFAULT_PARAMS, leaderKey: IDENTITY, now: BASE_TIMESTAMP })
  t.false(verdict.ok)
  if (!verdict.ok) t.is(verdict.code, 'BLOCK_BAD_SIGNATURE')
})

test('every small-order key, canonical or not, is refused with R = identity and S = 0, and as a configured key', t => {
  t.is(ED25519_TORSION_SUBGROUP.length, 8)
  for (const key of [...ED25519_TORSION_SUBGROUP.map(k => hex(k)), ...NON_CANONICAL_SMALL]) {
    t.false(verifyDigest(key, digest, IDENTITY_FORGERY), toHex(key))
    t.false(isValidPublicKey(key), toHex(key))
  }
})

test('a non-canonical R is refused, though a lax (ZIP-215) verifier accepts the signature', t => {
  // R = the identity encoded as y = 1 + p, S = k*a: then [S]B - [k]A is the identity, exactly
  // the point R names, but its canonical encoding is not R's bytes.
  const { scalar } = ed25519.utils.getExtendedPublicKey(SENDER_SEED)
  for (const r of [toLE(P + 1n), toLE(P + 1n | (1n << 255n))]) {
    const s = (challenge(r, senderKey.publicKey, digest) * scalar) % L
    const signature = concat(r, toLE(s))
    t.true(ed25519.verify(signature, digest, senderKey.publicKey, { zip215: true }), 'the lax verifier accepts it')
    t.false(verifyDigest(senderKey.publicKey, digest, signature))
  }
})

test('S >= L is refused (a valid signature with L added to S)', t => {
  const signature = signDigest(senderKey, digest)
  const s = fromLE(signature.subarray(32))
  t.true(s < L)
  for (const bigS of [s + L, s + 2n * L, L]) {
    const malleated = concat(signature.subarray(0, 32), toLE(bigS))
    t.false(verifyDigest(senderKey.publicKey, digest, malleated), `S = ${bigS === L ? 'L' : 'S + kL'}`)
  }
  t.true(verifyDigest(senderKey.publicKey, digest, signature))
})

test('isValidPublicKey: honest keys pass; off-curve, non-canonical and mixed-order keys do not', t => {
  t.true(isValidPublicKey(senderKey.publicKey))
  t.true(isValidPublicKey(leaderKey.publicKey))
  t.true(isValidPublicKey(signingKeyFromSeed(new Uint8Array(32).fill(0xa7)).publicKey))
  for (const key of NOT_A_POINT) t.false(isValidPublicKey(hex(key)), `off the curve: ${key}`)
  t.false(isValidPublicKey(hex('ff'.repeat(32))))
  t.false(isValidPublicKey(NON_CANONICAL_POINT), 'y = 3 + p')
  // The sender's key plus the point of order 2: a mixed-order key.
  const mixed = ed25519.Point.fromBytes(senderKey.publicKey).add(ed25519.Point.fromHex(ED25519_TORSION_SUBGROUP[4])).toBytes()
  t.false(isValidPublicKey(mixed), 'mixed order')
  for (const length of [0, 31, 33]) t.false(isValidPublicKey(new Uint8Array(length)), `${length} bytes`)
})

test('a 32-byte public key that is not a canonical curve point verifies nothing, without throwing', t => {
  const signature = signDigest(senderKey, digest)
  for (const key of [...NOT_A_POINT.map(k => hex(k)), hex('ff'.repeat(32)), NON_CANONICAL_POINT]) {
    t.false(verifyDigest(key, digest, signature), toHex(key))
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

test('keys, digests and signatures that are views of shared memory verify as their copies do', t => {
  // The pool's workers read blocks from a SharedArrayBuffer: their fields are views of it.
  const signature = signDigest(senderKey, digest)
  const shared = new Uint8Array(new SharedArrayBuffer(200))
  shared.set(senderKey.publicKey, 3)
  shared.set(digest, 40)
  shared.set(signature, 100)
  const key = shared.subarray(3, 35)
  const sharedDigest = shared.subarray(40, 72)
  const sharedSignature = shared.subarray(100, 164)
  t.true(verifyDigest(key, sharedDigest, sharedSignature))
  t.true(verifyDigest(key, digest, signature))
  t.true(isValidPublicKey(key))
  shared[100] ^= 1
  t.false(verifyDigest(key, sharedDigest, sharedSignature))
  t.is(toHex(signDigest(senderKey, sharedDigest)), toHex(signature))
})

test('keys come from 32-byte seeds only', t => {
  t.throws(() => signingKeyFromSeed(new Uint8Array(31)), { instanceOf: RangeError })
  t.throws(() => signingKeyFromSeed(new Uint8Array(33)), { instanceOf: RangeError })
  t.is(signingKeyFromSeed(new Uint8Array(32)).publicKey.byteLength, 32)
})

// ---- --leader-key ------------------------------------------------------------------------

const LEADER_ADDR = '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'

function peerOptions (leaderKeyHex: string): RawOptions {
  return { db: 'kimura-data', listen: '/ip4/127.0.0.1/tcp/0', api: 'off', blockIntervalMs: '1000', logLevel: 'info', maxPending: '1000', workerNice: '10', leaderAddr: LEADER_ADDR, leaderKey: leaderKeyHex }
}

test('--leader-key refuses the identity point, every small-order, non-canonical or off-curve key: ERR_INVALID_CONFIG', t => {
  const refused = [toHex(IDENTITY), ...ED25519_TORSION_SUBGROUP, ...NON_CANONICAL_SMALL.map(toHex), toHex(NON_CANONICAL_POINT), ...NOT_A_POINT]
  for (const key of refused) {
    const err = t.throws(() => resolveConfig(peerOptions(key)), { instanceOf: KimuraError }, key)
    t.is(err?.code, 'ERR_INVALID_CONFIG', key)
    t.regex(err?.message ?? '', /--leader-key .*not a valid Ed25519 public key/, key)
  }
  t.deepEqual(resolveConfig(peerOptions(toHex(leaderKey.publicKey))).leaderKey, leaderKey.publicKey)
})

// ---- Key files ---------------------------------------------------------------------------

const keyFileError = { instanceOf: KimuraError, code: 'ERR_KEY_FILE' }

test('a created signing key file is mode 0600, holds the seed, and loads as the same key; no temporary file stays', t => {
  const dir = tempDir(t)
  const path = join(dir, 'data', 'leader.key')
  const created = loadOrCreateSigningKey(path)
  t.true(created.created)
  t.is(statSync(path).mode & 0o777, 0o600)
  t.deepEqual(readdirSync(join(dir, 'data')), ['leader.key'])
  const again = loadOrCreateSigningKey(path)
  t.false(again.created)
  t.deepEqual(again.key.publicKey, created.key.publicKey)
  t.deepEqual(loadSigningKey(path).publicKey, created.key.publicKey)
})

test('a signing key file that group or others can read is refused, saying how to fix it; chmod 600 fixes it', t => {
  const path = join(tempDir(t), 'sender.key')
  writeFileSync(path, toHex(SENDER_SEED) + '\n', { mode: 0o600 })
  for (const mode of [0o644, 0o640, 0o604, 0o620, 0o660]) {
    chmodSync(path, mode)
    const err = t.throws(() => loadOrCreateSigningKey(path), keyFileError, mode.toString(8))
    t.true(err?.message.includes(`run chmod 600 ${path}`), err?.message)
    t.throws(() => loadSigningKey(path), keyFileError)
  }
  chmodSync(path, 0o600)
  t.deepEqual(loadSigningKey(path).publicKey, senderKey.publicKey)
  chmodSync(path, 0o400)
  t.deepEqual(loadOrCreateSigningKey(path).key.publicKey, senderKey.publicKey, 'read-only for the owner is fine')
})

test('a key file that is not a hex seed is refused with ERR_KEY_FILE', t => {
  const path = join(tempDir(t), 'leader.key')
  writeFileSync(path, 'not a seed\n', { mode: 0o600 })
  t.throws(() => loadSigningKey(path), keyFileError)
  t.throws(() => loadSigningKey(join(tempDir(t), 'missing.key')), keyFileError)
})

test('the peer key file is created mode 0600, reloads as the same identity, and is refused when others can read it', async t => {
  const dir = tempDir(t)
  const key = await loadOrCreatePeerKey(dir)
  const path = join(dir, PEER_KEY_FILE)
  t.is(statSync(path).mode & 0o777, 0o600)
  t.deepEqual(readdirSync(dir), [PEER_KEY_FILE])
  t.true((await loadOrCreatePeerKey(dir)).equals(key))
  chmodSync(path, 0o644)
  const err = await t.throwsAsync(loadOrCreatePeerKey(dir), keyFileError)
  t.true(err?.message.includes(`run chmod 600 ${path}`), err?.message)
})

test('verifyDigestAt reads key, signature and digest at their offsets, as verifyDigest reads them whole, and is false past the ends', t => {
  const digest = b3(Uint8Array.of(9, 9, 9))
  const signature = signDigest(senderKey, digest)
  // key at 3, signature at 40, in shared memory (as a block is); the digest at 32 of its own array.
  const source = new Uint8Array(new SharedArrayBuffer(3 + 32 + 5 + 64 + 2))
  source.set(senderKey.publicKey, 3)
  source.set(signature, 40)
  const digests = new Uint8Array(96)
  digests.set(digest, 32)
  t.true(verifyDigestAt(source, 3, 40, digests, 32))
  t.false(verifyDigestAt(source, 3, 40, digests, 0), 'another digest')
  t.false(verifyDigestAt(source, 4, 40, digests, 32), 'another key')
  source[41] ^= 1
  t.false(verifyDigestAt(source, 3, 40, digests, 32), 'a changed signature')
  t.false(verifyDigestAt(source, 3, source.byteLength - 63, digests, 32), 'a signature past the end')
  t.false(verifyDigestAt(source, 3, 40, digests, 65), 'a digest past the end')
})

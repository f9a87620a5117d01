// kimura/client's hashing and Ed25519 on @noble (what the browser runs) against the node's
// (blake3-wasm, libsodium) and the test vectors: the same ids, hashes and signatures, and
// SPEC 1's strict verification deciding exactly as libsodium's crypto_sign_verify_detached.
import '../../../src/shared/polyfill.js'
import test, { type ExecutionContext } from 'ava'
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js'
import { blockHash, fromHex, isStrictPublicKey, messageId, Sender, toHex, verifyStrict } from '../../../src/client/index.js'
import { signMessage } from '../../../src/shared/block.js'
import { b3, blockHash as nodeBlockHash, messageId as nodeMessageId } from '../../../src/shared/hash.js'
import { signDigest, signingKeyFromSeed, verifyDigest } from '../../../src/shared/keys.js'
import { DEFAULT_PARAMS } from '../../../src/shared/params.js'
import { parseSubmission } from '../../../src/shared/submission-codec.js'
import { hex, loadVectors, makeChain, makeMessages, senderKey, SENDER_SEED } from '../../helpers/fixtures.js'
import { challenge, concat, fromLE, IDENTITY, IDENTITY_FORGERY, L, NON_CANONICAL_SMALL, P, toLE } from '../../helpers/ed25519.js'

/** Both verifiers on one input: they must agree; returns the verdict. */
function agree (t: ExecutionContext, key: Uint8Array, digest: Uint8Array, signature: Uint8Array, label: string): boolean {
  const ours = verifyStrict(key, digest, signature)
  t.is(ours, verifyDigest(key, digest, signature), `client and libsodium disagree: ${label}`)
  return ours
}


test('message ids and block hashes are the vectors\' and the node\'s', t => {
  const vectors = loadVectors()
  for (const { message, id } of vectors.messages) {
    const parsed = parseSubmission(Buffer.from(JSON.stringify(message)), 'json', DEFAULT_PARAMS)
    if (!parsed.ok) return t.fail(parsed.reason)
    t.is(toHex(messageId(parsed.value.messages[0])), id)
  }
  t.is(toHex(blockHash(vectors.genesis.header) as Uint8Array), vectors.genesis.hash)
  t.is(toHex(blockHash(vectors.block1.header) as Uint8Array), vectors.block1.hash)
  for (const m of makeMessages(40, { contentBytes: 300 })) t.is(toHex(messageId(m)), toHex(nodeMessageId(m)))
  for (const { block, hash } of makeChain(5)) {
    const h = block.header
    const json = { height: h.height, timestamp: h.timestamp, prevHash: toHex(h.prevHash), messageRoot: toHex(h.messageRoot), proposer: toHex(h.proposer) }
    t.is(toHex(blockHash(json) as Uint8Array), toHex(hash))
    t.is(toHex(blockHash({ ...json, prevHash: json.prevHash.toUpperCase() }) as Uint8Array), toHex(nodeBlockHash(h)), 'hex of either case')
  }
})

test('blockHash answers undefined for a header that is not well formed', t => {
  const h = loadVectors().block1.header
  for (const bad of [{ ...h, height: -1 }, { ...h, timestamp: 1.5 }, { ...h, prevHash: 'zz' }, { ...h, proposer: h.proposer.slice(2) }, { ...h, height: 2 ** 53 }]) {
    t.is(blockHash(bad), undefined, JSON.stringify(bad).slice(0, 80))
  }
})

test('a Sender signs as libsodium does, from the same seed, with increasing nonces', t => {
  const sender = new Sender(SENDER_SEED, { nonce: 7 })
  t.is(sender.publicKeyHex, toHex(senderKey.publicKey))
  t.deepEqual(new Sender(toHex(SENDER_SEED)).publicKey, sender.publicKey, 'a hex seed')
  const content = new TextEncoder().encode('hello kimura')
  const first = sender.sign(content, { timestamp: 1_764_000_000_000 })
  const second = sender.sign('hello kimura', { timestamp: 1_764_000_000_000 })
  t.is(first.nonce, 7)
  t.is(second.nonce, 8)
  t.is(sender.nextNonce, 9)
  t.deepEqual(second.content, content, 'text is UTF-8')
  const expected = signMessage(senderKey, { timestamp: 1_764_000_000_000, nonce: 7, content })
  t.is(toHex(first.signature), toHex(expected.signature), 'RFC 8032 signatures are deterministic: the same bytes')
  t.true(verifyDigest(senderKey.publicKey, nodeMessageId(second), second.signature))
  t.not(toHex(messageId(first)), toHex(messageId(second)))
})

test('Sender: random keys, random first nonces below 2^47, and refused seeds', t => {
  const a = Sender.random()
  const b = Sender.random()
  t.not(a.publicKeyHex, b.publicKeyHex)
  t.true(a.nextNonce < 2 ** 47 && Number.isSafeInteger(a.nextNonce))
  t.deepEqual(new Sender(a.exportSeed()).publicKey, a.publicKey)
  t.throws(() => new Sender(new Uint8Array(31)), { instanceOf: RangeError })
  t.throws(() => new Sender('ab'.repeat(31)), { instanceOf: RangeError })
  t.throws(() => new Sender(SENDER_SEED, { nonce: -1 }), { instanceOf: RangeError })
  const last = new Sender(SENDER_SEED, { nonce: Number.MAX_SAFE_INTEGER })
  t.is(last.sign('x').nonce, Number.MAX_SAFE_INTEGER)
  t.throws(() => last.sign('y'), { instanceOf: RangeError }, 'a nonce past 2^53 - 1')
})

test('strict verification agrees with libsodium on honest and altered signatures', t => {
  for (let i = 0; i < 20; i++) {
    const key = signingKeyFromSeed(new Uint8Array(32).fill(i + 3))
    const digest = b3(new Uint8Array([i]))
    const signature = signDigest(key, digest)
    t.true(agree(t, key.publicKey, digest, signature, `honest ${i}`))
    for (const at of [0, 31, 32, 63]) {
      const altered = signature.slice()
      altered[at] ^= 1 << (i % 8)
      t.false(agree(t, key.publicKey, digest, altered, `signature byte ${at}`))
    }
    const otherDigest = digest.slice()
    otherDigest[i % 32] ^= 1
    t.false(agree(t, key.publicKey, otherDigest, signature, 'another digest'))
    const otherKey = key.publicKey.slice()
    otherKey[i % 31] ^= 1
    t.false(agree(t, otherKey, digest, signature, 'another key'))
  }
})

test('the identity forgery (key 01 00..00, R = 01 00..00, S = 0) does not verify; noble\'s own verify accepts it', t => {
  const digest = b3(new TextEncoder().encode('anything at all'))
  t.true(ed25519.verify(IDENTITY_FORGERY, digest, IDENTITY, { zip215: true }), 'the forgery SPEC 1 closes: a lax verifier accepts it')
  t.false(agree(t, IDENTITY, digest, IDENTITY_FORGERY, 'identity forgery'))
  t.false(isStrictPublicKey(IDENTITY))
})

test('small-order keys and R, canonical or not, are refused as libsodium refuses them', t => {
  const digest = b3(new TextEncoder().encode('kimura'))
  const honest = signDigest(senderKey, digest)
  for (const point of [...ED25519_TORSION_SUBGROUP.map(k => hex(k)), ...NON_CANONICAL_SMALL]) {
    t.false(agree(t, point, digest, concat(IDENTITY, new Uint8Array(32)), `key ${toHex(point)}`))
    t.false(isStrictPublicKey(point))
    // R of small order with the S that would make [S]B - [k]A = R for the sender's key: none exists, but the check comes first.
    t.false(agree(t, senderKey.publicKey, digest, concat(point, honest.subarray(32)), `R ${toHex(point)}`))
  }
})

test('a non-canonical R is refused (a ZIP-215 verifier accepts it), and so is S >= L', t => {
  const digest = b3(new TextEncoder().encode('kimura'))
  const { scalar } = ed25519.utils.getExtendedPublicKey(SENDER_SEED)
  for (const r of [toLE(P + 1n), toLE(P + 1n | (1n << 255n))]) {
    const k = challenge(r, senderKey.publicKey, digest)
    const signature = concat(r, toLE((k * scalar) % L))
    t.true(ed25519.verify(signature, digest, senderKey.publicKey, { zip215: true }), 'the lax verifier accepts it')
    t.false(agree(t, senderKey.publicKey, digest, signature, 'non-canonical R'))
  }
  const signature = signDigest(senderKey, digest)
  const s = fromLE(signature.subarray(32))
  for (const bigS of [s + L, s + 2n * L, L]) t.false(agree(t, senderKey.publicKey, digest, concat(signature.subarray(0, 32), toLE(bigS)), 'S >= L'))
})

test('a mixed-order key verifies exactly when libsodium says so (cofactorless: only when [k]T vanishes)', t => {
  // A = aB + T with T of order 2: for R = rB, S = r + ka, [S]B - [k]A = R - [k]T, which is R
  // exactly when k is even. A cofactored verifier accepts both; SPEC 1's rule only the first.
  const { scalar } = ed25519.utils.getExtendedPublicKey(SENDER_SEED)
  const a = ed25519.Point.BASE.multiply(scalar).add(ed25519.Point.fromHex(ED25519_TORSION_SUBGROUP[4])).toBytes()
  const seen = { accepted: 0, refused: 0 }
  for (let i = 0; i < 24; i++) {
    const digest = b3(new Uint8Array([i, 1]))
    const r = 1000n + BigInt(i)
    const rBytes = ed25519.Point.BASE.multiply(r).toBytes()
    const k = challenge(rBytes, a, digest)
    const signature = concat(rBytes, toLE((r + k * scalar) % L))
    const verdict = agree(t, a, digest, signature, `mixed order, k ${k % 2n === 0n ? 'even' : 'odd'}`)
    t.is(verdict, k % 2n === 0n)
    seen[verdict ? 'accepted' : 'refused']++
  }
  t.true(seen.accepted > 0 && seen.refused > 0, JSON.stringify(seen))
})

test('malformed keys and signatures verify nothing, without throwing', t => {
  const digest = b3(new Uint8Array([1]))
  const signature = signDigest(senderKey, digest)
  for (const key of [new Uint8Array(0), new Uint8Array(31), new Uint8Array(33), hex('ff'.repeat(32)), hex('02' + '00'.repeat(31)), toLE(P + 3n)]) {
    t.false(verifyStrict(key, digest, signature), toHex(key))
  }
  for (const length of [0, 63, 65]) t.false(verifyStrict(senderKey.publicKey, digest, new Uint8Array(length)))
  t.true(verifyStrict(senderKey.publicKey, digest, signature))
  t.is(fromHex('0g'), undefined)
  t.is(fromHex('abc'), undefined)
  t.deepEqual(fromHex('ABcd'), new Uint8Array([0xab, 0xcd]))
})

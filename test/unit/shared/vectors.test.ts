// Reproduces every value of test/vectors.json, produced by an independent implementation.
import '../../../src/shared/polyfill.js'
import test from 'ava'
import { buildSignedBlock, GENESIS_BLOCK, GENESIS_HASH, signMessage } from '../../../src/shared/block.js'
import { toHex } from '../../../src/shared/bytes.js'
import { decodeBlock, encodeBlock } from '../../../src/shared/codec.js'
import { b3, blockHash, merkleRoot, messageId } from '../../../src/shared/hash.js'
import { signingKeyFromSeed } from '../../../src/shared/keys.js'
import { DEFAULT_PARAMS } from '../../../src/shared/params.js'
import type { BlockHeader, Message } from '../../../src/shared/types.js'
import { validateBlock } from '../../../src/shared/validation.js'
import { hex, LEADER_SEED, loadVectors, SENDER_SEED, type VectorHeader, type VectorMessage } from '../../helpers/fixtures.js'

const vectors = loadVectors()

function messageFrom (v: VectorMessage): Message {
  return { sender: hex(v.sender), timestamp: v.timestamp, nonce: v.nonce, content: hex(v.content), signature: hex(v.signature) }
}

function headerHex (h: BlockHeader): VectorHeader {
  return {
    height: h.height,
    timestamp: h.timestamp,
    prevHash: toHex(h.prevHash),
    messageRoot: toHex(h.messageRoot),
    proposer: toHex(h.proposer),
    signature: toHex(h.signature)
  }
}

function messageHex (m: Message): VectorMessage {
  return { sender: toHex(m.sender), timestamp: m.timestamp, nonce: m.nonce, content: toHex(m.content), signature: toHex(m.signature) }
}

test('the fixture seeds are the vector seeds and derive the vector public keys', t => {
  t.is(toHex(SENDER_SEED), vectors.keys.sender.seed)
  t.is(toHex(LEADER_SEED), vectors.keys.leader.seed)
  t.is(toHex(signingKeyFromSeed(hex(vectors.keys.sender.seed)).publicKey), vectors.keys.sender.publicKey)
  t.is(toHex(signingKeyFromSeed(hex(vectors.keys.leader.seed)).publicKey), vectors.keys.leader.publicKey)
})

test('blake3 of the empty input', t => {
  t.is(toHex(b3(new Uint8Array(0))), vectors.blake3Empty)
})

test('message ids', t => {
  t.true(vectors.messages.length > 0)
  for (const v of vectors.messages) t.is(toHex(messageId(messageFrom(v.message))), v.id)
})

test('message signatures are reproduced by signing with the sender seed', t => {
  const key = signingKeyFromSeed(hex(vectors.keys.sender.seed))
  for (const v of vectors.messages) {
    const signed = signMessage(key, { timestamp: v.message.timestamp, nonce: v.message.nonce, content: hex(v.message.content) })
    t.deepEqual(messageHex(signed), v.message)
  }
})

test('Merkle roots for 0 to 8 leaves', t => {
  t.deepEqual(vectors.merkle.map(m => m.ids.length), [0, 1, 2, 3, 4, 5, 6, 7, 8])
  for (const m of vectors.merkle) t.is(toHex(merkleRoot(m.ids.map(id => hex(id)))), m.root, `${m.ids.length} leaves`)
})

test('genesis header and hash', t => {
  t.deepEqual(headerHex(GENESIS_BLOCK.header), vectors.genesis.header)
  t.deepEqual(GENESIS_BLOCK.messages, [])
  t.is(toHex(GENESIS_HASH), vectors.genesis.hash)
  t.is(toHex(blockHash(GENESIS_BLOCK.header)), vectors.genesis.hash)
})

test('block 1 rebuilt from the leader seed: header, hash, signature and ids', t => {
  const leader = signingKeyFromSeed(hex(vectors.keys.leader.seed))
  const v = vectors.block1
  const built = buildSignedBlock(leader, {
    height: v.header.height,
    timestamp: v.header.timestamp,
    prevHash: hex(v.header.prevHash),
    messages: vectors.messages.map(m => messageFrom(m.message))
  })
  t.deepEqual(headerHex(built.block.header), v.header)
  t.is(toHex(built.hash), v.hash)
  t.deepEqual(built.messageIds.map(toHex), v.messageIds)
  t.is(toHex(blockHash(built.block.header)), v.hash)
})

test('block 1 wire bytes decode to the vector block and re-encode to the same bytes', t => {
  const v = vectors.block1
  const wire = hex(v.wireHex)
  const decoded = decodeBlock(wire)
  if (!decoded.ok) return t.fail(decoded.reason)
  t.deepEqual(headerHex(decoded.value.header), v.header)
  t.deepEqual(decoded.value.messages.map(messageHex), vectors.messages.map(m => m.message))
  t.is(toHex(encodeBlock(decoded.value)), v.wireHex)
})

test('block 1 is valid against genesis', t => {
  const v = vectors.block1
  const decoded = decodeBlock(hex(v.wireHex))
  if (!decoded.ok) return t.fail(decoded.reason)
  const verdict = validateBlock(decoded.value, v.wireHex.length / 2,
    { height: 0, hash: hex(vectors.genesis.hash), timestamp: 0 },
    { params: DEFAULT_PARAMS, leaderKey: hex(vectors.keys.leader.publicKey), now: v.header.timestamp },
    () => false)
  if (!verdict.ok) return t.fail(verdict.reason)
  t.is(toHex(verdict.value.hash), v.hash)
  t.deepEqual(verdict.value.messageIds.map(toHex), v.messageIds)
})

// Fuzzing the wire decoder and block validation with random and mutated inputs (fixed seed,
// bounded count): no throw escapes, and nothing that differs from a valid block validates.
import '../../../src/shared/polyfill.js'
import test from 'ava'
import { GENESIS_HASH } from '../../../src/shared/block.js'
import { bytesEqual } from '../../../src/shared/bytes.js'
import { decodeBlock, decodeBlockHeader, decodeMessage, decodeMessageBatch, encodeBlock, encodeMessage } from '../../../src/shared/codec.js'
import { blockHash, messageId } from '../../../src/shared/hash.js'
import { DEFAULT_PARAMS } from '../../../src/shared/params.js'
import { validateBlock, verifyMessage } from '../../../src/shared/validation.js'
import { BASE_TIMESTAMP, leaderKey, makeChain, makeMessages } from '../../helpers/fixtures.js'

/** mulberry32: a small seeded PRNG, so a failure reproduces exactly. */
function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** One random mutation: flip a bit, set a byte, insert, delete, truncate or duplicate a span. */
function mutate (input: Uint8Array, rand: () => number): Uint8Array {
  const bytes = Array.from(input)
  const at = Math.floor(rand() * bytes.length)
  switch (Math.floor(rand() * 6)) {
    case 0: bytes[at] = (bytes[at] ?? 0) ^ (1 << Math.floor(rand() * 8)); break
    case 1: bytes[at] = Math.floor(rand() * 256); break
    case 2: bytes.splice(at, 0, Math.floor(rand() * 256)); break
    case 3: bytes.splice(at, 1 + Math.floor(rand() * 4)); break
    case 4: bytes.length = at; break
    default: bytes.splice(at, 0, ...bytes.slice(at, at + 1 + Math.floor(rand() * 16)))
  }
  return Uint8Array.from(bytes)
}

const ROUNDS = 3000
const [block] = makeChain(1, { messagesPerBlock: 4 })
const blockBytes = encodeBlock(block.block)
const parent = { height: 0, hash: GENESIS_HASH, timestamp: 0 }
const rules = { params: DEFAULT_PARAMS, leaderKey: leaderKey.publicKey, now: BASE_TIMESTAMP + 60_000 }
const originalIds = block.messageIds

test('random bytes never make a decoder throw', t => {
  const rand = prng(1)
  for (let i = 0; i < ROUNDS; i++) {
    const input = Uint8Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 256))
    t.notThrows(() => { decodeBlock(input); decodeBlockHeader(input); decodeMessage(input); decodeMessageBatch(input) })
  }
})

test('a mutated block either fails to decode, fails validation, or is the same block', t => {
  const rand = prng(2)
  let decoded = 0
  let valid = 0
  for (let i = 0; i < ROUNDS; i++) {
    let input = blockBytes
    const mutations = 1 + Math.floor(rand() * 3)
    for (let m = 0; m < mutations; m++) input = mutate(input, rand)
    // A throw here fails the test: the decoder must answer with a result.
    const result = decodeBlock(input)
    if (!result.ok) continue
    decoded++
    const verdict = validateBlock(result.value, input.byteLength, parent, rules, () => false)
    if (!verdict.ok) continue
    valid++
    // Only an encoding-level change (say, an integer written in a wider format) may pass.
    t.true(bytesEqual(verdict.value.hash, block.hash), `round ${i}: a different block validated`)
    t.deepEqual(verdict.value.messageIds.map(id => Buffer.from(id).toString('hex')), originalIds.map(id => Buffer.from(id).toString('hex')))
  }
  t.log(`${ROUNDS} mutated blocks: ${decoded} decoded, ${valid} validated (all identical to the original)`)
  t.true(decoded > 0, 'some mutations should still decode, or the fuzzer tests nothing past the decoder')
})

test('a mutated message either fails to decode, fails verification, or has the original id', t => {
  const rand = prng(3)
  const [message] = makeMessages(1, { contentBytes: 64 })
  const bytes = encodeMessage(message)
  const id = messageId(message)
  for (let i = 0; i < ROUNDS; i++) {
    const input = mutate(bytes, rand)
    const result = decodeMessage(input)
    if (!result.ok) continue
    const verdict = verifyMessage(result.value, DEFAULT_PARAMS)
    if (verdict.ok) t.true(bytesEqual(verdict.value, id), `round ${i}: a different message verified`)
  }
})

test('a block validates only against the parent it was built on', t => {
  const chain = makeChain(3, { messagesPerBlock: 1 })
  const rand = prng(4)
  for (let i = 0; i < 200; i++) {
    const child = chain[1 + Math.floor(rand() * 2)]
    const wrongParent = { height: Math.floor(rand() * 5), hash: blockHash(chain[Math.floor(rand() * 3)].block.header), timestamp: 0 }
    const isTrueParent = wrongParent.height === child.block.header.height - 1 && bytesEqual(wrongParent.hash, child.block.header.prevHash)
    const verdict = validateBlock(child.block, encodeBlock(child.block).byteLength, wrongParent, rules, () => false)
    t.is(verdict.ok, isTrueParent)
  }
})

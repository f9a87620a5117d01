// Hashing rules of SPEC 2 and 3: every hashed field is committed to, the signature is not,
// and integers are u64 big-endian up to 2^53 - 1.
import '../../../src/shared/polyfill.js'
import test from 'ava'
import { buildSignedBlock, GENESIS_HASH } from '../../../src/shared/block.js'
import { bytesEqual, toHex } from '../../../src/shared/bytes.js'
import { encodeBlock } from '../../../src/shared/codec.js'
import { b3, blockHash, merkleRoot, messageId } from '../../../src/shared/hash.js'
import { DEFAULT_PARAMS } from '../../../src/shared/params.js'
import type { Block, BlockHeader, Message } from '../../../src/shared/types.js'
import { validateBlock, verifyMessage, type BlockErrorCode } from '../../../src/shared/validation.js'
import { leaderKey, makeMessages } from '../../helpers/fixtures.js'

/** `value` with bit `bit` flipped (0 = least significant), for safe integers up to 2^53. */
function flipInt (value: number, bit: number): number {
  return Number(BigInt(value) ^ (1n << BigInt(bit)))
}

function flipByte (bytes: Uint8Array, index: number, bit = 0): Uint8Array {
  const out = Uint8Array.from(bytes)
  out[index] ^= 1 << bit
  return out
}

const INT_BITS = [0, 7, 31, 32, 45]

test('a one-bit change to any hashed message field changes the id and fails verification', t => {
  const [message] = makeMessages(1, { contentBytes: 40 }) as [Message]
  const id = messageId(message)
  t.true(verifyMessage(message, DEFAULT_PARAMS).ok)
  const variants: Array<[string, Message]> = []
  for (const i of [0, 15, 31]) variants.push([`sender byte ${i}`, { ...message, sender: flipByte(message.sender, i) }])
  for (const b of INT_BITS) variants.push([`timestamp bit ${b}`, { ...message, timestamp: flipInt(message.timestamp, b) }])
  for (const b of INT_BITS) variants.push([`nonce bit ${b}`, { ...message, nonce: flipInt(message.nonce, b) }])
  for (const i of [0, 39]) variants.push([`content byte ${i}`, { ...message, content: flipByte(message.content, i, 7) }])
  variants.push(['content one byte shorter', { ...message, content: message.content.subarray(0, 39) }])
  for (const [what, changed] of variants) {
    t.false(bytesEqual(messageId(changed), id), what)
    const verdict = verifyMessage(changed, DEFAULT_PARAMS)
    t.false(verdict.ok, what)
    if (!verdict.ok) t.is(verdict.code, 'MESSAGE_BAD_SIGNATURE', what)
  }
})

test('a one-bit change to any hashed header field changes the hash and fails validation against genesis', t => {
  const built = buildSignedBlock(leaderKey, { height: 1, timestamp: 1_764_000_005_000, prevHash: GENESIS_HASH, messages: makeMessages(2) })
  const { block } = built
  const parent = { height: 0, hash: GENESIS_HASH, timestamp: 0 }
  // The clock is far ahead so that a flipped timestamp bit is judged by its signature, not the clock rule.
  const rules = { params: DEFAULT_PARAMS, leaderKey: leaderKey.publicKey, now: 2 ** 52 }
  const validate = (b: Block): ReturnType<typeof validateBlock> => validateBlock(b, encodeBlock(b).byteLength, parent, rules, () => false)
  t.true(validate(block).ok)
  const variants: Array<[string, Partial<BlockHeader>, BlockErrorCode]> = [
    ['height bit 0', { height: flipInt(1, 0) }, 'BLOCK_WRONG_HEIGHT'],
    ['height bit 32', { height: flipInt(1, 32) }, 'BLOCK_WRONG_HEIGHT'],
    ['prevHash byte 0', { prevHash: flipByte(block.header.prevHash, 0) }, 'BLOCK_WRONG_PREV_HASH'],
    ['prevHash byte 31', { prevHash: flipByte(block.header.prevHash, 31, 7) }, 'BLOCK_WRONG_PREV_HASH'],
    ['messageRoot byte 0', { messageRoot: flipByte(block.header.messageRoot, 0) }, 'BLOCK_BAD_SIGNATURE'],
    ['messageRoot byte 31', { messageRoot: flipByte(block.header.messageRoot, 31, 7) }, 'BLOCK_BAD_SIGNATURE'],
    ['proposer byte 0', { proposer: flipByte(block.header.proposer, 0) }, 'BLOCK_WRONG_PROPOSER'],
    ['proposer byte 31', { proposer: flipByte(block.header.proposer, 31, 6) }, 'BLOCK_WRONG_PROPOSER']
  ]
  for (const b of INT_BITS) variants.push([`timestamp bit ${b}`, { timestamp: flipInt(block.header.timestamp, b) }, 'BLOCK_BAD_SIGNATURE'])
  for (const [what, change, code] of variants) {
    const header = { ...block.header, ...change }
    t.false(bytesEqual(blockHash(header), built.hash), what)
    const verdict = validate({ header, messages: block.messages })
    t.false(verdict.ok, what)
    if (!verdict.ok) t.is(verdict.code, code, what)
  }
})

test('the signature is not part of the message id or the block hash', t => {
  const [message] = makeMessages(1) as [Message]
  const otherSig = flipByte(message.signature, 10)
  const resigned: Message = { ...message, signature: otherSig }
  t.is(toHex(messageId(resigned)), toHex(messageId(message)))
  const built = buildSignedBlock(leaderKey, { height: 1, timestamp: 1, prevHash: GENESIS_HASH, messages: [] })
  const unsigned: BlockHeader = { ...built.block.header, signature: new Uint8Array(64) }
  t.is(toHex(blockHash(unsigned)), toHex(built.hash))
})

/** The SPEC 2 preimage, written out by hand with DataView's own 64-bit setter. */
function messagePreimage (sender: Uint8Array, timestamp: number, nonce: number, content: Uint8Array): Uint8Array {
  const out = new Uint8Array(54 + content.byteLength)
  const view = new DataView(out.buffer)
  out[0] = 0x4d
  out[1] = 0x01
  out.set(sender, 2)
  view.setBigUint64(34, BigInt(timestamp), false)
  view.setBigUint64(42, BigInt(nonce), false)
  view.setUint32(50, content.byteLength, false)
  out.set(content, 54)
  return out
}

test('message ids encode integers as u64 big-endian, up to 2^53 - 1', t => {
  const sender = new Uint8Array(32).fill(0xa5)
  const content = Uint8Array.from([1, 2, 3])
  const values = [0, 1, 255, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 1_764_000_000_000, Number.MAX_SAFE_INTEGER]
  for (const timestamp of values) {
    for (const nonce of [0, 2 ** 31, Number.MAX_SAFE_INTEGER - 1]) {
      const expected = b3(messagePreimage(sender, timestamp, nonce, content))
      t.is(toHex(messageId({ sender, timestamp, nonce, content })), toHex(expected), `timestamp ${timestamp}, nonce ${nonce}`)
    }
  }
})

test('block hashes encode height and timestamp as u64 big-endian, up to 2^53 - 1', t => {
  const prevHash = new Uint8Array(32).fill(1)
  const messageRoot = new Uint8Array(32).fill(2)
  const proposer = new Uint8Array(32).fill(3)
  for (const [height, timestamp] of [[Number.MAX_SAFE_INTEGER, 2 ** 32], [2 ** 32 - 1, Number.MAX_SAFE_INTEGER], [0, 0]] as const) {
    const pre = new Uint8Array(114)
    const view = new DataView(pre.buffer)
    pre[0] = 0x42
    pre[1] = 0x01
    view.setBigUint64(2, BigInt(height), false)
    view.setBigUint64(10, BigInt(timestamp), false)
    pre.set(prevHash, 18)
    pre.set(messageRoot, 50)
    pre.set(proposer, 82)
    t.is(toHex(blockHash({ height, timestamp, prevHash, messageRoot, proposer })), toHex(b3(pre)), `height ${height}`)
  }
})

/** RFC 6962 section 2.1, written independently: split at the largest power of two below n. */
function referenceRoot (ids: Uint8Array[]): Uint8Array {
  if (ids.length === 0) return b3(new Uint8Array(0))
  if (ids.length === 1) return b3(Uint8Array.from([0x00, ...ids[0]]))
  const k = 2 ** (31 - Math.clz32(ids.length - 1))
  return b3(Uint8Array.from([0x01, ...referenceRoot(ids.slice(0, k)), ...referenceRoot(ids.slice(k))]))
}

test('Merkle roots follow RFC 6962 for 0 to 33 leaves, and depend on leaf order', t => {
  const ids = Array.from({ length: 33 }, (_, i) => b3(Uint8Array.from([i])))
  for (let n = 0; n <= ids.length; n++) t.is(toHex(merkleRoot(ids.slice(0, n))), toHex(referenceRoot(ids.slice(0, n))), `${n} leaves`)
  t.not(toHex(merkleRoot([ids[1], ids[0]])), toHex(merkleRoot(ids.slice(0, 2))))
  // A single leaf is hashed with its 0x00 prefix, not used as the root itself.
  t.not(toHex(merkleRoot(ids.slice(0, 1))), toHex(ids[0]))
})

// The validity rules of SPEC 3 (blocks) and 2 (messages): a valid block passes, each rule
// fails with its own code, and each limit is inclusive.
import '../../../src/shared/polyfill.js'
import test from 'ava'
import { buildSignedBlock, GENESIS_HASH, signMessage, type BlockTemplate } from '../../../src/shared/block.js'
import { bytesEqual, toHex } from '../../../src/shared/bytes.js'
import { encodeBlock } from '../../../src/shared/codec.js'
import { blockHash } from '../../../src/shared/hash.js'
import { signDigest, type SigningKey } from '../../../src/shared/keys.js'
import { DEFAULT_PARAMS, type NetworkParams } from '../../../src/shared/params.js'
import type { Block, HashedBlock, Message } from '../../../src/shared/types.js'
import { hashMessageIds, validateBlock, verifyMessage, verifyMessageSignatures, type BlockErrorCode, type ParentInfo } from '../../../src/shared/validation.js'
import { BASE_TIMESTAMP, hex, leaderKey, loadVectors, makeChain, makeMessages, senderKey } from '../../helpers/fixtures.js'

const GENESIS: ParentInfo = { height: 0, hash: GENESIS_HASH, timestamp: 0 }
const TS = BASE_TIMESTAMP + 5000

interface Check {
  parent?: ParentInfo
  params?: Partial<NetworkParams>
  now?: number
  isIncluded?: (id: Uint8Array) => boolean
}

/** Validates `block` as a receiver whose clock reads the block's own timestamp, against genesis. */
function check (block: Block, opts: Check = {}): ReturnType<typeof validateBlock> {
  const params = { ...DEFAULT_PARAMS, ...opts.params }
  const rules = { params, leaderKey: leaderKey.publicKey, now: opts.now ?? block.header.timestamp }
  return validateBlock(block, encodeBlock(block).byteLength, opts.parent ?? GENESIS, rules, opts.isIncluded ?? (() => false))
}

function build (over: Partial<BlockTemplate> = {}, key: SigningKey = leaderKey): HashedBlock {
  return buildSignedBlock(key, { height: 1, timestamp: TS, prevHash: GENESIS_HASH, messages: makeMessages(3), ...over })
}

function codeOf (verdict: ReturnType<typeof validateBlock>): BlockErrorCode | 'ok' {
  return verdict.ok ? 'ok' : verdict.code
}

test('a valid block passes and returns its hash and message ids', t => {
  const built = build()
  const verdict = check(built.block)
  if (!verdict.ok) return t.fail(verdict.reason)
  t.true(bytesEqual(verdict.value.hash, blockHash(built.block.header)))
  t.deepEqual(verdict.value.messageIds.map(toHex), built.messageIds.map(toHex))
})

test('a chain from the fixtures validates block by block, each against its parent', t => {
  const chain = makeChain(4, { messagesPerBlock: 3 })
  let parent = GENESIS
  const seen = new Set<string>()
  for (const { block, hash } of chain) {
    const verdict = check(block, { parent, isIncluded: id => seen.has(toHex(id)) })
    t.is(codeOf(verdict), 'ok', `height ${block.header.height}`)
    if (verdict.ok) for (const id of verdict.value.messageIds) seen.add(toHex(id))
    parent = { height: block.header.height, hash, timestamp: block.header.timestamp }
  }
  t.is(seen.size, 12)
  // Block 3 does not follow block 1.
  t.is(codeOf(check(chain[2].block, { parent: { height: 1, hash: chain[0].hash, timestamp: 0 } })), 'BLOCK_WRONG_HEIGHT')
})

test('rule 1: a wrong height or prevHash is rejected', t => {
  t.is(codeOf(check(build({ height: 2 }).block)), 'BLOCK_WRONG_HEIGHT')
  t.is(codeOf(check(build({ height: 0 }).block)), 'BLOCK_WRONG_HEIGHT')
  t.is(codeOf(check(build({ prevHash: new Uint8Array(32) }).block)), 'BLOCK_WRONG_PREV_HASH')
  t.is(codeOf(check(build().block, { parent: { ...GENESIS, hash: new Uint8Array(32).fill(7) } })), 'BLOCK_WRONG_PREV_HASH')
})

test('rule 2: timestamp from the parent timestamp to the receiver clock + 2000 ms, both inclusive', t => {
  const parent = { ...GENESIS, timestamp: TS }
  t.is(codeOf(check(build({ timestamp: TS - 1 }).block, { parent, now: TS })), 'BLOCK_TIMESTAMP_BEFORE_PARENT')
  t.is(codeOf(check(build({ timestamp: TS }).block, { parent, now: TS })), 'ok')
  const block = build().block
  t.is(codeOf(check(block, { now: TS - 2000 })), 'ok')
  t.is(codeOf(check(block, { now: TS - 2001 })), 'BLOCK_TIMESTAMP_IN_FUTURE')
  t.is(codeOf(check(block, { now: TS + 60_000 })), 'ok')
})

test('rule 3: a block proposed by another key, or with a bad signature, is rejected', t => {
  t.is(codeOf(check(build({}, senderKey).block)), 'BLOCK_WRONG_PROPOSER')
  const { block, hash } = build()
  const flipped = Uint8Array.from(block.header.signature)
  flipped[0] ^= 1
  t.is(codeOf(check({ ...block, header: { ...block.header, signature: flipped } })), 'BLOCK_BAD_SIGNATURE')
  t.is(codeOf(check({ ...block, header: { ...block.header, signature: new Uint8Array(64) } })), 'BLOCK_BAD_SIGNATURE')
  // The leader's signature over some other hash does not carry over.
  const other = Uint8Array.from(hash)
  other[31] ^= 1
  t.is(codeOf(check({ ...block, header: { ...block.header, signature: signDigest(leaderKey, other) } })), 'BLOCK_BAD_SIGNATURE')
  // The right proposer bytes signed by a different key.
  const impostor = build({}, senderKey).block.header
  t.is(codeOf(check({ ...block, header: { ...block.header, signature: impostor.signature } })), 'BLOCK_BAD_SIGNATURE')
})

test('rule 4: at most maxBlockMessages messages, inclusive', t => {
  const block = build({ messages: makeMessages(3) }).block
  t.is(codeOf(check(block, { params: { maxBlockMessages: 2 } })), 'BLOCK_TOO_MANY_MESSAGES')
  t.is(codeOf(check(block, { params: { maxBlockMessages: 3 } })), 'ok')
})

test('rule 4: at most maxBlockBytes encoded bytes, inclusive', t => {
  const block = build().block
  const size = encodeBlock(block).byteLength
  t.is(codeOf(check(block, { params: { maxBlockBytes: size - 1 } })), 'BLOCK_TOO_LARGE')
  t.is(codeOf(check(block, { params: { maxBlockBytes: size } })), 'ok')
})

test('rule 5: a message with a forged signature makes the block invalid', t => {
  const [a, b] = makeMessages(2) as [Message, Message]
  // Signed by the leader while claiming the sender's key.
  const forged: Message = { ...signMessage(leaderKey, { timestamp: a.timestamp + 100, nonce: 99, content: a.content }), sender: senderKey.publicKey }
  t.is(codeOf(check(build({ messages: [a, forged, b] }).block)), 'BLOCK_INVALID_MESSAGE')
  // Another message's valid signature does not transfer.
  t.is(codeOf(check(build({ messages: [a, { ...b, signature: a.signature }] }).block)), 'BLOCK_INVALID_MESSAGE')
  const verdict = verifyMessage(forged, DEFAULT_PARAMS)
  t.false(verdict.ok)
  if (!verdict.ok) t.is(verdict.code, 'MESSAGE_BAD_SIGNATURE')
})

test('rule 5: content over maxMessageBytes is rejected, exactly at the limit passes', t => {
  const limit = DEFAULT_PARAMS.maxMessageBytes
  const [atLimit] = makeMessages(1, { contentBytes: limit }) as [Message]
  const [over] = makeMessages(1, { contentBytes: limit + 1, nonceStart: 1 }) as [Message]
  t.true(verifyMessage(atLimit, DEFAULT_PARAMS).ok)
  const verdict = verifyMessage(over, DEFAULT_PARAMS)
  t.false(verdict.ok)
  if (!verdict.ok) t.is(verdict.code, 'MESSAGE_TOO_LARGE')
  t.is(codeOf(check(build({ messages: [atLimit] }).block)), 'ok')
  t.is(codeOf(check(build({ messages: [atLimit, over] }).block)), 'BLOCK_INVALID_MESSAGE')
  // A smaller network limit applies the same way.
  t.is(codeOf(check(build({ messages: makeMessages(2, { contentBytes: 16 }) }).block, { params: { maxMessageBytes: 16 } })), 'ok')
  t.is(codeOf(check(build({ messages: makeMessages(2, { contentBytes: 17 }) }).block, { params: { maxMessageBytes: 16 } })), 'BLOCK_INVALID_MESSAGE')
})

test('rule 5: a message repeated within the block is rejected', t => {
  const [a, b] = makeMessages(2) as [Message, Message]
  t.is(codeOf(check(build({ messages: [a, b, a] }).block)), 'BLOCK_DUPLICATE_MESSAGE')
  t.is(codeOf(check(build({ messages: [a, a] }).block)), 'BLOCK_DUPLICATE_MESSAGE')
  // The same content with another nonce is a different message.
  const again = signMessage(senderKey, { timestamp: a.timestamp, nonce: a.nonce + 1000, content: a.content })
  t.is(codeOf(check(build({ messages: [a, again] }).block)), 'ok')
})

test('rule 5: a message already in the chain is rejected', t => {
  const built = build()
  const included = toHex(built.messageIds[1])
  const asked: string[] = []
  const verdict = check(built.block, { isIncluded: id => { asked.push(toHex(id)); return toHex(id) === included } })
  t.is(codeOf(verdict), 'BLOCK_DUPLICATE_MESSAGE')
  t.true(asked.includes(included))
  t.is(codeOf(check(built.block, { isIncluded: id => toHex(id) === 'ff'.repeat(32) })), 'ok')
})

test('rule 6: a messageRoot that does not match the messages is rejected, even when signed', t => {
  const messages = makeMessages(3)
  const good = build({ messages })
  const reversed = build({ messages, messageIds: [...good.messageIds].reverse() })
  t.is(codeOf(check(reversed.block)), 'BLOCK_WRONG_MESSAGE_ROOT')
  const short = build({ messages, messageIds: good.messageIds.slice(0, 2) })
  t.is(codeOf(check(short.block)), 'BLOCK_WRONG_MESSAGE_ROOT')
  // An empty block must carry the empty root.
  const emptyWithRoot = build({ messages: [], messageIds: good.messageIds })
  t.is(codeOf(check(emptyWithRoot.block)), 'BLOCK_WRONG_MESSAGE_ROOT')
  t.is(codeOf(check(build({ messages: [] }).block)), 'ok')
})

test('hashMessageIds gives the vector ids; verifyMessageSignatures checks only its range', t => {
  const vectors = loadVectors()
  const messages: Message[] = vectors.messages.map(({ message: m }) => ({
    sender: hex(m.sender), timestamp: m.timestamp, nonce: m.nonce, content: hex(m.content), signature: hex(m.signature)
  }))
  const hashed = hashMessageIds(messages, DEFAULT_PARAMS)
  if (!hashed.ok) { t.fail(hashed.reason); return }
  t.deepEqual(hashed.value.map(toHex), vectors.messages.map(m => m.id))
  const broken = [...messages, { ...messages[0], nonce: 12345 }]
  const brokenIds = hashMessageIds(broken, DEFAULT_PARAMS)
  if (!brokenIds.ok) { t.fail(brokenIds.reason); return }
  const range = (start: number, end: number): string => {
    const r = verifyMessageSignatures(broken, brokenIds.value, start, end)
    return r.ok ? 'ok' : r.code
  }
  t.is(range(0, 3), 'ok')
  t.is(range(1, 1), 'ok')
  t.is(range(2, 4), 'BLOCK_INVALID_MESSAGE')
  t.is(range(3, 4), 'BLOCK_INVALID_MESSAGE')
  t.is(codeOfIds(hashMessageIds([{ ...messages[0], content: new Uint8Array(DEFAULT_PARAMS.maxMessageBytes + 1) }], DEFAULT_PARAMS)), 'BLOCK_INVALID_MESSAGE', 'content over the limit')
})

function codeOfIds (r: ReturnType<typeof hashMessageIds>): string {
  return r.ok ? 'ok' : r.code
}

test('a block that repeats a message whose signature is also bad is refused as a duplicate: uniqueness is checked before signatures', t => {
  const [a, b] = makeMessages(2)
  const bad = { ...a, signature: new Uint8Array(64).fill(3) }
  const built = buildSignedBlock(leaderKey, { height: 1, timestamp: BASE_TIMESTAMP, prevHash: GENESIS_HASH, messages: [bad, b, bad] })
  t.is(codeOf(check(built.block)), 'BLOCK_DUPLICATE_MESSAGE')
})

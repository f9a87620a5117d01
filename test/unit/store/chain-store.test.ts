// ChainStore (SPEC 6): genesis on first open, the four databases' reads, commitBlock writing a
// block with its messages, tip and pending removal in one transaction, refusals that write
// nothing, and a reopened store holding the same chain.
import '../../../src/shared/polyfill.js'
import test from 'ava'
import { buildSignedBlock, GENESIS_BLOCK, GENESIS_HASH } from '../../../src/shared/block.js'
import { toHex } from '../../../src/shared/bytes.js'
import { encodeBlock, encodeMessage } from '../../../src/shared/codec.js'
import { KimuraError, type ErrorCode } from '../../../src/shared/errors.js'
import { messageId } from '../../../src/shared/hash.js'
import { ChainStore } from '../../../src/shared/store/index.js'
import { leaderKey, makeChain, makeMessages } from '../../helpers/fixtures.js'
import { appendAll, commitOf, isKnown, openStore, snapshot } from '../../helpers/store-fixtures.js'
import { tempDir } from '../../helpers/temp-dir.js'

function expectCode (code: ErrorCode): { instanceOf: typeof KimuraError, code: ErrorCode } {
  return { instanceOf: KimuraError, code }
}

test('a fresh store holds genesis at height 0 with the genesis hash as tip', t => {
  const store = openStore(t)
  const tip = store.tip()
  t.is(tip.height, 0)
  t.is(toHex(tip.hash), toHex(GENESIS_HASH))
  t.is(tip.timestamp, 0)
  t.is(store.metadata.getLastHeight(), 0)
  t.is(toHex(store.metadata.getLastHash() ?? new Uint8Array(0)), toHex(GENESIS_HASH))
  t.true(store.blocks.has(0))
  t.false(store.blocks.has(1))
  t.is(store.blocks.lastHeight(), 0)
  t.deepEqual(store.blocks.getEncoded(0), encodeBlock(GENESIS_BLOCK))
  t.is(store.blocks.getEncoded(1), undefined)
  t.is(store.pending.count(), 0)
  t.deepEqual(store.pending.takeOldest(10), [])
})

test('commitBlock stores blocks by height, messages by id with their place, and moves the tip', t => {
  const store = openStore(t)
  const chain = makeChain(3, { messagesPerBlock: 3 })
  for (const built of chain) store.commitBlock(commitOf(built))

  const tip = store.tip()
  t.is(tip.height, 3)
  t.is(toHex(tip.hash), toHex(chain[2].hash))
  t.is(tip.timestamp, chain[2].block.header.timestamp)
  t.is(store.blocks.lastHeight(), 3)
  for (const built of chain) {
    const height = built.block.header.height
    t.true(store.blocks.has(height))
    t.deepEqual(store.blocks.getEncoded(height), encodeBlock(built.block))
    built.block.messages.forEach((m, i) => {
      t.deepEqual(store.message(built.messageIds[i]), { encoded: encodeMessage(m), height, index: i })
      t.true(store.messages.has(built.messageIds[i]))
      t.true(isKnown(store, built.messageIds[i]))
    })
  }
  const unknown = makeMessages(1, { nonceStart: 999 })[0]
  t.is(store.messages.get(messageId(unknown)), undefined)
  t.is(store.message(messageId(unknown)), undefined)
  t.false(store.messages.has(messageId(unknown)))
  t.false(isKnown(store, messageId(unknown)))
})

test('BlockStore.getEncodedRange returns blocks in height order, bounded by count, tip and bytes', t => {
  const store = openStore(t)
  const chain = makeChain(4)
  store.commitBlocks(chain.map(commitOf))
  const encoded = [encodeBlock(GENESIS_BLOCK), ...chain.map(b => encodeBlock(b.block))]

  t.deepEqual(store.blocks.getEncodedRange(1, 2, Number.POSITIVE_INFINITY), encoded.slice(1, 3))
  t.deepEqual(store.blocks.getEncodedRange(2, 100, Number.POSITIVE_INFINITY), encoded.slice(2), 'stops at the tip')
  t.deepEqual(store.blocks.getEncodedRange(0, 100, Number.POSITIVE_INFINITY), encoded)
  t.deepEqual(store.blocks.getEncodedRange(5, 10, Number.POSITIVE_INFINITY), [], 'nothing beyond the tip')
  const twoBlocks = encoded[1].byteLength + encoded[2].byteLength
  t.deepEqual(store.blocks.getEncodedRange(1, 100, twoBlocks), encoded.slice(1, 3), 'stops before exceeding maxBytes')
  t.deepEqual(store.blocks.getEncodedRange(1, 100, 1), encoded.slice(1, 2), 'always one block, even over maxBytes')
})

test('commitBlock removes the block\'s messages from pending and keeps the others in order', t => {
  const store = openStore(t)
  const [block1] = makeChain(1, { messagesPerBlock: 3 })
  const others = makeMessages(3, { nonceStart: 1000 })
  // Arrival order: other[0], block1 messages, other[1], other[2].
  t.deepEqual(appendAll(store, [others[0], ...block1.block.messages, others[1], others[2]]), Array(6).fill('added'))
  t.is(store.pending.count(), 6)

  store.commitBlock(commitOf(block1))

  t.is(store.pending.count(), 3)
  t.deepEqual(store.pending.takeOldest(10).map(e => toHex(e.id)), others.map(m => toHex(messageId(m))))
  for (const id of block1.messageIds) {
    t.is(store.pending.get(id), undefined)
    t.is(store.messages.get(id)?.height, 1)
  }
})

test('a commitBlock at the wrong height throws ERR_STORE_CONFLICT and changes nothing', t => {
  const store = openStore(t)
  const chain = makeChain(2)
  appendAll(store, chain[1].block.messages)
  const probe = chain.flatMap(b => b.block.messages)
  const before = snapshot(store, probe)

  t.throws(() => { store.commitBlock(commitOf(chain[1])) }, expectCode('ERR_STORE_CONFLICT'))
  t.deepEqual(snapshot(store, probe), before)
  t.false(store.blocks.has(2))
})

test('a commitBlock whose prevHash is not the tip hash throws ERR_STORE_CONFLICT and changes nothing', t => {
  const store = openStore(t)
  const messages = makeMessages(2)
  const wrongParent = buildSignedBlock(leaderKey, { height: 1, timestamp: 10_000, prevHash: new Uint8Array(32).fill(7), messages })
  appendAll(store, messages)
  const before = snapshot(store, messages)

  t.throws(() => { store.commitBlock(commitOf(wrongParent)) }, expectCode('ERR_STORE_CONFLICT'))
  t.deepEqual(snapshot(store, messages), before)
  t.is(before.pendingCount, 2, 'the messages stay pending')
})

test('committing the same block twice throws ERR_STORE_CONFLICT the second time and changes nothing', t => {
  const store = openStore(t)
  const [block1] = makeChain(1)
  store.commitBlock(commitOf(block1))
  const before = snapshot(store, block1.block.messages)

  t.throws(() => { store.commitBlock(commitOf(block1)) }, expectCode('ERR_STORE_CONFLICT'))
  t.deepEqual(snapshot(store, block1.block.messages), before)
})

test('commitBlocks writes consecutive blocks together', t => {
  const store = openStore(t)
  const chain = makeChain(3)
  store.commitBlocks(chain.map(commitOf))
  t.is(store.tip().height, 3)
  t.is(toHex(store.tip().hash), toHex(chain[2].hash))
  for (const built of chain) t.deepEqual(store.blocks.getEncoded(built.block.header.height), encodeBlock(built.block))
})

test('a commitBlocks whose later block fails writes none of them', t => {
  const store = openStore(t)
  const chain = makeChain(4)
  const probe = chain.flatMap(b => b.block.messages)
  // Block 1's and 2's messages are pending: a partial commit would also remove them.
  appendAll(store, [...chain[0].block.messages, ...chain[1].block.messages])
  const before = snapshot(store, probe)

  // Blocks 1 and 2 extend the chain; block 4 does not extend block 2.
  t.throws(() => { store.commitBlocks([chain[0], chain[1], chain[3]].map(commitOf)) }, expectCode('ERR_STORE_CONFLICT'))

  t.deepEqual(snapshot(store, probe), before)
  t.false(store.blocks.has(1), 'the earlier, valid block is absent')
  t.false(store.blocks.has(2))
  t.is(store.messages.get(chain[0].messageIds[0]), undefined)
  t.not(store.pending.get(chain[0].messageIds[0]), undefined)
  t.is(store.tip().height, 0)

  // The store still works: the valid prefix commits afterwards.
  store.commitBlocks([chain[0], chain[1]].map(commitOf))
  t.is(store.tip().height, 2)
  t.is(store.pending.count(), 0)
})

test('a store closed and reopened holds the same chain, messages and pending pool', async t => {
  const dataDir = tempDir(t)
  const chain = makeChain(2, { messagesPerBlock: 2 })
  const extra = makeMessages(3, { nonceStart: 500 })
  const probe = [...chain.flatMap(b => b.block.messages), ...extra]

  const first = ChainStore.open({ dataDir, initialize: true })
  first.commitBlocks(chain.map(commitOf))
  appendAll(first, extra)
  const before = snapshot(first, probe)
  await first.stop()

  const reopened = openStore(t, dataDir, true)
  const after = snapshot(reopened, probe)
  t.deepEqual(after, before)
  t.is(after.tip.height, 2)
  t.is(after.tip.hash, toHex(chain[1].hash))
  t.deepEqual(after.pending, extra.map(m => toHex(messageId(m))))
  t.deepEqual(reopened.pending.get(messageId(extra[1])), encodeMessage(extra[1]))

  // It keeps going from where it was: the next block and the next append.
  const [, , block3] = makeChain(3, { messagesPerBlock: 2 })
  reopened.commitBlock(commitOf(block3))
  t.is(reopened.tip().height, 3)
  t.deepEqual(appendAll(reopened, makeMessages(1, { nonceStart: 600 })), ['added'])
  t.is(reopened.pending.count(), 4)
})

test('a closed store refuses writes with ERR_STORE_CLOSED', async t => {
  const store = openStore(t)
  await store.stop()
  const [block1] = makeChain(1)
  t.throws(() => { store.commitBlock(commitOf(block1)) }, expectCode('ERR_STORE_CLOSED'))
  t.throws(() => appendAll(store, makeMessages(1)), expectCode('ERR_STORE_CLOSED'))
  await t.notThrowsAsync(store.stop(), 'stopping twice is safe')
})

// The pending pool (SPEC 6, 8): admitted messages in arrival order, each at most once, whether
// it is already pending or already in the chain.
import '../../../src/shared/polyfill.js'
import test from 'ava'
import { toHex } from '../../../src/shared/bytes.js'
import { encodeMessage } from '../../../src/shared/codec.js'
import { messageId } from '../../../src/shared/hash.js'
import type { Message } from '../../../src/shared/types.js'
import { makeChain, makeMessages } from '../../helpers/fixtures.js'
import { ChainStore } from '../../../src/shared/store/index.js'
import { appendBatch, appendAll, commitOf, isKnown, openStore, pendingOf, snapshot } from '../../helpers/store-fixtures.js'
import { tempDir } from '../../helpers/temp-dir.js'

const ids = (messages: readonly Message[]): string[] => messages.map(m => toHex(messageId(m)))

test('appendPending keeps arrival order across batches; takeOldest(N) returns the oldest N in order', t => {
  const store = openStore(t)
  // Nonces run backwards so that arrival order differs from id and nonce order.
  const messages = makeMessages(6).reverse()
  t.deepEqual(appendAll(store, messages.slice(0, 4)), ['added', 'added', 'added', 'added'])
  t.deepEqual(appendAll(store, messages.slice(4)), ['added', 'added'])

  t.is(store.pending.count(), 6)
  t.deepEqual(store.pending.takeOldest(3).map(e => toHex(e.id)), ids(messages.slice(0, 3)))
  t.deepEqual(store.pending.takeOldest(100).map(e => toHex(e.id)), ids(messages))
  t.deepEqual(store.pending.takeOldest(0), [])
  t.deepEqual(store.pending.takeOldest(2).map(e => e.encoded), messages.slice(0, 2).map(encodeMessage))
  t.is(store.pending.count(), 6, 'takeOldest only reads')
})

test('pending get answers by id: the encoding of a pending message, undefined for another', t => {
  const store = openStore(t)
  const [a, b, unknown] = makeMessages(3)
  appendAll(store, [a, b])
  t.not(store.pending.get(messageId(a)), undefined)
  t.not(store.pending.get(messageId(b)), undefined)
  t.is(store.pending.get(messageId(unknown)), undefined)
  t.deepEqual(store.pending.get(messageId(b)), encodeMessage(b))
  t.true(isKnown(store, messageId(a)))
  t.false(isKnown(store, messageId(unknown)))
})

test('appending a message already pending answers pending and does not duplicate it', t => {
  const store = openStore(t)
  const [a, b, c] = makeMessages(3)
  appendAll(store, [a, b])
  t.deepEqual(appendAll(store, [b, c, a]), ['pending', 'added', 'pending'])
  t.is(store.pending.count(), 3)
  t.deepEqual(store.pending.takeOldest(10).map(e => toHex(e.id)), ids([a, b, c]), 'the first arrival keeps its place')
})

test('the same message twice in one batch is added once', t => {
  const store = openStore(t)
  const [a, b] = makeMessages(2)
  t.deepEqual(appendAll(store, [a, b, a]), ['added', 'added', 'pending'])
  t.is(store.pending.count(), 2)
  t.deepEqual(store.pending.takeOldest(10).map(e => toHex(e.id)), ids([a, b]))
})

test('appending a message already included answers included and does not make it pending', t => {
  const store = openStore(t)
  const [block1] = makeChain(1, { messagesPerBlock: 2 })
  store.commitBlock(commitOf(block1))
  const [fresh] = makeMessages(1, { nonceStart: 100 })

  t.deepEqual(appendAll(store, [...block1.block.messages, fresh]), ['included', 'included', 'added'])
  t.is(store.pending.count(), 1)
  t.is(store.pending.get(block1.messageIds[0]), undefined)
  t.deepEqual(store.pending.takeOldest(10).map(e => toHex(e.id)), ids([fresh]))
})

test('messages appended after a block removed some from the middle still queue behind the rest', t => {
  const store = openStore(t)
  const [block1] = makeChain(1, { messagesPerBlock: 2 })
  const [x, y, z] = makeMessages(3, { nonceStart: 100 })
  appendAll(store, [x, block1.block.messages[0], y, block1.block.messages[1]])
  store.commitBlock(commitOf(block1))
  appendAll(store, [z])

  t.is(store.pending.count(), 3)
  t.deepEqual(store.pending.takeOldest(10).map(e => toHex(e.id)), ids([x, y, z]))
  t.deepEqual(store.pending.takeOldest(2).map(e => toHex(e.id)), ids([x, y]))
})

test('appendPending refuses a batch whole, writing nothing, when pending would exceed maxPending', t => {
  const store = openStore(t)
  const [block1] = makeChain(1, { messagesPerBlock: 2 })
  store.commitBlock(commitOf(block1))
  const first = makeMessages(3, { nonceStart: 100 })
  t.deepEqual(appendBatch(store, pendingOf(first), { maxPending: 5 }), { ok: true, outcomes: ['added', 'added', 'added'] })
  const next = makeMessages(3, { nonceStart: 200 })
  const before = snapshot(store, [...first, ...next])

  const refused = appendBatch(store, pendingOf(next), { maxPending: 5 })
  t.like(refused, { ok: false, code: 'POOL_FULL', pending: 3 })
  if (!refused.ok) t.regex(refused.reason, /limit of 5/)
  t.deepEqual(snapshot(store, [...first, ...next]), before, 'nothing of the batch was written')

  // Messages already pending or included take no room; one repeated in the batch counts once.
  const fits = [first[0], block1.block.messages[0], next[0], next[1], next[0]]
  t.deepEqual(appendBatch(store, pendingOf(fits), { maxPending: 5 }), { ok: true, outcomes: ['pending', 'included', 'added', 'added', 'pending'] })
  t.is(store.pending.count(), 5, 'exactly at the limit is allowed')
  t.like(appendBatch(store, pendingOf([next[2]]), { maxPending: 5 }), { ok: false, code: 'POOL_FULL', pending: 5 })
  t.deepEqual(appendBatch(store, pendingOf([first[1], next[1]]), { maxPending: 5 }), { ok: true, outcomes: ['pending', 'pending'] }, 'a batch adding nothing is never refused')
})

test('the pending counters stay exact through appends, block commits and a reopen (written once per transaction)', async t => {
  const dataDir = tempDir(t)
  const chain = makeChain(2, { messagesPerBlock: 3 })
  const others = makeMessages(4, { nonceStart: 300 })
  const first = ChainStore.open({ dataDir, initialize: true })
  appendAll(first, [others[0], ...chain[0].block.messages, others[1], ...chain[1].block.messages])
  t.is(first.pending.count(), 8)
  first.commitBlocks(chain.map(commitOf))
  t.is(first.pending.count(), 2)
  appendAll(first, others.slice(2))
  t.is(first.pending.count(), 4)
  await first.stop()
  const reopened = openStore(t, dataDir)
  t.is(reopened.pending.count(), 4)
  t.deepEqual(reopened.pending.takeOldest(10).map(e => toHex(e.id)), ids(others))
  // Arrival sequences keep growing: a new message queues behind every earlier one.
  const [last] = makeMessages(1, { nonceStart: 400 })
  appendAll(reopened, [last])
  const seqs = reopened.pending.takeOldest(10).map(e => e.seq)
  // Sequences number admitted batches (since format 2): others[0] and [1] came in the first, [2] and [3] in the second.
  t.deepEqual(seqs, [0, 0, 1, 1, 2], 'the next sequence was never reused')
})

// Which batch holds a pending message is kept in memory (format 4), per thread: another thread's
// transactions, and this thread's own transaction that did not commit, must not leave it wrong.

test('a second opener of the store sees what the first appended, and the first sees what the second included', t => {
  const dataDir = tempDir(t)
  const producer = openStore(t, dataDir)
  const [block1] = makeChain(1, { messagesPerBlock: 2 })
  const [fresh] = makeMessages(1, { nonceStart: 300 })
  t.deepEqual(appendAll(producer, [...block1.block.messages, fresh]), ['added', 'added', 'added'])

  const other = openStore(t, dataDir, false)
  t.not(other.pending.get(block1.messageIds[0]), undefined, 'built from the batches')
  t.deepEqual(appendAll(other, [fresh]), ['pending'])
  other.commitBlock(commitOf(block1))
  t.is(other.pending.count(), 1)

  t.is(producer.pending.get(block1.messageIds[0]), undefined, 'the first opener\'s index is built again')
  t.deepEqual(appendAll(producer, [...block1.block.messages, fresh]), ['included', 'included', 'pending'])
  t.deepEqual(producer.pending.takeOldest(10).map(e => toHex(e.id)), ids([fresh]))
})

test('a block transaction that fails leaves every message it would have included pending, for this thread too', t => {
  const store = openStore(t)
  const [block1, , block3] = makeChain(3, { messagesPerBlock: 2 })
  appendAll(store, block1.block.messages)
  // Block 1 is removed from pending in the transaction, then block 3 does not extend it: nothing commits.
  t.throws(() => { store.commitBlocks([commitOf(block1), commitOf(block3)]) }, { code: 'ERR_STORE_CONFLICT' })
  t.is(store.pending.count(), 2)
  t.not(store.pending.get(block1.messageIds[0]), undefined)
  t.deepEqual(appendAll(store, block1.block.messages), ['pending', 'pending'], 'not admitted a second time')
  store.commitBlock(commitOf(block1))
  t.is(store.pending.count(), 0)
  t.deepEqual(store.pending.takeOldest(10), [])
})

test('after a restart a pending message is still known as pending, from the stored batches', async t => {
  const dataDir = tempDir(t)
  const messages = makeMessages(3, { nonceStart: 400 })
  const first = ChainStore.open({ dataDir, initialize: true })
  appendAll(first, messages.slice(0, 2))
  await first.stop()
  const store = openStore(t, dataDir)
  t.deepEqual(appendAll(store, messages), ['pending', 'pending', 'added'])
  t.deepEqual(store.pending.get(messageId(messages[1])), encodeMessage(messages[1]))
  t.is(store.pending.count(), 3)
})

// The pending pool (SPEC 6, 8): admitted messages in arrival order, each at most once, whether
// it is already pending or already in the chain.
import '../../../src/shared/polyfill.js'
import test from 'ava'
import { toHex } from '../../../src/shared/bytes.js'
import { encodeMessage } from '../../../src/shared/codec.js'
import { messageId } from '../../../src/shared/hash.js'
import type { Message } from '../../../src/shared/types.js'
import { makeChain, makeMessages } from '../../helpers/fixtures.js'
import { commitOf, isKnown, openStore, pendingOf } from '../../helpers/store-fixtures.js'

const ids = (messages: readonly Message[]): string[] => messages.map(m => toHex(messageId(m)))

test('appendPending keeps arrival order across batches; takeOldest(N) returns the oldest N in order', t => {
  const store = openStore(t)
  // Nonces run backwards so that arrival order differs from id and nonce order.
  const messages = makeMessages(6).reverse()
  t.deepEqual(store.appendPending(pendingOf(messages.slice(0, 4))), ['added', 'added', 'added', 'added'])
  t.deepEqual(store.appendPending(pendingOf(messages.slice(4))), ['added', 'added'])

  t.is(store.pending.count(), 6)
  t.deepEqual(store.pending.takeOldest(3).map(e => toHex(e.id)), ids(messages.slice(0, 3)))
  t.deepEqual(store.pending.takeOldest(100).map(e => toHex(e.id)), ids(messages))
  t.deepEqual(store.pending.takeOldest(0), [])
  t.deepEqual(store.pending.takeOldest(2).map(e => e.encoded), messages.slice(0, 2).map(encodeMessage))
  t.is(store.pending.count(), 6, 'takeOldest only reads')
})

test('pending contains and get answer by id', t => {
  const store = openStore(t)
  const [a, b, unknown] = makeMessages(3)
  store.appendPending(pendingOf([a, b]))
  t.true(store.pending.contains(messageId(a)))
  t.true(store.pending.contains(messageId(b)))
  t.false(store.pending.contains(messageId(unknown)))
  t.deepEqual(store.pending.get(messageId(b)), encodeMessage(b))
  t.is(store.pending.get(messageId(unknown)), undefined)
  t.true(isKnown(store, messageId(a)))
  t.false(isKnown(store, messageId(unknown)))
})

test('appending a message already pending answers pending and does not duplicate it', t => {
  const store = openStore(t)
  const [a, b, c] = makeMessages(3)
  store.appendPending(pendingOf([a, b]))
  t.deepEqual(store.appendPending(pendingOf([b, c, a])), ['pending', 'added', 'pending'])
  t.is(store.pending.count(), 3)
  t.deepEqual(store.pending.takeOldest(10).map(e => toHex(e.id)), ids([a, b, c]), 'the first arrival keeps its place')
})

test('the same message twice in one batch is added once', t => {
  const store = openStore(t)
  const [a, b] = makeMessages(2)
  t.deepEqual(store.appendPending(pendingOf([a, b, a])), ['added', 'added', 'pending'])
  t.is(store.pending.count(), 2)
  t.deepEqual(store.pending.takeOldest(10).map(e => toHex(e.id)), ids([a, b]))
})

test('appending a message already included answers included and does not make it pending', t => {
  const store = openStore(t)
  const [block1] = makeChain(1, { messagesPerBlock: 2 })
  store.commitBlock(commitOf(block1))
  const [fresh] = makeMessages(1, { nonceStart: 100 })

  t.deepEqual(store.appendPending(pendingOf([...block1.block.messages, fresh])), ['included', 'included', 'added'])
  t.is(store.pending.count(), 1)
  t.false(store.pending.contains(block1.messageIds[0]))
  t.deepEqual(store.pending.takeOldest(10).map(e => toHex(e.id)), ids([fresh]))
})

test('messages appended after a block removed some from the middle still queue behind the rest', t => {
  const store = openStore(t)
  const [block1] = makeChain(1, { messagesPerBlock: 2 })
  const [x, y, z] = makeMessages(3, { nonceStart: 100 })
  store.appendPending(pendingOf([x, block1.block.messages[0], y, block1.block.messages[1]]))
  store.commitBlock(commitOf(block1))
  store.appendPending(pendingOf([z]))

  t.is(store.pending.count(), 3)
  t.deepEqual(store.pending.takeOldest(10).map(e => toHex(e.id)), ids([x, y, z]))
  t.deepEqual(store.pending.takeOldest(2).map(e => toHex(e.id)), ids([x, y]))
})

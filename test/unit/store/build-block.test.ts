// The producer's build (src/workers/build-block.ts) on a real store: a block spliced from the
// pending messages' stored bytes (byte-identical to encodeBlock when they are msgpackr's, the
// bytes as admitted otherwise), committed with their places, and a pending entry that no longer
// decodes removed in the same transaction and reported instead of blocking the queue forever.
import '../../../src/shared/polyfill.js'
import test, { type ExecutionContext } from 'ava'
import { GENESIS_HASH } from '../../../src/shared/block.js'
import { toHex } from '../../../src/shared/bytes.js'
import { decodeBlock, encodeBlock, encodeMessage } from '../../../src/shared/codec.js'
import { messageId } from '../../../src/shared/hash.js'
import { DEFAULT_PARAMS } from '../../../src/shared/params.js'
import { pendingBatchValue, pendingQueueKey, readPendingBatch } from '../../../src/shared/store/keys.js'
import type { BuildBlockOutput } from '../../../src/shared/thread-contract.js'
import type { Message } from '../../../src/shared/types.js'
import { validateBlock } from '../../../src/shared/validation.js'
import { buildBlock } from '../../../src/workers/build-block.js'
import { BASE_TIMESTAMP, leaderKey, makeMessages } from '../../helpers/fixtures.js'
import { appendBatch, appendAll, editRawStore, openStore, pendingOf } from '../../helpers/store-fixtures.js'
import { tempDir } from '../../helpers/temp-dir.js'

type Built = Extract<BuildBlockOutput, { ok: true }>

function build (store: Parameters<typeof buildBlock>[0], maxMessages = DEFAULT_PARAMS.maxBlockMessages): Built {
  const out = buildBlock(store, leaderKey, DEFAULT_PARAMS, BASE_TIMESTAMP + 10_000, maxMessages)
  if (!out.ok) throw new Error(`build failed: ${out.code} ${out.reason}`)
  return out
}

function decodedMessages (built: Built): Message[] {
  const decoded = decodeBlock(new Uint8Array(built.block))
  if (!decoded.ok) throw new Error(decoded.reason)
  return decoded.value.messages
}

test('a built block is encodeBlock\'s bytes for 0, 1, 15, 16 and 10,000 pending messages, valid, and stored with each message\'s place', t => {
  for (const n of [0, 1, 15, 16, 10_000]) {
    const store = openStore(t)
    const messages = makeMessages(n, { contentBytes: 100 })
    if (n > 0) appendAll(store, messages)
    const built = build(store)
    const bytes = new Uint8Array(built.block)
    const decoded = decodeBlock(bytes)
    if (!decoded.ok) return t.fail(decoded.reason)
    t.true(Buffer.from(bytes).equals(Buffer.from(encodeBlock(decoded.value))), `${n}: byte-identical to encodeBlock`)
    t.is(built.messageCount, n)
    t.deepEqual(built.dropped, [])
    const verdict = validateBlock(decoded.value, bytes.byteLength, { height: 0, hash: GENESIS_HASH, timestamp: 0 }, { params: DEFAULT_PARAMS, leaderKey: leaderKey.publicKey, now: BASE_TIMESTAMP + 10_000 }, () => false)
    t.true(verdict.ok, `${n}: valid against genesis`)
    t.true(Buffer.from(store.blocks.getEncoded(1) ?? []).equals(Buffer.from(bytes)), `${n}: stored as built`)
    t.is(store.pending.count(), 0)
    for (const i of [0, Math.floor(n / 2), n - 1].filter(i => i >= 0 && i < n)) {
      t.deepEqual(store.message(messageId(messages[i])), { encoded: encodeMessage(messages[i]), height: 1, index: i }, `${n}: message ${i}`)
    }
  }
})

test('pending messages go into the block as the bytes they were admitted in, not re-encoded', t => {
  const store = openStore(t)
  const messages = makeMessages(3, { contentBytes: 20 })
  // The second arrived with its timestamp as a uint64, where msgpackr writes a float64: both are SPEC 5.
  const admitted = messages.map(encodeMessage)
  admitted[1] = new Uint8Array(admitted[1])
  admitted[1][35] = 0xcf
  new DataView(admitted[1].buffer).setBigUint64(36, BigInt(messages[1].timestamp))
  t.true(appendBatch(store, messages.map((m, i) => ({ id: messageId(m), encoded: admitted[i] })), { maxPending: 10 }).ok)
  const built = build(store)
  const bytes = new Uint8Array(built.block)
  t.true(Buffer.from(bytes).includes(Buffer.from(admitted[1])), 'the block holds the admitted bytes')
  t.deepEqual(decodedMessages(built).map(m => toHex(messageId(m))), messages.map(m => toHex(messageId(m))))
  t.deepEqual(store.message(messageId(messages[1]))?.encoded, admitted[1])
})

/** A store in a fresh data dir with `messages` pending in one batch, closed for raw edits. */
async function closedStoreWith (t: ExecutionContext, messages: readonly Message[]): Promise<string> {
  const dataDir = tempDir(t)
  const store = openStore(t, dataDir)
  appendAll(store, messages)
  await store.stop()
  return dataDir
}

test('a pending entry that does not decode is removed in the build\'s transaction and reported; the queue moves on', async t => {
  const messages = makeMessages(4, { nonceStart: 10 })
  const dataDir = await closedStoreWith(t, messages)
  // Damage the second message's bytes inside its batch (sequence 0), and add a batch whose bytes
  // frame no entry (sequence 1).
  await editRawStore(dataDir, ({ pending, metadata }) => {
    const value = pending.getBinary(pendingQueueKey(0))
    if (value === undefined) throw new Error('no batch 0')
    const entries = readPendingBatch(new Uint8Array(value)).entries
    t.is(entries.length, 4, 'one batch holds the four messages')
    entries[1] = { id: entries[1].id, encoded: Uint8Array.from([0x95, 0xc0]) }
    pending.putSync(pendingQueueKey(0), pendingBatchValue(entries))
    pending.putSync(pendingQueueKey(1), Buffer.from([1, 2, 3]))
    metadata.putSync('pendingCount', 5)
    metadata.putSync('pendingNextSeq', 2)
  })
  const store = openStore(t, dataDir)
  t.is(store.pending.count(), 5)

  const built = build(store)
  t.is(built.messageCount, 3)
  t.deepEqual(decodedMessages(built).map(m => toHex(messageId(m))), [messages[0], messages[2], messages[3]].map(m => toHex(messageId(m))))
  t.is(built.dropped.length, 2)
  t.is(built.dropped[0].id, toHex(messageId(messages[1])))
  t.regex(built.dropped[0].reason, /message/)
  t.regex(built.dropped[1].reason, /frame no whole entry/)
  t.is(store.pending.count(), 0)
  t.deepEqual(store.pending.takeOldest(10), [])
  t.is(store.pending.get(messageId(messages[1])), undefined)
  t.false(store.messages.has(messageId(messages[1])), 'the damaged message is in no block')

  // The next build finds nothing left over; the damaged message can be admitted again.
  const next = build(store)
  t.is(next.messageCount, 0)
  t.deepEqual(next.dropped, [])
  t.true(appendBatch(store, pendingOf([messages[1]]), { maxPending: 10 }).ok)
  t.is(build(store).messageCount, 1)
})

test('a damaged store holding one pending message twice still builds a valid block: the second entry is dropped', async t => {
  const messages = makeMessages(3, { nonceStart: 60 })
  const dataDir = await closedStoreWith(t, messages)
  await editRawStore(dataDir, ({ pending }) => {
    const value = pending.getBinary(pendingQueueKey(0))
    if (value === undefined) throw new Error('no batch 0')
    const entries = readPendingBatch(new Uint8Array(value)).entries
    pending.putSync(pendingQueueKey(0), pendingBatchValue([...entries, entries[0]]))
  })
  const store = openStore(t, dataDir)
  const built = build(store)
  t.deepEqual(decodedMessages(built).map(m => toHex(messageId(m))), messages.map(m => toHex(messageId(m))))
  t.is(built.dropped.length, 1)
  t.regex(built.dropped[0].reason, /already in this block/)
  t.is(store.pending.count(), 0)
  t.deepEqual(store.pending.takeOldest(10), [])
})

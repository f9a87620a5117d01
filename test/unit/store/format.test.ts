// The store's format version (metadata `formatVersion`): a new store records the current one, a
// store of a version this code does not know is refused (ERR_STORE_FORMAT), and a store made
// before versions were recorded (format 0, each message stored again in `messages`) is migrated
// in place when the main thread opens it.
import '../../../src/shared/polyfill.js'
import test, { type ExecutionContext } from 'ava'
import { signBlockHeader } from '../../../src/shared/block.js'
import { toHex } from '../../../src/shared/bytes.js'
import { decodeBlock, encodeMessage, messageOffsetsIn, spliceBlock } from '../../../src/shared/codec.js'
import { KimuraError } from '../../../src/shared/errors.js'
import { messageId } from '../../../src/shared/hash.js'
import { ChainStore, STORE_FORMAT_VERSION, type BlockCommit } from '../../../src/shared/store/index.js'
import type { Message } from '../../../src/shared/types.js'
import { leaderKey, makeChain, makeMessages } from '../../helpers/fixtures.js'
import { appendAll, commitOf, downgradeToFormat0, downgradeToFormat1, downgradeToFormat2, downgradeToFormat3, editRawStore, openStore, snapshot } from '../../helpers/store-fixtures.js'
import { tempDir } from '../../helpers/temp-dir.js'

const formatError = { instanceOf: KimuraError, code: 'ERR_STORE_FORMAT' }

/** The raw `formatVersion` of the closed store in `dataDir`. */
async function recordedVersion (dataDir: string): Promise<unknown> {
  let version: unknown
  await editRawStore(dataDir, ({ metadata }) => { version = metadata.get('formatVersion') })
  return version
}

/** A message in another valid encoding than msgpackr's: its timestamp as a uint64, not a float64 (SPEC 5 allows both). */
function uint64Timestamp (message: Message): Uint8Array {
  const canonical = encodeMessage(message)
  // fixarray(5), bin8 of 32 (34 bytes), then the timestamp: msgpackr writes a float64 above 2^32.
  if (canonical[35] !== 0xcb) throw new Error('fixture timestamp is not a float64')
  const out = new Uint8Array(canonical)
  out[35] = 0xcf
  new DataView(out.buffer).setBigUint64(36, BigInt(message.timestamp))
  return out
}

/** Block `height` on `prevHash`, holding `messages` in the given encodings. */
function blockOfEncodings (height: number, prevHash: Uint8Array, timestamp: number, messages: Message[], encodings: Uint8Array[]): BlockCommit {
  const messageIds = messages.map(messageId)
  const { header, hash } = signBlockHeader(leaderKey, { height, timestamp, prevHash, messageIds })
  const { encoded, messageOffsets } = spliceBlock(header, encodings)
  return { height, timestamp, prevHash, hash, encodedBlock: encoded, messageIds, messageOffsets }
}

test('a new store records the current format version; reopening it migrates nothing', async t => {
  const dataDir = tempDir(t)
  const store = new ChainStore({ dataDir, initialize: true })
  t.deepEqual(store.start(), { formatVersion: STORE_FORMAT_VERSION, created: true })
  t.is(store.metadata.getFormatVersion(), STORE_FORMAT_VERSION)
  await store.stop()
  t.is(await recordedVersion(dataDir), 4)
  const again = new ChainStore({ dataDir, initialize: true })
  t.deepEqual(again.start(), { formatVersion: 4, created: false })
  await again.stop()
  const worker = new ChainStore({ dataDir, initialize: false })
  t.deepEqual(worker.start(), { formatVersion: 4, created: false })
  await worker.stop()
})

test('a store of a format this code does not know is refused with both versions named, and left as it is', async t => {
  const dataDir = tempDir(t)
  const store = ChainStore.open({ dataDir, initialize: true })
  store.commitBlocks(makeChain(2).map(commitOf))
  await store.stop()
  await editRawStore(dataDir, ({ metadata }) => { metadata.putSync('formatVersion', 7) })
  for (const initialize of [true, false]) {
    const err = t.throws(() => ChainStore.open({ dataDir, initialize }), formatError, `initialize: ${String(initialize)}`)
    t.regex(err?.message ?? '', /format version 7/)
    t.regex(err?.message ?? '', /supports format 4/)
    t.like(err?.details, { formatVersion: 7, supported: 4 })
  }
  t.is(await recordedVersion(dataDir), 7)
})

test('a format 0 store is migrated in place on open: every message is found in its block, pending is kept', async t => {
  const dataDir = tempDir(t)
  const chain = makeChain(3, { messagesPerBlock: 4 })
  // Block 4 carries messages in another valid encoding than the one format 0 kept in `messages`
  // (nodes before "stored as received" re-encoded them): the block's bytes are what counts.
  const odd = makeMessages(2, { nonceStart: 900, contentBytes: 30 })
  const block4 = blockOfEncodings(4, chain[2].hash, chain[2].block.header.timestamp + 1, odd, odd.map(uint64Timestamp))
  const waiting = makeMessages(3, { nonceStart: 950 })
  const store = ChainStore.open({ dataDir, initialize: true })
  store.commitBlocks([...chain.map(commitOf), block4])
  appendAll(store, waiting)
  const probe = [...chain.flatMap(b => b.block.messages), ...odd, ...waiting]
  const before = snapshot(store, probe)
  await store.stop()
  await downgradeToFormat0(dataDir, id => {
    const i = odd.findIndex(m => toHex(messageId(m)) === toHex(id))
    return i < 0 ? undefined : encodeMessage(odd[i])
  })
  t.is(await recordedVersion(dataDir), undefined, 'format 0 has no version record')

  // Workers (initialize: false) never migrate: only the main thread does, before they open.
  t.throws(() => ChainStore.open({ dataDir, initialize: false }), formatError)

  const migrated = new ChainStore({ dataDir, initialize: true })
  const info = migrated.start()
  t.teardown(async () => { await migrated.stop() })
  t.is(info.formatVersion, 4)
  t.like(info.migration, { from: 0, to: 4, blocks: 4, messages: 14, pending: 3 })
  t.true((info.migration?.ms ?? -1) >= 0)
  t.log(`migrated ${info.migration?.messages} messages in ${info.migration?.ms.toFixed(1)} ms`)
  t.is(migrated.metadata.getFormatVersion(), 4)
  t.deepEqual(snapshot(migrated, probe), before)
  for (const built of chain) {
    built.block.messages.forEach((m, index) => {
      t.deepEqual(migrated.message(messageId(m)), { encoded: encodeMessage(m), height: built.block.header.height, index })
    })
  }
  const raw: Uint8Array[] = []
  t.true(decodeBlock(block4.encodedBlock, raw).ok)
  const offsets = messageOffsetsIn(block4.encodedBlock, raw)
  odd.forEach((m, index) => {
    const found = migrated.message(messageId(m))
    t.is(toHex(found?.encoded ?? new Uint8Array(0)), toHex(uint64Timestamp(m)), 'the bytes of the block, not of the old messages entry')
    t.is(found?.index, index)
    t.is(found?.encoded.byteLength, offsets[2 * index + 1])
  })
  t.deepEqual(migrated.pending.takeOldest(10).map(e => toHex(e.id)), waiting.map(m => toHex(messageId(m))))
  await migrated.stop()

  const reopened = new ChainStore({ dataDir, initialize: true })
  t.deepEqual(reopened.start(), { formatVersion: 4, created: false }, 'migrated once')
  await reopened.stop()
})

test('a format 0 store holding only genesis is migrated too', async t => {
  const dataDir = tempDir(t)
  await ChainStore.open({ dataDir, initialize: true }).stop()
  await downgradeToFormat0(dataDir)
  const store = new ChainStore({ dataDir, initialize: true })
  t.like(store.start().migration, { from: 0, to: 4, blocks: 0, messages: 0, pending: 0 })
  await store.stop()
  t.is(await recordedVersion(dataDir), 4)
})

test('a format 0 store whose messages do not match its blocks is refused as corrupt and left at format 0', async t => {
  const dataDir = tempDir(t)
  const store = ChainStore.open({ dataDir, initialize: true })
  store.commitBlocks(makeChain(2).map(commitOf))
  await store.stop()
  await downgradeToFormat0(dataDir)
  // An entry no block holds.
  await editRawStore(dataDir, ({ messages }) => { messages.putSync(Buffer.alloc(32, 0xee), Buffer.alloc(40)) })
  t.throws(() => ChainStore.open({ dataDir, initialize: true }), { instanceOf: KimuraError, code: 'ERR_STORE_CORRUPT' })
  t.is(await recordedVersion(dataDir), undefined)
  let oldLayout = 0
  await editRawStore(dataDir, ({ messages }) => { for (const { value } of messages.getRange()) if (value.byteLength !== 20) oldLayout++ })
  t.is(oldLayout, 5, 'no value was rewritten')
})

test('a message\'s place is its block, its index and its bytes there: `messages` holds 20 bytes per message', async t => {
  const dataDir = tempDir(t)
  const store = openStore(t, dataDir)
  const [block1] = makeChain(1, { messagesPerBlock: 3, contentBytes: 500 })
  store.commitBlock(commitOf(block1))
  const places = block1.messageIds.map(id => store.messages.get(id))
  t.deepEqual(places.map(p => p?.index), [0, 1, 2])
  t.true(places.every(p => p?.height === 1))
  const encoded = store.blocks.getEncoded(1) ?? new Uint8Array(0)
  places.forEach((p, i) => {
    t.is(toHex(encoded.subarray(p?.byteOffset ?? 0, (p?.byteOffset ?? 0) + (p?.byteLength ?? 0))), toHex(encodeMessage(block1.block.messages[i])))
  })
  await store.stop()
  let sizes: number[] = []
  await editRawStore(dataDir, ({ messages }) => { sizes = Array.from(messages.getRange(), ({ value }) => value.byteLength) })
  t.deepEqual(sizes, [20, 20, 20])
})

/** A closed store of 2 blocks of 3 messages with `waiting` appended in two batches (split at `split`), and what it answered. */
async function closedStoreWithPending (t: ExecutionContext, waiting: Message[], split: number): Promise<{ dataDir: string, chain: ReturnType<typeof makeChain>, probe: Message[], before: ReturnType<typeof snapshot> }> {
  const dataDir = tempDir(t)
  const chain = makeChain(2, { messagesPerBlock: 3 })
  const store = ChainStore.open({ dataDir, initialize: true })
  store.commitBlocks(chain.map(commitOf))
  appendAll(store, waiting.slice(0, split))
  appendAll(store, waiting.slice(split))
  const probe = [...chain.flatMap(b => b.block.messages), ...waiting]
  const before = snapshot(store, probe)
  await store.stop()
  return { dataDir, chain, probe, before }
}

test('a format 1 store is migrated in place on open: pending keeps its order, count and bytes, and is built from as before', async t => {
  const waiting = makeMessages(7, { nonceStart: 700 }).reverse()
  const { dataDir, chain, probe, before } = await closedStoreWithPending(t, waiting, 4)
  await downgradeToFormat1(dataDir)
  t.is(await recordedVersion(dataDir), 1)
  t.throws(() => ChainStore.open({ dataDir, initialize: false }), formatError)

  const migrated = new ChainStore({ dataDir, initialize: true })
  const info = migrated.start()
  t.teardown(async () => { await migrated.stop() })
  t.like(info.migration, { from: 1, to: 4, blocks: 0, messages: 0, pending: 7 })
  t.deepEqual(snapshot(migrated, probe), before)
  t.is(migrated.pending.count(), 7)
  t.deepEqual(migrated.pending.takeOldest(10).map(e => toHex(e.id)), waiting.map(m => toHex(messageId(m))))
  for (const m of waiting) t.deepEqual(migrated.pending.get(messageId(m)), encodeMessage(m))
  t.deepEqual(appendAll(migrated, [waiting[2], chain[0].block.messages[0]]), ['pending', 'included'])
  await migrated.stop()

  t.deepEqual(await rawLayout(dataDir), { batches: 7, index: 0, messagesValueSizes: [20, 20, 20, 20, 20, 20] }, 'each of format 1\'s queue entries became a batch of one, and its index entry went')
})

/** What the closed store in `dataDir` holds: `pending`'s batches and index entries, and the sizes of `messages`' values. */
async function rawLayout (dataDir: string): Promise<{ batches: number, index: number, messagesValueSizes: number[] }> {
  let layout = { batches: -1, index: -1, messagesValueSizes: [] as number[] }
  await editRawStore(dataDir, ({ pending, messages }) => {
    const keys = Array.from(pending.getKeys())
    layout = {
      batches: keys.filter(k => k[0] === 0x00).length,
      index: keys.filter(k => k[0] === 0x01).length,
      messagesValueSizes: Array.from(messages.getRange(), ({ value }) => value.byteLength).sort((a, b) => a - b)
    }
  })
  return layout
}

test('a format 2 store is migrated in place on open: each pending pointer leaves `messages`, and pending reads as before', async t => {
  const waiting = makeMessages(5, { nonceStart: 800 })
  const { dataDir, chain, probe, before } = await closedStoreWithPending(t, waiting, 2)
  await downgradeToFormat2(dataDir)
  t.is(await recordedVersion(dataDir), 2)
  t.deepEqual(await rawLayout(dataDir), { batches: 2, index: 0, messagesValueSizes: [8, 8, 8, 8, 8, 20, 20, 20, 20, 20, 20] }, 'format 2: pointers in `messages`')
  t.throws(() => ChainStore.open({ dataDir, initialize: false }), formatError)

  const migrated = new ChainStore({ dataDir, initialize: true })
  t.like(migrated.start().migration, { from: 2, to: 4, blocks: 0, messages: 0, pending: 5 })
  t.deepEqual(snapshot(migrated, probe), before)
  t.deepEqual(migrated.pending.takeOldest(10).map(e => toHex(e.id)), waiting.map(m => toHex(messageId(m))))
  t.deepEqual(appendAll(migrated, [waiting[4], chain[1].block.messages[2]]), ['pending', 'included'])
  // A block of some of them removes them from pending as before.
  const included = [waiting[0], waiting[3]]
  migrated.commitBlock(blockOfEncodings(3, migrated.tip().hash, migrated.tip().timestamp, included, included.map(encodeMessage)))
  t.is(migrated.pending.count(), 3)
  t.deepEqual(migrated.pending.takeOldest(10).map(e => toHex(e.id)), [waiting[1], waiting[2], waiting[4]].map(m => toHex(messageId(m))))
  await migrated.stop()
  t.is(await recordedVersion(dataDir), 4)
  t.deepEqual(await rawLayout(dataDir), { batches: 2, index: 0, messagesValueSizes: [20, 20, 20, 20, 20, 20, 20, 20] })
})

test('a format 3 store is migrated in place on open: the index entries go, and pending reads, admits and includes as before', async t => {
  const waiting = makeMessages(6, { nonceStart: 850 })
  const { dataDir, chain, probe, before } = await closedStoreWithPending(t, waiting, 4)
  await downgradeToFormat3(dataDir)
  t.deepEqual(await rawLayout(dataDir), { batches: 2, index: 6, messagesValueSizes: [20, 20, 20, 20, 20, 20] }, 'format 3: an index entry per pending message')
  t.throws(() => ChainStore.open({ dataDir, initialize: false }), formatError)

  const migrated = new ChainStore({ dataDir, initialize: true })
  t.like(migrated.start().migration, { from: 3, to: 4, blocks: 0, messages: 0, pending: 6 })
  t.deepEqual(snapshot(migrated, probe), before)
  t.deepEqual(appendAll(migrated, [waiting[5], chain[0].block.messages[1]]), ['pending', 'included'])
  const included = [waiting[1], waiting[4]]
  migrated.commitBlock(blockOfEncodings(3, migrated.tip().hash, migrated.tip().timestamp, included, included.map(encodeMessage)))
  t.is(migrated.pending.count(), 4)
  t.is(migrated.pending.get(messageId(waiting[1])), undefined)
  t.deepEqual(migrated.pending.takeOldest(10).map(e => toHex(e.id)), [waiting[0], waiting[2], waiting[3], waiting[5]].map(m => toHex(messageId(m))))
  await migrated.stop()
  t.is(await recordedVersion(dataDir), 4)
  t.deepEqual(await rawLayout(dataDir), { batches: 2, index: 0, messagesValueSizes: [20, 20, 20, 20, 20, 20, 20, 20] })
})

test('format 4 layout: one pending entry per admitted batch and no index entry; `messages` holds only the places a block writes', async t => {
  const dataDir = tempDir(t)
  const store = openStore(t, dataDir)
  const messages = makeMessages(5, { nonceStart: 40 })
  appendAll(store, messages.slice(0, 3))
  appendAll(store, messages.slice(3))
  await store.stop()
  t.deepEqual(await rawLayout(dataDir), { batches: 2, index: 0, messagesValueSizes: [] })

  const reopened = openStore(t, dataDir)
  const [block] = makeChain(1)
  // A block from elsewhere holding messages of both batches: each batch keeps its other message.
  const included = [messages[0], messages[1], messages[3]]
  reopened.commitBlock(blockOfEncodings(1, block.block.header.prevHash, block.block.header.timestamp, included, included.map(encodeMessage)))
  t.is(reopened.pending.count(), 2)
  t.deepEqual(reopened.pending.takeOldest(10).map(e => toHex(e.id)), [messages[2], messages[4]].map(m => toHex(messageId(m))))
  // Once the rest is included, both batches go.
  const rest = [messages[2], messages[4]]
  reopened.commitBlock(blockOfEncodings(2, reopened.tip().hash, reopened.tip().timestamp, rest, rest.map(encodeMessage)))
  t.is(reopened.pending.count(), 0)
  await reopened.stop()
  t.deepEqual(await rawLayout(dataDir), { batches: 0, index: 0, messagesValueSizes: [20, 20, 20, 20, 20] }, 'a batch goes once a block holds its last pending message')
})

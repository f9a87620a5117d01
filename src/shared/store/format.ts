// The store's format version (recorded in `metadata` as `formatVersion`) and the migrations
// from older formats. A store without the record was made before versions were recorded:
// format 0. Migrations run on open by the main thread (initialize: true), in one transaction.
//
// Format 0: a `messages` value is u64be(height) || u32be(index) || the encoded Message, so
//           every included message is stored twice, in its block and here.
// Format 1: a `messages` value is the message's place, u64be(height) || u32be(index) ||
//           u32be(byteOffset) || u32be(byteLength) of its bytes inside the stored block.
//           `pending` holds one queue entry per message (0x00 || u64be(seq) -> id || encoded)
//           and an index entry (0x01 || id -> u64be(seq)).
// Format 2: `pending` holds one entry per admitted batch (0x00 || u64be(seq) -> per message
//           id || u32be(length) || encoded), and a pending message's `messages` value is
//           u64be(seq), its batch, until a block's place overwrites it: an admission writes
//           one entry per batch plus one per message, and a block removes a message from
//           `pending` by writing its place (format 1 wrote two entries per message at
//           admission and removed two more at inclusion).
// Format 3: as format 2, but a pending message's pointer to its batch is an index entry in
//           `pending` (0x01 || id -> u64be(seq)) and `messages` holds places only. `messages`
//           grows with the chain, and a write to a random key of a big tree dirties a page of
//           its own: the pointer's write at admission and its overwrite at inclusion moved into
//           a tree that holds only what is pending.
// Format 4: as format 3 without the index entries: `pending` holds the batches only, and a
//           thread builds its index of them in memory (PendingPool). Metadata's
//           `pendingGeneration` counts the transactions that changed `pending`, so that a thread
//           knows when its index is out of date.
import { messageOffsetsIn, decodeBlock } from '../codec.js'
import { KimuraError } from '../errors.js'
import { messageId } from '../hash.js'
import type { BinaryDb } from './databases.js'
import { toHex } from '../bytes.js'
import { HASH_BYTES as ID_BYTES } from '../params.js'
import { PENDING_INDEX_END, PENDING_INDEX_START, PENDING_POINTER_BYTES, PENDING_QUEUE_END, PENDING_QUEUE_START, messagePlaceValue, pendingBatchValue, pendingIndexKey, readPendingBatch, readU64BE, u64be } from './keys.js'

/** The format this code writes, and the only one it reads without migrating. */
export const STORE_FORMAT_VERSION = 4

/** What a migration did, for the opener to log. */
export interface FormatMigration {
  from: number
  to: number
  blocks: number
  messages: number
  /** Pending messages whose entries the last step rewrote (1 to 2: into batches; 2 to 3 and 3 to 4: their pointers). */
  pending: number
  /** Wall time of the migration transaction, ms. */
  ms: number
}

export function unsupportedFormat (dataDir: string, version: number): KimuraError {
  return new KimuraError('ERR_STORE_FORMAT',
    `the store in ${dataDir} has format version ${version}; this Kimura supports format ${STORE_FORMAT_VERSION} (and migrates older ones): it was written by a newer Kimura, run that one`,
    { dataDir, formatVersion: version, supported: STORE_FORMAT_VERSION })
}

export function needsMigration (dataDir: string, version: number): KimuraError {
  return new KimuraError('ERR_STORE_FORMAT',
    `the store in ${dataDir} has format version ${version}; the node migrates it to format ${STORE_FORMAT_VERSION} when it opens it (initialize), which has not happened`,
    { dataDir, formatVersion: version, supported: STORE_FORMAT_VERSION })
}

function corrupt (from: number, why: string): never {
  throw new KimuraError('ERR_STORE_CORRUPT', `format ${from} to ${from + 1} migration: ${why}; the store was left as it was`)
}

/**
 * Migrates a store of format `from` to the current one, inside the caller's write transaction,
 * one step after another.
 */
export function migrateFormat (dbs: { blocks: BinaryDb, messages: BinaryDb, pending: BinaryDb }, from: number, tipHeight: number): Omit<FormatMigration, 'ms'> {
  const done = { from, to: STORE_FORMAT_VERSION, blocks: 0, messages: 0, pending: 0 }
  if (from === 0) Object.assign(done, migrateFormat0(dbs, tipHeight))
  if (from <= 1) migrateFormat1(dbs)
  if (from <= 2) migrateFormat2(dbs)
  // Format 3 to 4: the index entries go; the batches hold every pending message's id.
  done.pending = removeIndexEntries(dbs)
  return done
}

/**
 * Format 0 to 1, inside the caller's write transaction: every `messages` value becomes its
 * place, found by decoding the blocks of heights 1 to `tipHeight` with the strict decoder.
 * Each id is recomputed from the block (a block is the record; `messages` only indexes it),
 * and every entry of `messages` must be one of them.
 */
function migrateFormat0 (dbs: { blocks: BinaryDb, messages: BinaryDb }, tipHeight: number): { blocks: number, messages: number } {
  let messages = 0
  for (let height = 1; height <= tipHeight; height++) {
    const stored = dbs.blocks.getBinary(u64be(height))
    if (stored === undefined) corrupt(0, `block ${height} is missing`)
    const bytes = new Uint8Array(stored.buffer, stored.byteOffset, stored.byteLength)
    const raw: Uint8Array[] = []
    const decoded = decodeBlock(bytes, raw)
    if (!decoded.ok) corrupt(0, `block ${height} does not decode: ${decoded.reason}`)
    const offsets = messageOffsetsIn(bytes, raw)
    decoded.value.messages.forEach((message, index) => {
      const place = { height, index, byteOffset: offsets[2 * index], byteLength: offsets[2 * index + 1] }
      dbs.messages.putSync(Buffer.from(messageId(message)), messagePlaceValue(place))
    })
    messages += decoded.value.messages.length
  }
  // Ids are unique across the chain: as many entries as messages means each was rewritten.
  const entries = dbs.messages.getCount()
  if (entries !== messages) corrupt(0, `messages holds ${entries} entries but the blocks hold ${messages} messages`)
  return { blocks: tipHeight, messages }
}

/**
 * Format 1 to 2: each queue entry becomes a batch of its one message under the same sequence
 * (so arrival order and the counters stand), the message's index entry becomes its `messages`
 * pointer, and the index entries go. An entry too short to hold an id is kept as bytes that
 * frame no entry, for the producer to drop as before.
 */
function migrateFormat1 (dbs: { messages: BinaryDb, pending: BinaryDb }): number {
  const queue = Array.from(dbs.pending.getRange({ start: PENDING_QUEUE_START, end: PENDING_QUEUE_END }), ({ key, value }) => ({ key: Buffer.from(key), value: Buffer.from(value) }))
  for (const { key, value } of queue) {
    const seq = readU64BE(key, 1)
    if (value.byteLength < ID_BYTES) {
      dbs.pending.putSync(key, value)
      continue
    }
    const id = value.subarray(0, ID_BYTES)
    dbs.pending.putSync(key, pendingBatchValue([{ id, encoded: value.subarray(ID_BYTES) }]))
    const indexed = dbs.pending.getBinary(pendingIndexKey(id))
    if (indexed !== undefined && readU64BE(indexed, 0) === seq) {
      if (dbs.messages.doesExist(Buffer.from(id))) corrupt(1, `message ${toHex(id)} is both pending and included`)
      dbs.messages.putSync(Buffer.from(id), u64be(seq))
    }
  }
  removeIndexEntries(dbs)
  return queue.length
}

/**
 * Format 2 to 3: each pending message's pointer (an 8-byte `messages` value naming its batch)
 * leaves `messages` for an index entry in `pending`. Every pointer names a batch that holds its
 * message (format 2 rewrites a batch that loses one), so the batches find them all.
 */
function migrateFormat2 (dbs: { messages: BinaryDb, pending: BinaryDb }): number {
  const batches = Array.from(dbs.pending.getRange({ start: PENDING_QUEUE_START, end: PENDING_QUEUE_END }), ({ key, value }) => ({ seq: readU64BE(key, 1), value: new Uint8Array(value) }))
  let moved = 0
  for (const { seq, value } of batches) {
    for (const { id } of readPendingBatch(value).entries) {
      const pointer = dbs.messages.getBinary(Buffer.from(id))
      if (pointer?.byteLength !== PENDING_POINTER_BYTES || readU64BE(pointer, 0) !== seq) continue
      dbs.messages.removeSync(Buffer.from(id))
      dbs.pending.putSync(pendingIndexKey(id), u64be(seq))
      moved++
    }
  }
  return moved
}

/** Removes `pending`'s index entries (formats 1 and 3); answers how many there were. */
function removeIndexEntries (dbs: { pending: BinaryDb }): number {
  const indexKeys = Array.from(dbs.pending.getKeys({ start: PENDING_INDEX_START, end: PENDING_INDEX_END }), key => Buffer.from(key))
  for (const key of indexKeys) dbs.pending.removeSync(key)
  return indexKeys.length
}

// Key and value layouts of the four LMDB databases (SPEC section 6). Binary keys sort
// bytewise, so big-endian numbers keep arrival and height order.
import { writeU64BE } from '../bytes.js'
import { HASH_BYTES as ID_BYTES } from '../params.js'

/** `pending` keys: 0x00 || u64be(batch sequence), one entry per admitted batch (format 2 on). */
export const PENDING_QUEUE_PREFIX = 0x00
/**
 * `pending` keys: 0x01 || message id -> u64be(sequence), one per pending message (format 1: of
 * its queue entry; format 3: of its batch). Format 2 kept this pointer in `messages` instead;
 * format 4 keeps none (the index is in memory, PendingPool): only the migrations read these.
 */
export const PENDING_INDEX_PREFIX = 0x01

// Keys and values written per message come from Buffer.allocUnsafe's pool, whose `.buffer` is
// already outside V8's heap: a small Buffer.alloc lives on the heap, and the DataView over its
// `.buffer` would give it a backing store of its own, an allocation per message.

/** `value` as u64be at `offset` of `out` (a safe integer). */
function writeU64 (out: Buffer, offset: number, value: number): void {
  writeU64BE(new DataView(out.buffer, out.byteOffset, out.byteLength), offset, value)
}

/** Queue entry key: 0x00 || u64be(arrival sequence). */
export function pendingQueueKey (seq: number): Buffer {
  const key = Buffer.allocUnsafe(9)
  key[0] = PENDING_QUEUE_PREFIX
  writeU64(key, 1, seq)
  return key
}

export const PENDING_QUEUE_START = Buffer.from([PENDING_QUEUE_PREFIX])
export const PENDING_QUEUE_END = Buffer.from([PENDING_INDEX_PREFIX])
export const PENDING_INDEX_START = Buffer.from([PENDING_INDEX_PREFIX])
export const PENDING_INDEX_END = Buffer.from([PENDING_INDEX_PREFIX + 1])

/** Index entry key: 0x01 || message id. */
export function pendingIndexKey (id: Uint8Array): Buffer {
  const key = Buffer.allocUnsafe(1 + id.byteLength)
  key[0] = PENDING_INDEX_PREFIX
  key.set(id, 1)
  return key
}

export function readU64BE (bytes: Uint8Array, offset: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return view.getUint32(offset) * 0x1_0000_0000 + view.getUint32(offset + 4)
}

export function u64be (value: number): Buffer {
  const out = Buffer.allocUnsafe(8)
  writeU64(out, 0, value)
  return out
}

/** A message's place in the chain: its block, its index there, and where its bytes lie in the stored block. */
export interface MessagePlace {
  height: number
  index: number
  /** Offset and length of the encoded Message inside the stored block's bytes. */
  byteOffset: number
  byteLength: number
}

/** Bytes of a `messages` value in format 1. */
export const MESSAGE_PLACE_BYTES = 20

/** `messages` value (format 1): u64be(height) || u32be(index) || u32be(byteOffset) || u32be(byteLength). */
export function messagePlaceValue (place: MessagePlace): Buffer {
  const value = Buffer.allocUnsafe(MESSAGE_PLACE_BYTES)
  writeU64(value, 0, place.height)
  value.writeUInt32BE(place.index, 8)
  value.writeUInt32BE(place.byteOffset, 12)
  value.writeUInt32BE(place.byteLength, 16)
  return value
}

export function readMessagePlace (value: Uint8Array): MessagePlace {
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength)
  return { height: readU64BE(value, 0), index: view.getUint32(8), byteOffset: view.getUint32(12), byteLength: view.getUint32(16) }
}

/** Bytes of a pointer to a pending batch, u64be(batch sequence): an index entry's value (format 3), a `messages` value (format 2). */
export const PENDING_POINTER_BYTES = 8


/** One message of a pending batch: its id and its wire bytes. */
export interface BatchEntry {
  id: Uint8Array
  encoded: Uint8Array
}

/** `pending` value (format 2): per message, id (32) || u32be(length) || encoded Message. */
export function pendingBatchValue (entries: readonly BatchEntry[]): Buffer {
  let total = 0
  for (const { encoded } of entries) total += ID_BYTES + 4 + encoded.byteLength
  const value = Buffer.allocUnsafe(total)
  let at = 0
  for (const { id, encoded } of entries) {
    value.set(id, at)
    value.writeUInt32BE(encoded.byteLength, at + ID_BYTES)
    value.set(encoded, at + ID_BYTES + 4)
    at += ID_BYTES + 4 + encoded.byteLength
  }
  return value
}

/**
 * The entries of a pending batch, as views into `value`. Bytes that do not frame a whole entry
 * (a damaged store) end the batch as `unreadable`, for the producer to drop.
 */
export function readPendingBatch (value: Uint8Array): { entries: BatchEntry[], unreadable?: Uint8Array } {
  const entries: BatchEntry[] = []
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength)
  let at = 0
  while (at < value.byteLength) {
    const start = at + ID_BYTES + 4
    const length = start <= value.byteLength ? view.getUint32(at + ID_BYTES) : -1
    if (length < 0 || start + length > value.byteLength) return { entries, unreadable: value.subarray(at) }
    entries.push({ id: value.subarray(at, at + ID_BYTES), encoded: value.subarray(start, start + length) })
    at = start + length
  }
  return { entries }
}

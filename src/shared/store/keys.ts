// Key and value layouts of the four LMDB databases (SPEC section 6). Binary keys sort
// bytewise, so big-endian numbers keep arrival and height order.
import { writeU64BE } from '../bytes.js'

/** `pending` holds two kinds of entries, told apart by their first key byte. */
export const PENDING_QUEUE_PREFIX = 0x00
export const PENDING_INDEX_PREFIX = 0x01

/** Queue entry key: 0x00 || u64be(arrival sequence). */
export function pendingQueueKey (seq: number): Buffer {
  const key = Buffer.alloc(9)
  key[0] = PENDING_QUEUE_PREFIX
  writeU64BE(new DataView(key.buffer, key.byteOffset, 9), 1, seq)
  return key
}

/** Index entry key: 0x01 || message id; its value is the queue key's sequence as u64be. */
export function pendingIndexKey (id: Uint8Array): Buffer {
  const key = Buffer.alloc(1 + id.byteLength)
  key[0] = PENDING_INDEX_PREFIX
  key.set(id, 1)
  return key
}

export const PENDING_QUEUE_START = Buffer.from([PENDING_QUEUE_PREFIX])
export const PENDING_QUEUE_END = Buffer.from([PENDING_INDEX_PREFIX])

export function readU64BE (bytes: Uint8Array, offset: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return view.getUint32(offset) * 0x1_0000_0000 + view.getUint32(offset + 4)
}

export function u64be (value: number): Buffer {
  const out = Buffer.alloc(8)
  writeU64BE(new DataView(out.buffer, out.byteOffset, 8), 0, value)
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
  const value = Buffer.alloc(MESSAGE_PLACE_BYTES)
  writeU64BE(new DataView(value.buffer, value.byteOffset, MESSAGE_PLACE_BYTES), 0, place.height)
  value.writeUInt32BE(place.index, 8)
  value.writeUInt32BE(place.byteOffset, 12)
  value.writeUInt32BE(place.byteLength, 16)
  return value
}

export function readMessagePlace (value: Uint8Array): MessagePlace {
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength)
  return { height: readU64BE(value, 0), index: view.getUint32(8), byteOffset: view.getUint32(12), byteLength: view.getUint32(16) }
}

/** `pending` queue value: message id (32) || encoded Message. */
export function pendingValue (id: Uint8Array, encoded: Uint8Array): Buffer {
  const value = Buffer.alloc(32 + encoded.byteLength)
  value.set(id, 0)
  value.set(encoded, 32)
  return value
}

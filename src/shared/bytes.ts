// Byte helpers shared by every layer. Pure, no I/O.

/** V8 keeps a typed array of at most this many bytes on its own heap (V8_TYPED_ARRAY_MAX_SIZE_IN_HEAP). */
const ON_HEAP_MAX_BYTES = 64

/**
 * A Buffer to read `bytes` through. An id or a key made by `new Uint8Array(32)` lives on V8's
 * heap, and reading its `.buffer` moves it to a backing store of its own: a malloc and about
 * 0.8 us, once per message in every hot path. Arrays that small are copied from Buffer's pool
 * instead (about 0.1 us); larger ones are viewed in place.
 */
export function bufferOf (bytes: Uint8Array): Buffer {
  if (Buffer.isBuffer(bytes)) return bytes
  return bytes.byteLength <= ON_HEAP_MAX_BYTES ? Buffer.from(bytes) : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

export function toHex (bytes: Uint8Array): string {
  return bufferOf(bytes).toString('hex')
}

// Hex in: the client's decoder, which needs no Buffer (src/client/hex.ts).
export { fromHex, hexByteLength, writeHex } from '../client/hex.js'

/** Where bytesKey copies a small array to read it as a string (this thread's own). */
const keyScratch = Buffer.allocUnsafeSlow(ON_HEAP_MAX_BYTES)

/**
 * A string with the same identity as the bytes, for Set and Map keys (one char per byte). A
 * small array (an id) is read through a scratch Buffer: bufferOf's copy is a Buffer object
 * made and dropped per key, and a node makes two or three keys for every message.
 */
export function bytesKey (bytes: Uint8Array): string {
  if (Buffer.isBuffer(bytes) || bytes.byteLength > ON_HEAP_MAX_BYTES) return bufferOf(bytes).toString('latin1')
  keyScratch.set(bytes)
  return keyScratch.toString('latin1', 0, bytes.byteLength)
}

export function bytesEqual (a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && bufferOf(a).equals(bufferOf(b))
}

/** Writes `value` (a safe integer) as u64 big-endian at `offset`. */
export function writeU64BE (view: DataView, offset: number, value: number): void {
  view.setUint32(offset, Math.floor(value / 0x1_0000_0000))
  view.setUint32(offset + 4, value >>> 0)
}

/** A standalone copy whose `.buffer` holds exactly these bytes (safe to transfer). */
export function copyBytes (bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))
}

/** An ArrayBuffer holding exactly these bytes, copied unless `bytes` already spans its whole buffer. */
export function toTransferable (bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) {
    return bytes.buffer
  }
  return copyBytes(bytes).buffer as ArrayBuffer
}

export function isSafeUint (value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

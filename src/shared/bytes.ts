// Byte helpers shared by every layer. Pure, no I/O.

const HEX_RE = /^[0-9a-fA-F]*$/

export function toHex (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** Parses hex of either case; returns undefined when the text is not hex of `length` bytes. */
export function fromHex (text: string, length?: number): Uint8Array | undefined {
  if (text.length % 2 !== 0 || !HEX_RE.test(text)) return undefined
  if (length !== undefined && text.length !== length * 2) return undefined
  return new Uint8Array(Buffer.from(text, 'hex'))
}

/** A string with the same identity as the bytes, for Set and Map keys (one char per byte). */
export function bytesKey (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
}

export function bytesEqual (a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength &&
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
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

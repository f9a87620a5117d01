// The wire codec of SPEC section 5. msgpackr encodes; untrusted bytes go through the strict
// decoder below, because a general MessagePack decoder accepts more than the protocol allows
// (strings, float32, extension types, trailing bytes, unsafe integers). The decoder returns a
// result naming what is wrong and never throws; decoded binaries are views into the input.
import { Packr } from 'msgpackr'
import { copyBytes } from './bytes.js'
import { BLOCK_FORMAT_VERSION, HASH_BYTES, PUBLIC_KEY_BYTES, SIGNATURE_BYTES } from './params.js'
import { fail, ok, type Result } from './result.js'
import type { Block, BlockHeader, Message } from './types.js'

export type DecodeCode = 'MALFORMED'
export type DecodeResult<T> = Result<T, DecodeCode>

// Plain arrays and binaries only: no records, no extensions, no bundled strings.
const packr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false, variableMapSize: true })

type WireMessage = [Uint8Array, number, number, Uint8Array, Uint8Array]
type WireHeader = [number, number, Uint8Array, Uint8Array, Uint8Array, Uint8Array]

function messageToWire (m: Message): WireMessage {
  return [m.sender, m.timestamp, m.nonce, m.content, m.signature]
}

function headerToWire (h: BlockHeader): WireHeader {
  return [h.height, h.timestamp, h.prevHash, h.messageRoot, h.proposer, h.signature]
}

/** Encodes a Message; the result owns its buffer (msgpackr's own output shares one). */
export function encodeMessage (message: Message): Uint8Array {
  return copyBytes(packr.pack(messageToWire(message)))
}

/** Encodes a Block; the result owns its buffer, so its `.buffer` can be transferred. */
export function encodeBlock (block: Block): Uint8Array {
  return copyBytes(packr.pack([BLOCK_FORMAT_VERSION, headerToWire(block.header), block.messages.map(messageToWire)]))
}

/** Bytes of a MessagePack array header for `n` elements (fixarray, array16 or array32, as msgpackr writes). */
function arrayHeaderBytes (n: number): number {
  return n <= 15 ? 1 : n <= 0xffff ? 3 : 5
}

function writeArrayHeader (out: Uint8Array, offset: number, n: number): number {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength)
  if (n <= 15) out[offset] = 0x90 | n
  else if (n <= 0xffff) { out[offset] = 0xdc; view.setUint16(offset + 1, n) } else { out[offset] = 0xdd; view.setUint32(offset + 1, n) }
  return offset + arrayHeaderBytes(n)
}

/** Copies `parts` into `out` from `offset`; when `offsets` is given, records each part's offset and length there. */
function writeParts (out: Uint8Array, offset: number, parts: readonly Uint8Array[], offsets?: Uint32Array): void {
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]
    out.set(part, offset)
    if (offsets !== undefined) {
      offsets[2 * i] = offset
      offsets[2 * i + 1] = part.byteLength
    }
    offset += part.byteLength
  }
}

function totalBytes (parts: readonly Uint8Array[]): number {
  let total = 0
  for (const part of parts) total += part.byteLength
  return total
}

/**
 * A MessagePack array of already encoded Messages, each one complete value: the bytes msgpackr
 * gives for the array of the decoded messages, without decoding and encoding them again.
 */
export function joinEncodedMessages (parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(arrayHeaderBytes(parts.length) + totalBytes(parts))
  writeParts(out, writeArrayHeader(out, 0, parts.length), parts)
  return out
}

/** A Block spliced from its header and its messages' encodings (see spliceBlock). */
export interface SplicedBlock {
  /** The encoded Block; owns its buffer, so its `.buffer` can be transferred. */
  encoded: Uint8Array
  /** Uint32 pairs: each message's byte offset and length in `encoded`. */
  messageOffsets: Uint32Array
}

/**
 * The encoded Block of `header` and of messages already encoded (each one complete Message),
 * written around their bytes instead of decoding and encoding every message again: the same
 * bytes as encodeBlock of the decoded block when the messages are msgpackr's encoding.
 */
export function spliceBlock (header: BlockHeader, encodedMessages: readonly Uint8Array[]): SplicedBlock {
  const n = encodedMessages.length
  // msgpackr's output is a view of its reusable buffer: copied into `encoded` before any other pack.
  const headerBytes = packr.pack(headerToWire(header))
  const out = new Uint8Array(2 + headerBytes.byteLength + arrayHeaderBytes(n) + totalBytes(encodedMessages))
  out[0] = 0x93 // fixarray of 3: [version, Header, [Message, ...]]
  out[1] = BLOCK_FORMAT_VERSION // a positive fixint
  out.set(headerBytes, 2)
  const messageOffsets = new Uint32Array(2 * n)
  writeParts(out, writeArrayHeader(out, 2 + headerBytes.byteLength, n), encodedMessages, messageOffsets)
  return { encoded: out, messageOffsets }
}

/** Uint32 pairs: the offset and length in `block` of each message view the strict decoder gave (rawMessagesOut). */
export function messageOffsetsIn (block: Uint8Array, rawMessages: readonly Uint8Array[]): Uint32Array {
  const offsets = new Uint32Array(2 * rawMessages.length)
  for (let i = 0; i < rawMessages.length; i++) {
    offsets[2 * i] = rawMessages[i].byteOffset - block.byteOffset
    offsets[2 * i + 1] = rawMessages[i].byteLength
  }
  return offsets
}

class DecodeError extends Error {}

/** A cursor over untrusted bytes that accepts exactly the subset of MessagePack SPEC 5 allows. */
class StrictReader {
  private pos = 0
  private readonly view: DataView

  constructor (private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  get position (): number {
    return this.pos
  }

  /** A view of input bytes [start, end). */
  slice (start: number, end: number): Uint8Array {
    return this.bytes.subarray(start, end)
  }

  get done (): boolean {
    return this.pos === this.bytes.byteLength
  }

  private need (n: number, what: string): void {
    if (this.pos + n > this.bytes.byteLength) throw new DecodeError(`${what}: truncated`)
  }

  private byte (what: string): number {
    this.need(1, what)
    return this.bytes[this.pos++]
  }

  arrayLength (what: string): number {
    const tag = this.byte(what)
    let length: number
    if (tag >= 0x90 && tag <= 0x9f) length = tag & 0x0f
    else if (tag === 0xdc) { this.need(2, what); length = this.view.getUint16(this.pos); this.pos += 2 } else if (tag === 0xdd) { this.need(4, what); length = this.view.getUint32(this.pos); this.pos += 4 } else throw new DecodeError(`${what}: expected an array`)
    // Every element takes at least one byte: refuse lengths the input cannot hold.
    if (length > this.bytes.byteLength - this.pos) throw new DecodeError(`${what}: array length ${length} exceeds the input`)
    return length
  }

  array (what: string, length: number): void {
    const actual = this.arrayLength(what)
    if (actual !== length) throw new DecodeError(`${what}: expected ${length} elements, got ${actual}`)
  }

  uint (what: string): number {
    const tag = this.byte(what)
    const v = this.view
    let value: number
    if (tag <= 0x7f) return tag
    switch (tag) {
      case 0xcc: this.need(1, what); value = v.getUint8(this.pos); this.pos += 1; break
      case 0xcd: this.need(2, what); value = v.getUint16(this.pos); this.pos += 2; break
      case 0xce: this.need(4, what); value = v.getUint32(this.pos); this.pos += 4; break
      case 0xcf: this.need(8, what); value = safeFromBigInt(v.getBigUint64(this.pos), what); this.pos += 8; break
      case 0xd0: this.need(1, what); value = v.getInt8(this.pos); this.pos += 1; break
      case 0xd1: this.need(2, what); value = v.getInt16(this.pos); this.pos += 2; break
      case 0xd2: this.need(4, what); value = v.getInt32(this.pos); this.pos += 4; break
      case 0xd3: this.need(8, what); value = safeFromBigInt(v.getBigInt64(this.pos), what); this.pos += 8; break
      case 0xcb:
        this.need(8, what)
        value = v.getFloat64(this.pos)
        this.pos += 8
        // -0.0 passes the checks below (it equals 0) but is no integer an encoder writes.
        if (Object.is(value, -0)) throw new DecodeError(`${what}: -0.0 is not a non-negative integer`)
        break
      default: throw new DecodeError(`${what}: expected an unsigned integer`)
    }
    if (!Number.isSafeInteger(value) || value < 0) throw new DecodeError(`${what}: ${value} is not a non-negative safe integer`)
    return value
  }

  bin (what: string, exactLength?: number): Uint8Array {
    const tag = this.byte(what)
    let length: number
    if (tag === 0xc4) { this.need(1, what); length = this.view.getUint8(this.pos); this.pos += 1 } else if (tag === 0xc5) { this.need(2, what); length = this.view.getUint16(this.pos); this.pos += 2 } else if (tag === 0xc6) { this.need(4, what); length = this.view.getUint32(this.pos); this.pos += 4 } else throw new DecodeError(`${what}: expected binary data`)
    if (exactLength !== undefined && length !== exactLength) throw new DecodeError(`${what}: expected ${exactLength} bytes, got ${length}`)
    this.need(length, what)
    const out = this.bytes.subarray(this.pos, this.pos + length)
    this.pos += length
    return out
  }
}

function safeFromBigInt (value: bigint, what: string): number {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) throw new DecodeError(`${what}: ${value} is not a non-negative safe integer`)
  return Number(value)
}

function readMessage (r: StrictReader, what: string): Message {
  r.array(what, 5)
  return {
    sender: r.bin(`${what}.sender`, PUBLIC_KEY_BYTES),
    timestamp: r.uint(`${what}.timestamp`),
    nonce: r.uint(`${what}.nonce`),
    content: r.bin(`${what}.content`),
    signature: r.bin(`${what}.signature`, SIGNATURE_BYTES)
  }
}

function readHeader (r: StrictReader): BlockHeader {
  r.array('header', 6)
  return {
    height: r.uint('header.height'),
    timestamp: r.uint('header.timestamp'),
    prevHash: r.bin('header.prevHash', HASH_BYTES),
    messageRoot: r.bin('header.messageRoot', HASH_BYTES),
    proposer: r.bin('header.proposer', PUBLIC_KEY_BYTES),
    signature: r.bin('header.signature', SIGNATURE_BYTES)
  }
}

function decodeWith<T> (bytes: Uint8Array, read: (r: StrictReader) => T): DecodeResult<T> {
  try {
    const r = new StrictReader(bytes)
    const value = read(r)
    if (!r.done) return fail('MALFORMED', 'trailing bytes after the value')
    return ok(value)
  } catch (err) {
    if (err instanceof DecodeError) return fail('MALFORMED', err.message)
    return fail('MALFORMED', `undecodable: ${String(err)}`)
  }
}

export function decodeMessage (bytes: Uint8Array): DecodeResult<Message> {
  return decodeWith(bytes, r => readMessage(r, 'message'))
}

/**
 * Reads `count` messages; when `rawOut` is given, it receives each message's own bytes (views
 * into the input), so that a caller storing them need not encode them again.
 */
function readMessages (r: StrictReader, count: number, what: string, rawOut?: Uint8Array[]): Message[] {
  const messages: Message[] = new Array<Message>(count)
  for (let i = 0; i < count; i++) {
    const start = r.position
    messages[i] = readMessage(r, `${what}[${i}]`)
    rawOut?.push(r.slice(start, r.position))
  }
  return messages
}

function readBlockPrefix (r: StrictReader): { header: BlockHeader, messageCount: number } {
  r.array('block', 3)
  const version = r.uint('block.version')
  if (version !== BLOCK_FORMAT_VERSION) throw new DecodeError(`block.version: unsupported format version ${version}`)
  const header = readHeader(r)
  return { header, messageCount: r.arrayLength('block.messages') }
}

export function decodeBlock (bytes: Uint8Array, rawMessagesOut?: Uint8Array[]): DecodeResult<Block> {
  return decodeWith(bytes, r => {
    const { header, messageCount } = readBlockPrefix(r)
    return { header, messages: readMessages(r, messageCount, 'block.messages', rawMessagesOut) }
  })
}

/** The header and message count of an encoded Block, without decoding its messages. */
export function decodeBlockHeader (bytes: Uint8Array): DecodeResult<{ header: BlockHeader, messageCount: number }> {
  try {
    return ok(readBlockPrefix(new StrictReader(bytes)))
  } catch (err) {
    return fail('MALFORMED', err instanceof DecodeError ? err.message : `undecodable: ${String(err)}`)
  }
}

export function decodeMessageBatch (bytes: Uint8Array, rawMessagesOut?: Uint8Array[]): DecodeResult<Message[]> {
  return decodeWith(bytes, r => readMessages(r, r.arrayLength('batch'), 'batch', rawMessagesOut))
}

// The readers and writer that other SPEC 5 payloads build on (the status answer, status.ts).
export { DecodeError, StrictReader, decodeWith, headerToWire, packr, readHeader }

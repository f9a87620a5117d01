// The wire codec of SPEC section 5. msgpackr encodes; untrusted bytes go through the strict
// decoder below, because a general MessagePack decoder accepts more than the protocol allows
// (strings, float32, extension types, trailing bytes, unsafe integers). The decoder returns a
// result naming what is wrong and never throws; decoded binaries are views into the input.
import { Packr } from 'msgpackr'
import { copyBytes } from './bytes.js'
import { BLOCK_FORMAT_VERSION, HASH_BYTES, PUBLIC_KEY_BYTES, SIGNATURE_BYTES } from './params.js'
import { fail, ok, type Result, type Verdict } from './result.js'
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
  if (n <= 15) {
    out[offset] = 0x90 | n
    return offset + 1
  }
  out[offset] = n <= 0xffff ? 0xdc : 0xdd
  return writeBE(out, offset + 1, n, n <= 0xffff ? 2 : 4)
}

/** A MessagePack bin header, as msgpackr writes it (bin8, bin16, bin32); returns where the bytes go. */
export function writeBinHeader (out: Uint8Array, at: number, length: number): number {
  if (length < 0x100) {
    out[at] = 0xc4
    out[at + 1] = length
    return at + 2
  }
  out[at] = length < 0x10000 ? 0xc5 : 0xc6
  return writeBE(out, at + 1, length, length < 0x10000 ? 2 : 4)
}

const float64 = new DataView(new ArrayBuffer(8))

/** A non-negative safe integer as msgpackr writes it: the smallest uint up to 32 bits, float64 above; returns where it ends. */
export function writeUint (out: Uint8Array, at: number, value: number): number {
  if (value < 0x80) {
    out[at] = value // positive fixint (-0 too)
    return at + 1
  }
  if (value <= 0xffffffff) {
    const bytes = value < 0x100 ? 1 : value < 0x10000 ? 2 : 4
    out[at] = bytes === 1 ? 0xcc : bytes === 2 ? 0xcd : 0xce
    return writeBE(out, at + 1, value, bytes)
  }
  out[at] = 0xcb
  float64.setFloat64(0, value)
  for (let i = 0; i < 8; i++) out[at + 1 + i] = float64.getUint8(i)
  return at + 9
}

/** `value` (below 2^32) big-endian in `bytes` bytes at `at`; returns where it ends. */
function writeBE (out: Uint8Array, at: number, value: number, bytes: number): number {
  for (let i = bytes - 1; i >= 0; i--) {
    out[at + i] = value & 0xff
    value = Math.floor(value / 0x100)
  }
  return at + bytes
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

/**
 * A cursor over untrusted bytes that accepts exactly the subset of MessagePack SPEC 5 allows.
 * Integers are read byte by byte, not through a DataView: one per decode was an object per
 * message wherever messages are decoded one by one.
 */
class StrictReader {
  private pos = 0

  constructor (private readonly bytes: Uint8Array) {}

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

  /** The big-endian unsigned integer of the next `n` bytes (1 to 4). */
  private unsigned (n: number, what: string): number {
    this.need(n, what)
    let value = 0
    for (let i = 0; i < n; i++) value = value * 0x100 + this.bytes[this.pos++]
    return value
  }

  /** The big-endian two's-complement integer of the next `n` bytes (1 to 4). */
  private signed (n: number, what: string): number {
    const value = this.unsigned(n, what)
    return value >= 2 ** (8 * n - 1) ? value - 2 ** (8 * n) : value
  }

  arrayLength (what: string): number {
    const tag = this.byte(what)
    let length: number
    if (tag >= 0x90 && tag <= 0x9f) length = tag & 0x0f
    else if (tag === 0xdc) length = this.unsigned(2, what)
    else if (tag === 0xdd) length = this.unsigned(4, what)
    else throw new DecodeError(`${what}: expected an array`)
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
    let value: number
    if (tag <= 0x7f) return tag
    switch (tag) {
      case 0xcc: value = this.unsigned(1, what); break
      case 0xcd: value = this.unsigned(2, what); break
      case 0xce: value = this.unsigned(4, what); break
      case 0xcf: value = this.u64(this.unsigned(4, what), this.unsigned(4, what), what); break
      case 0xd0: value = this.signed(1, what); break
      case 0xd1: value = this.signed(2, what); break
      case 0xd2: value = this.signed(4, what); break
      case 0xd3: value = this.u64(this.signed(4, what), this.unsigned(4, what), what); break
      case 0xcb:
        this.need(8, what)
        value = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 8).getFloat64(0)
        this.pos += 8
        // -0.0 passes the checks below (it equals 0) but is no integer an encoder writes.
        if (Object.is(value, -0)) throw new DecodeError(`${what}: -0.0 is not a non-negative integer`)
        break
      default: throw new DecodeError(`${what}: expected an unsigned integer`)
    }
    if (!Number.isSafeInteger(value) || value < 0) throw new DecodeError(`${what}: ${value} is not a non-negative safe integer`)
    return value
  }

  /**
   * A 64-bit integer from its two halves (`high` signed for int64): a number when it is
   * non-negative and safe (high <= 0x1fffff), without the BigInt that getBigUint64 allocates:
   * every message's timestamp is a uint64.
   */
  private u64 (high: number, low: number, what: string): number {
    if (high >= 0 && high <= SAFE_HIGH_WORD_MAX) return high * 0x1_0000_0000 + low
    const value = (BigInt(high) << 32n) + BigInt(low)
    throw new DecodeError(`${what}: ${value} is not a non-negative safe integer`)
  }

  /** The length of the bin at the cursor, which moves to its first byte. */
  private binLength (what: string, exactLength?: number): number {
    const tag = this.byte(what)
    let length: number
    if (tag === 0xc4) length = this.unsigned(1, what)
    else if (tag === 0xc5) length = this.unsigned(2, what)
    else if (tag === 0xc6) length = this.unsigned(4, what)
    else throw new DecodeError(`${what}: expected binary data`)
    if (exactLength !== undefined && length !== exactLength) throw new DecodeError(`${what}: expected ${exactLength} bytes, got ${length}`)
    this.need(length, what)
    return length
  }

  bin (what: string, exactLength?: number): Uint8Array {
    const length = this.binLength(what, exactLength)
    const out = this.bytes.subarray(this.pos, this.pos + length)
    this.pos += length
    return out
  }

  /** bin's checks, without the view. */
  skipBin (what: string, exactLength?: number): void {
    const length = this.binLength(what, exactLength)
    this.pos += length
  }
}

/** The high 32 bits of Number.MAX_SAFE_INTEGER (2^53 - 1). */
const SAFE_HIGH_WORD_MAX = 0x1f_ffff

/**
 * One Message. Its fields' labels are constants, completed with the message's own label
 * (`block.messages[7]`) only when it fails: a label built per field per message cost every
 * decode five strings.
 */
function readMessage (r: StrictReader): Message {
  r.array('', 5)
  return {
    sender: r.bin('.sender', PUBLIC_KEY_BYTES),
    timestamp: r.uint('.timestamp'),
    nonce: r.uint('.nonce'),
    content: r.bin('.content'),
    signature: r.bin('.signature', SIGNATURE_BYTES)
  }
}

/** readMessage's checks, without making the Message: what the producer checks a stored message with. */
function skipMessage (r: StrictReader): void {
  r.array('', 5)
  r.skipBin('.sender', PUBLIC_KEY_BYTES)
  r.uint('.timestamp')
  r.uint('.nonce')
  r.skipBin('.content')
  r.skipBin('.signature', SIGNATURE_BYTES)
}

/** A DecodeError of a message's field, named in full: `what` is the message's own label. */
function named (err: unknown, what: string): unknown {
  return err instanceof DecodeError ? new DecodeError(`${what}${err.message}`) : err
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

/** `read` over a whole input that is one message: its errors name it `message`. */
function wholeMessage<T> (read: (r: StrictReader) => T): (r: StrictReader) => T {
  return r => {
    try {
      return read(r)
    } catch (err) {
      throw named(err, 'message')
    }
  }
}

const readWholeMessage = wholeMessage(readMessage)
const skipWholeMessage = wholeMessage(skipMessage)

export function decodeMessage (bytes: Uint8Array): DecodeResult<Message> {
  return decodeWith(bytes, readWholeMessage)
}

const WELL_FORMED = { ok: true } as const

/** Whether `bytes` are one Message that decodeMessage accepts (the same reason when not), without decoding its fields. */
export function checkMessage (bytes: Uint8Array): Verdict<DecodeCode> {
  const checked = decodeWith(bytes, skipWholeMessage)
  return checked.ok ? WELL_FORMED : checked
}

/**
 * Reads `count` messages; when `rawOut` is given, it receives each message's own bytes (views
 * into the input), so that a caller storing them need not encode them again.
 */
function readMessages (r: StrictReader, count: number, what: string, rawOut?: Uint8Array[]): Message[] {
  const messages: Message[] = new Array<Message>(count)
  for (let i = 0; i < count; i++) {
    const start = r.position
    try {
      messages[i] = readMessage(r)
    } catch (err) {
      throw named(err, `${what}[${i}]`)
    }
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

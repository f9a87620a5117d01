// The binary submission body (SPEC 8): a MessagePack array of SPEC 5 wire Messages,
// [sender bin32, timestamp uint, nonce uint, content bin, signature bin64]. A dozen lines of
// encoder for exactly these types keeps a general MessagePack library out of the browser. The
// bytes are msgpackr's (what the node's own encoder writes): the smallest integer format up to
// 2^32 - 1 and a float64 above it, the smallest bin and array formats.
import type { Message } from './types.js'

/** The encoded size of a wire Message, without its bytes. */
export function encodedMessageBytes (message: Message): number {
  return 1 + binBytes(message.sender.length) + uintBytes(message.timestamp) + uintBytes(message.nonce) +
    binBytes(message.content.length) + binBytes(message.signature.length)
}

/** A MessagePack array of the messages, each in SPEC 5 wire form. */
export function encodeMessageBatch (messages: readonly Message[]): Uint8Array {
  let total = arrayHeaderBytes(messages.length)
  for (const m of messages) total += encodedMessageBytes(m)
  const writer = new Writer(total)
  writer.arrayHeader(messages.length)
  for (const m of messages) writer.message(m)
  return writer.out
}

function uintBytes (value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a non-negative safe integer: ${value}`)
  return value < 0x80 ? 1 : value <= 0xff ? 2 : value <= 0xffff ? 3 : value <= 0xffff_ffff ? 5 : 9
}

function binBytes (length: number): number {
  return length + (length <= 0xff ? 2 : length <= 0xffff ? 3 : 5)
}

function arrayHeaderBytes (n: number): number {
  return n <= 15 ? 1 : n <= 0xffff ? 3 : 5
}

class Writer {
  readonly out: Uint8Array
  private readonly view: DataView
  private at = 0

  constructor (length: number) {
    this.out = new Uint8Array(length)
    this.view = new DataView(this.out.buffer)
  }

  message (m: Message): void {
    this.arrayHeader(5)
    this.bin(m.sender)
    this.uint(m.timestamp)
    this.uint(m.nonce)
    this.bin(m.content)
    this.bin(m.signature)
  }

  arrayHeader (n: number): void {
    if (n <= 15) {
      this.out[this.at++] = 0x90 | n
    } else if (n <= 0xffff) {
      this.out[this.at] = 0xdc
      this.view.setUint16(this.at + 1, n)
      this.at += 3
    } else {
      this.out[this.at] = 0xdd
      this.view.setUint32(this.at + 1, n)
      this.at += 5
    }
  }

  uint (value: number): void {
    const size = uintBytes(value)
    const at = this.at
    if (size === 1) {
      this.out[at] = value // positive fixint
    } else if (size === 2) {
      this.out[at] = 0xcc
      this.out[at + 1] = value
    } else if (size === 3) {
      this.out[at] = 0xcd
      this.view.setUint16(at + 1, value)
    } else if (size === 5) {
      this.out[at] = 0xce
      this.view.setUint32(at + 1, value)
    } else {
      this.out[at] = 0xcb // float64, exact below 2^53
      this.view.setFloat64(at + 1, value)
    }
    this.at += size
  }

  bin (bytes: Uint8Array): void {
    const n = bytes.length
    if (n <= 0xff) {
      this.out[this.at] = 0xc4
      this.out[this.at + 1] = n
      this.at += 2
    } else if (n <= 0xffff) {
      this.out[this.at] = 0xc5
      this.view.setUint16(this.at + 1, n)
      this.at += 3
    } else {
      this.out[this.at] = 0xc6
      this.view.setUint32(this.at + 1, n)
      this.at += 5
    }
    this.out.set(bytes, this.at)
    this.at += n
  }
}

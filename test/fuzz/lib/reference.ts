// An independent reading of SPEC 5, to judge the decoders by: a generic MessagePack tokenizer
// (every format, no schema) and the protocol's shapes matched against its tokens. It shares no
// code with src/shared/codec.ts; where the two disagree, one of them is wrong.
import type { Block, BlockHeader, Message } from '../../../src/shared/types.js'

export type Token =
  | { t: 'int', v: bigint }
  | { t: 'f32' | 'f64', v: number }
  | { t: 'bin', bytes: Uint8Array }
  | { t: 'str' | 'ext', length: number }
  | { t: 'array' | 'map', count: number }
  | { t: 'nil' | 'bool' }

class Refused extends Error {}

/** Reads one MessagePack head at a time; a truncated or reserved head is Refused. */
export class Tokens {
  pos = 0

  constructor (readonly bytes: Uint8Array) {}

  get remaining (): number {
    return this.bytes.length - this.pos
  }

  private take (n: number): Uint8Array {
    if (n > this.remaining) throw new Refused('truncated')
    const out = this.bytes.subarray(this.pos, this.pos + n)
    this.pos += n
    return out
  }

  /** Big-endian unsigned integer of n bytes. */
  private be (n: number): bigint {
    let v = 0n
    for (const b of this.take(n)) v = (v << 8n) | BigInt(b)
    return v
  }

  next (): Token {
    const [tag] = this.take(1)
    if (tag < 0x80) return { t: 'int', v: BigInt(tag) }
    if (tag >= 0xe0) return { t: 'int', v: BigInt(tag - 0x100) }
    if (tag < 0x90) return { t: 'map', count: tag - 0x80 }
    if (tag < 0xa0) return { t: 'array', count: tag - 0x90 }
    if (tag < 0xc0) return this.skip('str', tag - 0xa0)
    switch (tag) {
      case 0xc0: return { t: 'nil' }
      case 0xc2: case 0xc3: return { t: 'bool' }
      case 0xc4: case 0xc5: case 0xc6: return { t: 'bin', bytes: this.take(Number(this.be(1 << (tag - 0xc4)))) }
      case 0xc7: case 0xc8: case 0xc9: { const n = Number(this.be(1 << (tag - 0xc7))); this.take(1); return this.skip('ext', n) }
      case 0xca: return { t: 'f32', v: new DataView(this.take(4).slice().buffer).getFloat32(0) }
      case 0xcb: return { t: 'f64', v: new DataView(this.take(8).slice().buffer).getFloat64(0) }
      case 0xcc: case 0xcd: case 0xce: case 0xcf: return { t: 'int', v: this.be(1 << (tag - 0xcc)) }
      case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
        const bits = 8 << (tag - 0xd0)
        return { t: 'int', v: BigInt.asIntN(bits, this.be(bits / 8)) }
      }
      case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: this.take(1); return this.skip('ext', 1 << (tag - 0xd4))
      case 0xd9: case 0xda: case 0xdb: return this.skip('str', Number(this.be(1 << (tag - 0xd9))))
      case 0xdc: case 0xdd: return { t: 'array', count: Number(this.be(tag === 0xdc ? 2 : 4)) }
      case 0xde: case 0xdf: return { t: 'map', count: Number(this.be(tag === 0xde ? 2 : 4)) }
      default: throw new Refused(`reserved tag 0x${tag.toString(16)}`)
    }
  }

  private skip (t: 'str' | 'ext', length: number): Token {
    this.take(length)
    return { t, length }
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

/** SPEC 5's integer: any integer format, or a float64 holding the exact value; not -0.0. */
function uint (k: Tokens): number {
  const tok = k.next()
  if (tok.t === 'int' && tok.v >= 0n && tok.v <= MAX_SAFE) return Number(tok.v)
  if (tok.t === 'f64' && Number.isSafeInteger(tok.v) && tok.v >= 0 && !Object.is(tok.v, -0)) return tok.v
  throw new Refused('not a non-negative safe integer')
}

function bin (k: Tokens, length?: number): Uint8Array {
  const tok = k.next()
  if (tok.t !== 'bin' || (length !== undefined && tok.bytes.length !== length)) throw new Refused('not the binary expected')
  return tok.bytes
}

function arrayOf (k: Tokens, count?: number): number {
  const tok = k.next()
  if (tok.t !== 'array' || (count !== undefined && tok.count !== count)) throw new Refused('not the array expected')
  return tok.count
}

export function readMessage (k: Tokens): Message {
  arrayOf(k, 5)
  const sender = bin(k, 32)
  const timestamp = uint(k)
  const nonce = uint(k)
  const content = bin(k)
  return { sender, timestamp, nonce, content, signature: bin(k, 64) }
}

export function readHeader (k: Tokens): BlockHeader {
  arrayOf(k, 6)
  const height = uint(k)
  const timestamp = uint(k)
  const prevHash = bin(k, 32)
  const messageRoot = bin(k, 32)
  const proposer = bin(k, 32)
  return { height, timestamp, prevHash, messageRoot, proposer, signature: bin(k, 64) }
}

function readMessages (k: Tokens, count: number): Message[] {
  const out: Message[] = []
  for (let i = 0; i < count; i++) out.push(readMessage(k))
  return out
}

function blockPrefix (k: Tokens): { header: BlockHeader, messageCount: number } {
  arrayOf(k, 3)
  if (uint(k) !== 1) throw new Refused('unknown block version')
  const header = readHeader(k)
  const messageCount = arrayOf(k)
  // decodeBlockHeader's documented guard: each message takes at least one byte.
  if (messageCount > k.remaining) throw new Refused('more messages than bytes')
  return { header, messageCount }
}

export type Reading<T> = { ok: true, value: T } | { ok: false, reason: string }

/** Runs a shape over the whole input; trailing bytes are refused unless `prefixOnly`. */
export function reference<T> (bytes: Uint8Array, shape: (k: Tokens) => T, prefixOnly = false): Reading<T> {
  try {
    const k = new Tokens(bytes)
    const value = shape(k)
    if (!prefixOnly && k.remaining !== 0) return { ok: false, reason: 'trailing bytes' }
    return { ok: true, value }
  } catch (err) {
    if (err instanceof Refused) return { ok: false, reason: err.message }
    throw err
  }
}

export const referenceMessage = (bytes: Uint8Array): Reading<Message> => reference(bytes, readMessage)
export const referenceBatch = (bytes: Uint8Array): Reading<Message[]> => reference(bytes, k => readMessages(k, arrayOf(k)))
export const referenceBlock = (bytes: Uint8Array): Reading<Block> => reference(bytes, k => {
  const { header, messageCount } = blockPrefix(k)
  return { header, messages: readMessages(k, messageCount) }
})
export const referenceBlockPrefix = (bytes: Uint8Array): Reading<{ header: BlockHeader, messageCount: number }> => reference(bytes, blockPrefix, true)
export const referenceStatus = (bytes: Uint8Array): Reading<{ networkId: Uint8Array, tip: BlockHeader }> => reference(bytes, k => {
  arrayOf(k, 3)
  if (uint(k) !== 1) throw new Refused('unknown status version')
  const networkId = bin(k, 32)
  return { networkId, tip: readHeader(k) }
})

/** The sync request of SPEC 5: exactly 12 bytes, u64be(from) >= 1 and safe, u32be(count) >= 1. */
export function referenceSyncRequest (bytes: Uint8Array): Reading<{ from: number, count: number }> {
  if (bytes.length !== 12) return { ok: false, reason: 'not 12 bytes' }
  let from = 0n
  for (let i = 0; i < 8; i++) from = (from << 8n) | BigInt(bytes[i])
  let count = 0
  for (let i = 8; i < 12; i++) count = count * 256 + bytes[i]
  if (from < 1n || from > MAX_SAFE || count < 1) return { ok: false, reason: 'out of range' }
  return { ok: true, value: { from: Number(from), count } }
}

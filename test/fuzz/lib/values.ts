// Generators of valid wire values: the protocol types (for the real encoders) and the same
// shapes as value trees written with every encoding SPEC 5 allows (any integer format or an
// exact float64, any bin or array header), which a strict decoder must still accept.
import fc from 'fast-check'
import type { Block, BlockHeader, Message } from '../../../src/shared/types.js'
import { ARRAY_FORMATS, BIN_FORMATS, arrayNode, binNode, naturalIntFormat, uintNode, validIntFormats, type ArrayFormat, type BinFormat, type WireNode } from './wire.js'

const BOUNDARIES = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x1_0000, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0x1_0000_0000, 2 ** 53 - 1]

/** Non-negative safe integers, biased to the boundaries of MessagePack's formats. */
export const safeUint: fc.Arbitrary<number> = fc.oneof(
  { arbitrary: fc.constantFrom(...BOUNDARIES), weight: 2 },
  { arbitrary: fc.nat({ max: 1000 }), weight: 2 },
  { arbitrary: fc.nat(), weight: 1 },
  { arbitrary: fc.maxSafeNat(), weight: 1 }
)

/** `n` bytes from a seed (xorshift32): seed 0 gives zeros, so shrunk inputs read easily. */
function seededBytes (n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n)
  let x = seed | 0
  if (x === 0) return out
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

/**
 * Byte strings of a length in [minLength, maxLength]. Drawn from a seed rather than byte by
 * byte: generation stays cheap (these fill hashes and keys, whose values the decoders ignore).
 */
export const bytes = (minLength: number, maxLength: number): fc.Arbitrary<Uint8Array> =>
  fc.tuple(fc.integer({ min: minLength, max: maxLength }), fc.integer()).map(([n, seed]) => seededBytes(n, seed))

/** Message contents: mostly short, sometimes across the bin 8 / bin 16 boundary. */
const content: fc.Arbitrary<Uint8Array> = fc.oneof({ arbitrary: bytes(0, 40), weight: 15 }, { arbitrary: bytes(250, 300), weight: 1 })

export const messageValue: fc.Arbitrary<Message> = fc.record({
  sender: bytes(32, 32), timestamp: safeUint, nonce: safeUint, content, signature: bytes(64, 64)
})

export const headerValue: fc.Arbitrary<BlockHeader> = fc.record({
  height: safeUint, timestamp: safeUint, prevHash: bytes(32, 32), messageRoot: bytes(32, 32), proposer: bytes(32, 32), signature: bytes(64, 64)
})

/** Lists of messages: mostly a few, sometimes past the fixarray limit of 15. */
const messageList = <T>(item: fc.Arbitrary<T>): fc.Arbitrary<T[]> =>
  fc.oneof({ arbitrary: fc.array(item, { maxLength: 4 }), weight: 12 }, { arbitrary: fc.array(item, { minLength: 15, maxLength: 17 }), weight: 1 })

export const blockValue: fc.Arbitrary<Block> = fc.record({ header: headerValue, messages: messageList(messageValue) })
export const batchValue: fc.Arbitrary<Message[]> = messageList(messageValue)

// ---- The same shapes as trees with every allowed encoding ----------------------------------

/** A safe integer in its natural format or any other format that holds it exactly. */
export const uintTree = (value: fc.Arbitrary<number> = safeUint): fc.Arbitrary<WireNode> =>
  fc.tuple(value, fc.nat(), fc.boolean()).map(([v, pick, natural]) => {
    const formats = validIntFormats(v)
    return uintNode(v, natural ? naturalIntFormat(v) : formats[pick % formats.length])
  })

const binFormatsFor = (length: number): BinFormat[] => BIN_FORMATS.filter(f => f !== 'b8' || length <= 0xff)

export const binTree = (data: fc.Arbitrary<Uint8Array>): fc.Arbitrary<WireNode> =>
  fc.tuple(data, fc.nat()).map(([b, pick]) => {
    const formats = binFormatsFor(b.byteLength)
    return binNode(b, formats[pick % formats.length])
  })

const arrayTree = (items: Array<fc.Arbitrary<WireNode>>): fc.Arbitrary<WireNode> =>
  fc.tuple(fc.tuple(...items), fc.constantFrom<ArrayFormat>(...ARRAY_FORMATS)).map(([nodes, format]) => arrayNode(nodes, format))

const listTree = (item: fc.Arbitrary<WireNode>): fc.Arbitrary<WireNode> =>
  fc.tuple(messageList(item), fc.constantFrom<ArrayFormat>(...ARRAY_FORMATS)).map(([nodes, format]) =>
    arrayNode(nodes, format === 'fixarray' && nodes.length > 15 ? 'a16' : format))

export const messageTree: fc.Arbitrary<WireNode> = arrayTree([binTree(bytes(32, 32)), uintTree(), uintTree(), binTree(content), binTree(bytes(64, 64))])

export const headerTree: fc.Arbitrary<WireNode> = arrayTree([
  uintTree(), uintTree(), binTree(bytes(32, 32)), binTree(bytes(32, 32)), binTree(bytes(32, 32)), binTree(bytes(64, 64))
])

const versionOne = uintTree(fc.constant(1))

export const blockTree: fc.Arbitrary<WireNode> = arrayTree([versionOne, headerTree, listTree(messageTree)])
export const batchTree: fc.Arbitrary<WireNode> = listTree(messageTree)
export const statusTree: fc.Arbitrary<WireNode> = arrayTree([versionOne, binTree(bytes(32, 32)), headerTree])

// ---- Anything at all ---------------------------------------------------------------------

const MSGPACK_TAGS = [0xc0, 0xc1, 0xc2, 0xc4, 0xc5, 0xc6, 0xc7, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd3, 0xd4, 0xd9, 0xdc, 0xdd, 0xde, 0x90, 0x93, 0x95, 0x96, 0x9f, 0x80, 0xa0, 0xe0, 0xff, 0x7f]

/** Bytes that matter to a MessagePack reader: its tags, mostly. */
export const interestingByte: fc.Arbitrary<number> = fc.oneof(fc.constantFrom(...MSGPACK_TAGS), fc.integer({ min: 0, max: 255 }))

/** Any MessagePack value, small: every kind and format, including the ones SPEC 5 refuses. */
export const anyTree: fc.Arbitrary<WireNode> = fc.letrec<{ node: WireNode }>(tie => ({
  node: fc.oneof(
    { depthSize: 'small', maxDepth: 3, withCrossShrink: true },
    fc.tuple(fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }), fc.constantFrom(...['fixint', 'negfixint', 'u8', 'u16', 'u32', 'u64', 'i8', 'i16', 'i32', 'i64', 'f32', 'f64'] as const))
      .map(([value, format]): WireNode => ({ kind: 'int', value, format })),
    fc.tuple(fc.double(), fc.constantFrom('f32' as const, 'f64' as const)).map(([value, format]): WireNode => ({ kind: 'float', value, format })),
    binTree(bytes(0, 70)),
    fc.tuple(bytes(0, 40), fc.constantFrom('fixstr' as const, 's8' as const, 's16' as const)).map(([b, format]): WireNode => ({ kind: 'str', bytes: b.subarray(0, format === 'fixstr' ? 31 : b.byteLength), format })),
    fc.constant<WireNode>({ kind: 'nil' }),
    fc.boolean().map((value): WireNode => ({ kind: 'bool', value })),
    fc.tuple(fc.integer({ min: 0, max: 255 }), bytes(0, 20)).map(([type, b]): WireNode => ({ kind: 'ext', type, bytes: b })),
    fc.array(interestingByte, { minLength: 1, maxLength: 3 }).map((b): WireNode => ({ kind: 'raw', bytes: Uint8Array.from(b) })),
    fc.array(tie('node'), { maxLength: 7 }).map(items => arrayNode(items)),
    fc.array(fc.tuple(tie('node'), tie('node')), { maxLength: 3 }).map((entries): WireNode => ({ kind: 'map', entries, format: 'fixmap' }))
  )
})).node

// A MessagePack value tree whose every encoding choice is explicit (which integer or float
// format, which bin/array header, a declared length that lies), so that generators can build
// valid wire values of the protocol types and then mutate them at any level. Independent of
// msgpackr and of src/shared/codec.ts.
import type { Block, BlockHeader, Message } from '../../../src/shared/types.js'

export type IntFormat = 'fixint' | 'negfixint' | 'u8' | 'u16' | 'u32' | 'u64' | 'i8' | 'i16' | 'i32' | 'i64' | 'f32' | 'f64'
export type BinFormat = 'b8' | 'b16' | 'b32'
export type StrFormat = 'fixstr' | 's8' | 's16' | 's32'
export type ArrayFormat = 'fixarray' | 'a16' | 'a32'
export type MapFormat = 'fixmap' | 'm16' | 'm32'

export type WireNode =
  /** An integer written in `format`; a value that does not fit is wrapped (mutations want that). */
  | { kind: 'int', value: bigint, format: IntFormat }
  | { kind: 'float', value: number, format: 'f32' | 'f64' }
  /** `lengthDelta` makes the declared length differ from the bytes that follow. */
  | { kind: 'bin', bytes: Uint8Array, format: BinFormat, lengthDelta: number }
  | { kind: 'str', bytes: Uint8Array, format: StrFormat }
  /** `countDelta` makes the declared element count differ from the items that follow. */
  | { kind: 'array', items: WireNode[], format: ArrayFormat, countDelta: number }
  | { kind: 'map', entries: Array<[WireNode, WireNode]>, format: MapFormat }
  | { kind: 'nil' }
  | { kind: 'bool', value: boolean }
  | { kind: 'ext', type: number, bytes: Uint8Array }
  /** Bytes written as they are: reserved tags, garbage, another value's encoding. */
  | { kind: 'raw', bytes: Uint8Array }

export const INT_FORMATS: readonly IntFormat[] = ['fixint', 'negfixint', 'u8', 'u16', 'u32', 'u64', 'i8', 'i16', 'i32', 'i64', 'f32', 'f64']
export const BIN_FORMATS: readonly BinFormat[] = ['b8', 'b16', 'b32']
export const ARRAY_FORMATS: readonly ArrayFormat[] = ['fixarray', 'a16', 'a32']

/** The integer formats SPEC 5 accepts for a non-negative safe integer `v` (each holds it exactly). */
export function validIntFormats (v: number): IntFormat[] {
  const out: IntFormat[] = ['u64', 'i64', 'f64']
  if (v <= 0x7f) out.push('fixint', 'i8')
  if (v <= 0xff) out.push('u8')
  if (v <= 0x7fff) out.push('i16')
  if (v <= 0xffff) out.push('u16')
  if (v <= 0x7fff_ffff) out.push('i32')
  if (v <= 0xffff_ffff) out.push('u32')
  return out
}

/** The smallest unsigned format for v (what most encoders write). */
export function naturalIntFormat (v: number): IntFormat {
  if (v <= 0x7f) return 'fixint'
  if (v <= 0xff) return 'u8'
  if (v <= 0xffff) return 'u16'
  if (v <= 0xffff_ffff) return 'u32'
  return 'u64'
}

export function uintNode (v: number, format: IntFormat = naturalIntFormat(v)): WireNode {
  return { kind: 'int', value: BigInt(v), format }
}

export function binNode (bytes: Uint8Array, format: BinFormat = bytes.byteLength <= 0xff ? 'b8' : bytes.byteLength <= 0xffff ? 'b16' : 'b32'): WireNode {
  return { kind: 'bin', bytes, format, lengthDelta: 0 }
}

export function arrayNode (items: WireNode[], format: ArrayFormat = items.length <= 15 ? 'fixarray' : items.length <= 0xffff ? 'a16' : 'a32'): WireNode {
  return { kind: 'array', items, format, countDelta: 0 }
}

export function messageNode (m: Message): WireNode {
  return arrayNode([binNode(m.sender), uintNode(m.timestamp), uintNode(m.nonce), binNode(m.content), binNode(m.signature)])
}

export function headerNode (h: BlockHeader): WireNode {
  return arrayNode([uintNode(h.height), uintNode(h.timestamp), binNode(h.prevHash), binNode(h.messageRoot), binNode(h.proposer), binNode(h.signature)])
}

export function blockNode (b: Block): WireNode {
  return arrayNode([uintNode(1), headerNode(b.header), arrayNode(b.messages.map(messageNode))])
}

/** Encodes a tree into MessagePack bytes, following every format choice literally. */
export function encodeNode (node: WireNode): Uint8Array {
  const out = new ByteSink()
  write(out, node)
  return out.bytes()
}

class ByteSink {
  private buf = new Uint8Array(256)
  private len = 0

  push (...values: number[]): void {
    this.reserve(values.length)
    for (const v of values) this.buf[this.len++] = v & 0xff
  }

  append (bytes: Uint8Array): void {
    this.reserve(bytes.byteLength)
    this.buf.set(bytes, this.len)
    this.len += bytes.byteLength
  }

  /** `n` bytes of a big-endian unsigned integer (taken modulo 2^(8n)). */
  be (value: bigint, n: number): void {
    const v = BigInt.asUintN(n * 8, value)
    for (let i = n - 1; i >= 0; i--) this.push(Number((v >> BigInt(i * 8)) & 0xffn))
  }

  bytes (): Uint8Array {
    return this.buf.slice(0, this.len)
  }

  private reserve (n: number): void {
    if (this.len + n <= this.buf.byteLength) return
    const next = new Uint8Array(Math.max(this.buf.byteLength * 2, this.len + n))
    next.set(this.buf.subarray(0, this.len))
    this.buf = next
  }
}

function writeFloat (out: ByteSink, value: number, format: 'f32' | 'f64'): void {
  const view = new DataView(new ArrayBuffer(8))
  if (format === 'f32') {
    view.setFloat32(0, value)
    out.push(0xca)
    out.append(new Uint8Array(view.buffer, 0, 4))
  } else {
    view.setFloat64(0, value)
    out.push(0xcb)
    out.append(new Uint8Array(view.buffer))
  }
}

const INT_TAGS: Record<Exclude<IntFormat, 'fixint' | 'negfixint' | 'f32' | 'f64'>, [number, number]> = {
  u8: [0xcc, 1], u16: [0xcd, 2], u32: [0xce, 4], u64: [0xcf, 8], i8: [0xd0, 1], i16: [0xd1, 2], i32: [0xd2, 4], i64: [0xd3, 8]
}

/** A length header: the short form's tag carries n, the others carry it in 1, 2 or 4 bytes. */
function writeLength (out: ByteSink, n: number, fixBase: number | undefined, fixMax: number, tags: [number, number, number], format: number): void {
  if (format === 0 && fixBase !== undefined) { out.push(fixBase | (n & fixMax)); return }
  const [tag, size] = format === 0 ? [tags[0], 1] : format === 1 ? [tags[1], 2] : [tags[2], 4]
  out.push(tag)
  out.be(BigInt(Math.max(0, n)), size)
}

function write (out: ByteSink, node: WireNode): void {
  switch (node.kind) {
    case 'int': {
      const f = node.format
      if (f === 'fixint') out.push(Number(BigInt.asUintN(7, node.value)))
      else if (f === 'negfixint') out.push(0xe0 | Number(BigInt.asUintN(5, node.value)))
      else if (f === 'f32' || f === 'f64') writeFloat(out, Number(node.value), f)
      else {
        const [tag, size] = INT_TAGS[f]
        out.push(tag)
        out.be(node.value, size)
      }
      return
    }
    case 'float': writeFloat(out, node.value, node.format); return
    case 'bin': {
      const declared = node.bytes.byteLength + node.lengthDelta
      // bin has no short form: b8, b16, b32 are formats 0, 1, 2.
      writeLength(out, declared, undefined, 0, [0xc4, 0xc5, 0xc6], BIN_FORMATS.indexOf(node.format))
      out.append(node.bytes)
      return
    }
    case 'str': {
      const formats: StrFormat[] = ['fixstr', 's8', 's16', 's32']
      const i = formats.indexOf(node.format)
      if (i === 0) out.push(0xa0 | (node.bytes.byteLength & 0x1f))
      else writeLength(out, node.bytes.byteLength, undefined, 0, [0xd9, 0xda, 0xdb], i - 1)
      out.append(node.bytes)
      return
    }
    case 'array':
      writeLength(out, node.items.length + node.countDelta, 0x90, 0x0f, [0xdc, 0xdc, 0xdd], ARRAY_FORMATS.indexOf(node.format))
      for (const item of node.items) write(out, item)
      return
    case 'map': {
      const formats: MapFormat[] = ['fixmap', 'm16', 'm32']
      writeLength(out, node.entries.length, 0x80, 0x0f, [0xde, 0xde, 0xdf], formats.indexOf(node.format))
      for (const [k, v] of node.entries) { write(out, k); write(out, v) }
      return
    }
    case 'nil': out.push(0xc0); return
    case 'bool': out.push(node.value ? 0xc3 : 0xc2); return
    case 'ext': {
      const n = node.bytes.byteLength
      const fixed: Record<number, number> = { 1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8 }
      if (fixed[n] !== undefined) out.push(fixed[n])
      else if (n <= 0xff) out.push(0xc7, n)
      else { out.push(0xc8); out.be(BigInt(n), 2) }
      out.push(node.type)
      out.append(node.bytes)
      return
    }
    case 'raw': out.append(node.bytes)
  }
}

/** Every node of a tree in depth-first order (the root first), for picking one to mutate. */
export function nodesOf (root: WireNode): WireNode[] {
  const out: WireNode[] = []
  const stack: WireNode[] = [root]
  while (stack.length > 0) {
    const node = stack.pop() as WireNode
    out.push(node)
    if (node.kind === 'array') for (let i = node.items.length - 1; i >= 0; i--) stack.push(node.items[i])
    else if (node.kind === 'map') for (let i = node.entries.length - 1; i >= 0; i--) stack.push(node.entries[i][1], node.entries[i][0])
  }
  return out
}

/** A deep copy, so that a mutation never touches the tree a generator may hand out again. */
export function cloneNode (node: WireNode): WireNode {
  switch (node.kind) {
    case 'array': return { ...node, items: node.items.map(cloneNode) }
    case 'map': return { ...node, entries: node.entries.map(([k, v]) => [cloneNode(k), cloneNode(v)]) }
    default: return { ...node }
  }
}

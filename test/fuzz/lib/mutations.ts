// Mutators, both structure-aware (on value trees: wrong types, lengths, integer encodings,
// extra or missing elements, lying headers) and byte-level (on real encodings: bit flips,
// insertions, deletions, duplications, truncations, splices of two encodings). Every mutation
// is plain data drawn by fast-check, so failures shrink to a small list of edits.
import fc from 'fast-check'
import { anyTree, bytes, interestingByte } from './values.js'
import { ARRAY_FORMATS, BIN_FORMATS, INT_FORMATS, arrayNode, cloneNode, encodeNode, nodesOf, type ArrayFormat, type BinFormat, type IntFormat, type WireNode } from './wire.js'

export type TreeMutation =
  | { op: 'replace', at: number, node: WireNode }
  | { op: 'number', at: number, node: WireNode }
  | { op: 'intFormat', at: number, format: IntFormat }
  | { op: 'binLength', at: number, length: number }
  | { op: 'binLie', at: number, delta: number }
  | { op: 'binFormat', at: number, format: BinFormat }
  | { op: 'retype', at: number }
  | { op: 'insert', at: number, index: number, node: WireNode }
  | { op: 'remove', at: number, index: number }
  | { op: 'duplicate', at: number, index: number }
  | { op: 'arrayLie', at: number, delta: number }
  | { op: 'arrayFormat', at: number, format: ArrayFormat }

export interface TreeEdit {
  mutations: TreeMutation[]
  /** Cut the encoding to this many bytes (modulo its length + 1). */
  truncate?: number
  trailing?: Uint8Array
}

const BIG = [0n, 1n, 0x7fn, 0x80n, 0xffn, 0x100n, 0xffffn, 0x1_0000n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n, -1n, -32n, -33n, -128n, -(2n ** 31n), -(2n ** 63n)]
const FLOATS = [-0, 0.5, 1.5, 1, 0, -1, NaN, Infinity, -Infinity, 1e300, 5e-324, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 2 ** 64]

/** Integers and floats at the edges of SPEC 5's rule, in any format (float32 and -0.0 included). */
const numberNode: fc.Arbitrary<WireNode> = fc.oneof(
  { arbitrary: fc.tuple(fc.constantFrom(...BIG), fc.constantFrom(...INT_FORMATS)).map(([value, format]): WireNode => ({ kind: 'int', value, format })), weight: 3 },
  { arbitrary: fc.tuple(fc.constantFrom(...FLOATS), fc.constantFrom('f64' as const, 'f64' as const, 'f32' as const)).map(([value, format]): WireNode => ({ kind: 'float', value, format })), weight: 3 },
  { arbitrary: fc.tuple(fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }), fc.constantFrom(...INT_FORMATS)).map(([value, format]): WireNode => ({ kind: 'int', value, format })), weight: 1 },
  { arbitrary: fc.tuple(fc.double(), fc.constantFrom('f32' as const, 'f64' as const)).map(([value, format]): WireNode => ({ kind: 'float', value, format })), weight: 1 }
)

const at = fc.nat()
const delta = fc.constantFrom(-2, -1, 1, 2, 3, 100, 0xffff, 0xffff_ffff)

export const treeMutation: fc.Arbitrary<TreeMutation> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('replace' as const), at, node: anyTree }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('number' as const), at, node: numberNode }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('intFormat' as const), at, format: fc.constantFrom(...INT_FORMATS) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('binLength' as const), at, length: fc.oneof(fc.constantFrom(0, 1, 31, 33, 63, 65, 256), fc.nat({ max: 300 })) }), weight: 2 },
  fc.record({ op: fc.constant('binLie' as const), at, delta }),
  fc.record({ op: fc.constant('binFormat' as const), at, format: fc.constantFrom(...BIN_FORMATS) }),
  { arbitrary: fc.record({ op: fc.constant('retype' as const), at }), weight: 2 },
  fc.record({ op: fc.constant('insert' as const), at, index: fc.nat(), node: fc.oneof(anyTree, numberNode) }),
  fc.record({ op: fc.constant('remove' as const), at, index: fc.nat() }),
  fc.record({ op: fc.constant('duplicate' as const), at, index: fc.nat() }),
  fc.record({ op: fc.constant('arrayLie' as const), at, delta }),
  fc.record({ op: fc.constant('arrayFormat' as const), at, format: fc.constantFrom(...ARRAY_FORMATS) })
)

export const treeEdit: fc.Arbitrary<TreeEdit> = fc.record({
  // Mostly one edit: most faults take one precise change of an otherwise valid value.
  mutations: fc.oneof({ arbitrary: fc.array(treeMutation, { minLength: 1, maxLength: 1 }), weight: 3 }, fc.array(treeMutation, { minLength: 2, maxLength: 3 })),
  truncate: fc.option(fc.nat(), { nil: undefined, freq: 8 }),
  trailing: fc.option(bytes(1, 4), { nil: undefined, freq: 8 })
}, { requiredKeys: ['mutations'] })

type Kind = WireNode['kind']
const TARGETS: Record<TreeMutation['op'], readonly Kind[] | undefined> = {
  replace: undefined, retype: undefined, number: ['int', 'float'], intFormat: ['int'],
  binLength: ['bin'], binLie: ['bin'], binFormat: ['bin'],
  insert: ['array'], remove: ['array'], duplicate: ['array'], arrayLie: ['array'], arrayFormat: ['array']
}

/** Overwrites `target` with `next`, so that the parent now holds the new node. */
function become (target: WireNode, next: WireNode): void {
  const t = target as unknown as Record<string, unknown>
  for (const key of Object.keys(t)) Reflect.deleteProperty(t, key)
  Object.assign(t, next)
}

function retyped (node: WireNode): WireNode {
  switch (node.kind) {
    case 'bin': return { kind: 'str', bytes: node.bytes, format: node.bytes.byteLength <= 31 ? 'fixstr' : node.bytes.byteLength <= 0xff ? 's8' : 's16' }
    case 'str': return { kind: 'bin', bytes: node.bytes, format: 'b8', lengthDelta: 0 }
    case 'int': return { kind: 'float', value: Number(node.value), format: node.format === 'f64' ? 'f32' : 'f64' }
    case 'float': return { kind: 'int', value: BigInt(Math.trunc(Number.isFinite(node.value) ? node.value : 0)), format: 'u64' }
    // The same items, paired up as a map; or the array's own encoding wrapped in a bin.
    case 'array': return node.items.length % 2 === 0
      ? { kind: 'map', entries: Array.from({ length: node.items.length / 2 }, (_, i): [WireNode, WireNode] => [node.items[2 * i], node.items[2 * i + 1]]), format: 'fixmap' }
      : { kind: 'bin', bytes: encodeNode(node), format: 'b16', lengthDelta: 0 }
    case 'map': return arrayNode(node.entries.flat())
    default: return { kind: 'nil' }
  }
}

function apply (root: WireNode, m: TreeMutation): void {
  const all = nodesOf(root)
  const kinds = TARGETS[m.op]
  const fitting = kinds === undefined ? all : all.filter(n => kinds.includes(n.kind))
  const pool = fitting.length > 0 ? fitting : all
  const node = pool[m.at % pool.length]
  switch (m.op) {
    case 'replace': case 'number': become(node, cloneNode(m.node)); return
    case 'retype': become(node, retyped(node)); return
    case 'intFormat': if (node.kind === 'int') node.format = m.format; return
    case 'binLength':
      if (node.kind === 'bin') {
        const next = new Uint8Array(m.length)
        next.set(node.bytes.subarray(0, m.length))
        node.bytes = next
      }
      return
    case 'binLie': if (node.kind === 'bin') node.lengthDelta = m.delta; return
    case 'binFormat': if (node.kind === 'bin') node.format = m.format; return
    case 'arrayLie': if (node.kind === 'array') node.countDelta = m.delta; return
    case 'arrayFormat': if (node.kind === 'array') node.format = m.format; return
    default: break
  }
  if (node.kind !== 'array') { become(node, cloneNode(m.op === 'insert' ? m.node : { kind: 'nil' })); return }
  const items = node.items
  if (m.op === 'insert') items.splice(m.index % (items.length + 1), 0, cloneNode(m.node))
  else if (items.length === 0) items.push({ kind: 'nil' })
  else if (m.op === 'remove') items.splice(m.index % items.length, 1)
  else items.splice(m.index % items.length, 0, cloneNode(items[m.index % items.length]))
}

/** Applies an edit to a copy of `tree` and encodes the result. */
export function applyTreeEdit (tree: WireNode, edit: TreeEdit): Uint8Array {
  const root = cloneNode(tree)
  for (const m of edit.mutations) apply(root, m)
  let out = encodeNode(root)
  if (edit.truncate !== undefined) out = out.subarray(0, edit.truncate % (out.byteLength + 1))
  if (edit.trailing !== undefined) out = concat([out, edit.trailing])
  return out
}

export function concat (parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let offset = 0
  for (const p of parts) { out.set(p, offset); offset += p.byteLength }
  return out
}

// ---- Byte-level ------------------------------------------------------------------------

export type ByteMutation =
  | { op: 'flip', at: number, bit: number }
  | { op: 'set', at: number, value: number }
  | { op: 'insert', at: number, bytes: Uint8Array }
  | { op: 'delete', at: number, length: number }
  | { op: 'duplicate', at: number, length: number }
  | { op: 'truncate', at: number }
  | { op: 'splice', at: number, from: number }

export const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('flip' as const), at, bit: fc.nat({ max: 7 }) }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('set' as const), at, value: interestingByte }), weight: 3 },
  fc.record({ op: fc.constant('insert' as const), at, bytes: fc.array(interestingByte, { minLength: 1, maxLength: 4 }).map(b => Uint8Array.from(b)) }),
  fc.record({ op: fc.constant('delete' as const), at, length: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant('duplicate' as const), at, length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ op: fc.constant('truncate' as const), at }),
  fc.record({ op: fc.constant('splice' as const), at, from: fc.nat() })
)

/** Applies byte edits to `input`; `other` is the second encoding a splice takes its tail from. */
export function applyByteEdits (input: Uint8Array, other: Uint8Array, edits: readonly ByteMutation[]): Uint8Array {
  let b = input
  for (const e of edits) {
    const i = e.at % (b.byteLength + 1)
    switch (e.op) {
      case 'flip': if (i < b.byteLength) { b = b.slice(); b[i] ^= 1 << e.bit } break
      case 'set': if (i < b.byteLength) { b = b.slice(); b[i] = e.value } break
      case 'insert': b = concat([b.subarray(0, i), e.bytes, b.subarray(i)]); break
      case 'delete': b = concat([b.subarray(0, i), b.subarray(i + e.length)]); break
      case 'duplicate': b = concat([b.subarray(0, i + e.length), b.subarray(i)]); break
      case 'truncate': b = b.subarray(0, i); break
      case 'splice': b = concat([b.subarray(0, i), other.subarray(e.from % (other.byteLength + 1))])
    }
  }
  return b
}

/** Two real encodings and a few byte edits of the first (splices take the second's tail). */
export const byteMutated = (seed: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> =>
  fc.tuple(seed, seed, fc.array(byteMutation, { minLength: 1, maxLength: 4 })).map(([a, b, edits]) => applyByteEdits(a, b, edits))

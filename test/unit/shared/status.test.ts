// The status answer of /kimura/status/1.0.0 (SPEC 5): its network id, its exact bytes, and a
// strict decoder that refuses every shape but [1, networkId: bin32, tip: Header].
import '../../../src/shared/polyfill.js'
import test from 'ava'
import { blake3 } from '@noble/hashes/blake3.js'
import { GENESIS_BLOCK } from '../../../src/shared/block.js'
import { encodeBlock } from '../../../src/shared/codec.js'
import { decodeStatus, encodeStatus, networkId, type Status } from '../../../src/shared/status.js'
import { arrayNode, binNode, encodeNode, headerNode, uintNode, type WireNode } from '../../fuzz/lib/wire.js'
import { leaderKey, makeChain, senderKey } from '../../helpers/fixtures.js'

const [block1] = makeChain(1)
const id = networkId(leaderKey.publicKey)

test('networkId is B3(0x4e || 0x01 || leaderKey), by another BLAKE3 implementation', t => {
  const expected = blake3(Uint8Array.of(0x4e, 0x01, ...leaderKey.publicKey))
  t.deepEqual(id, expected)
  t.is(id.byteLength, 32)
  t.notDeepEqual(networkId(senderKey.publicKey), id)
})

test('a status round-trips, and its binaries are views into the input', t => {
  const status: Status = { networkId: id, tip: block1.block.header }
  const bytes = encodeStatus(status)
  const decoded = decodeStatus(bytes)
  if (!decoded.ok) return t.fail(decoded.reason)
  t.deepEqual(decoded.value, status)
  t.is(decoded.value.networkId.buffer, bytes.buffer)
})

test('the genesis tip of an empty node encodes to the exact SPEC 5 bytes', t => {
  const bytes = encodeStatus({ networkId: id, tip: GENESIS_BLOCK.header })
  const h = GENESIS_BLOCK.header
  const expected = Uint8Array.of(
    0x93, 0x01, 0xc4, 0x20, ...id,
    0x96, 0x00, 0x00, 0xc4, 0x20, ...h.prevHash, 0xc4, 0x20, ...h.messageRoot, 0xc4, 0x20, ...h.proposer, 0xc4, 0x40, ...h.signature
  )
  t.deepEqual(bytes, expected)
  const decoded = decodeStatus(bytes)
  t.true(decoded.ok)
  if (decoded.ok) t.deepEqual(decoded.value.tip, GENESIS_BLOCK.header)
})

test('integers in any format SPEC 5 allows are read: float64 1.0 and uint64 1 as the version', t => {
  for (const version of [uintNode(1, 'f64'), uintNode(1, 'u64'), uintNode(1, 'i8')]) {
    const decoded = decodeStatus(encodeNode(statusTree({ version })))
    t.true(decoded.ok, decoded.ok ? '' : decoded.reason)
  }
})

/** The status as a tree, with any of its three parts replaced. */
function statusTree (parts: { version?: WireNode, networkId?: WireNode, tip?: WireNode, extra?: WireNode[] } = {}): WireNode {
  return arrayNode([
    parts.version ?? uintNode(1),
    parts.networkId ?? binNode(id),
    parts.tip ?? headerNode(block1.block.header),
    ...(parts.extra ?? [])
  ])
}

const header = block1.block.header
const headerWith = (index: number, node: WireNode): WireNode => {
  const tree = headerNode(header)
  if (tree.kind === 'array') tree.items[index] = node
  return tree
}
const str = (text: string): WireNode => ({ kind: 'str', bytes: new Uint8Array(Buffer.from(text)), format: 'fixstr' })

const malformed: Array<[string, Uint8Array]> = [
  ['empty input', new Uint8Array(0)],
  ['a map', Uint8Array.of(0x80)],
  ['nil', Uint8Array.of(0xc0)],
  ['a bare networkId', encodeNode(binNode(id))],
  ['two elements', encodeNode(arrayNode([uintNode(1), binNode(id)]))],
  ['four elements', encodeNode(statusTree({ extra: [uintNode(0)] }))],
  ['version 0', encodeNode(statusTree({ version: uintNode(0) }))],
  ['version 2', encodeNode(statusTree({ version: uintNode(2) }))],
  ['version -1', encodeNode(statusTree({ version: { kind: 'int', value: -1n, format: 'negfixint' } }))],
  ['version 1.5', encodeNode(statusTree({ version: { kind: 'float', value: 1.5, format: 'f64' } }))],
  ['version as float32', encodeNode(statusTree({ version: { kind: 'float', value: 1, format: 'f32' } }))],
  ['version -0.0', encodeNode(statusTree({ version: { kind: 'float', value: -0, format: 'f64' } }))],
  ['version as a string', encodeNode(statusTree({ version: str('1') }))],
  ['networkId of 31 bytes', encodeNode(statusTree({ networkId: binNode(id.subarray(1)) }))],
  ['networkId of 33 bytes', encodeNode(statusTree({ networkId: binNode(Uint8Array.of(0, ...id)) }))],
  ['networkId as a string', encodeNode(statusTree({ networkId: { kind: 'str', bytes: id, format: 's8' } }))],
  ['networkId whose length lies', encodeNode(statusTree({ networkId: { kind: 'bin', bytes: id, format: 'b8', lengthDelta: 1 } }))],
  ['tip not an array', encodeNode(statusTree({ tip: binNode(new Uint8Array(32)) }))],
  ['tip of five elements', encodeNode(statusTree({ tip: (() => { const h = headerNode(header); if (h.kind === 'array') h.items.pop(); return h })() }))],
  ['tip of seven elements', encodeNode(statusTree({ tip: (() => { const h = headerNode(header); if (h.kind === 'array') h.items.push(uintNode(0)); return h })() }))],
  ['tip height negative', encodeNode(statusTree({ tip: headerWith(0, { kind: 'int', value: -5n, format: 'i8' }) }))],
  ['tip height 2^53', encodeNode(statusTree({ tip: headerWith(0, { kind: 'int', value: 2n ** 53n, format: 'u64' }) }))],
  ['tip height 2^64 - 1', encodeNode(statusTree({ tip: headerWith(0, { kind: 'int', value: 2n ** 64n - 1n, format: 'u64' }) }))],
  ['tip timestamp a fraction', encodeNode(statusTree({ tip: headerWith(1, { kind: 'float', value: 0.5, format: 'f64' }) }))],
  ['tip timestamp NaN', encodeNode(statusTree({ tip: headerWith(1, { kind: 'float', value: NaN, format: 'f64' }) }))],
  ['tip prevHash of 31 bytes', encodeNode(statusTree({ tip: headerWith(2, binNode(new Uint8Array(31))) }))],
  ['tip signature of 63 bytes', encodeNode(statusTree({ tip: headerWith(5, binNode(new Uint8Array(63))) }))],
  ['an extension type', encodeNode(statusTree({ networkId: { kind: 'ext', type: 1, bytes: id } }))],
  ['a trailing byte', Uint8Array.of(...encodeStatus({ networkId: id, tip: header }), 0x00)],
  ['a Block instead', encodeBlock(block1.block)]
]

for (const [name, bytes] of malformed) {
  test(`a status with ${name} is MALFORMED`, t => {
    const decoded = decodeStatus(bytes)
    t.false(decoded.ok)
    if (!decoded.ok) {
      t.is(decoded.code, 'MALFORMED')
      t.regex(decoded.reason, /\S/)
    }
  })
}

test('every truncation of a valid status is MALFORMED', t => {
  const bytes = encodeStatus({ networkId: id, tip: header })
  for (let n = 0; n < bytes.byteLength; n++) {
    const decoded = decodeStatus(bytes.subarray(0, n))
    t.false(decoded.ok, `a status cut to ${n} bytes decoded`)
  }
})

// JSON bodies for POST /v1/messages: valid message objects and batches written as text (so
// that numbers such as -0, 1e400 or 5.0 reach the parser as a client would send them), then
// mutated field by field: wrong types, bad hex, wrong lengths, missing or extra fields.
import fc from 'fast-check'
import { toHex } from '../../../src/shared/bytes.js'
import type { Message } from '../../../src/shared/types.js'
import { messageValue } from './values.js'

/** A JSON value whose numbers are written as given (`{ num: '-0' }`). */
export type JsonNode = string | boolean | null | { num: string } | JsonNode[] | { obj: Array<[string, JsonNode]> }

export function jsonText (node: JsonNode): string {
  if (node === null || typeof node === 'boolean') return String(node)
  if (typeof node === 'string') return JSON.stringify(node)
  if (Array.isArray(node)) return `[${node.map(jsonText).join(',')}]`
  if ('num' in node) return node.num
  return `{${node.obj.map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v)}`).join(',')}}`
}

/** Hex of either case, as SPEC 8 allows on input. */
function hexText (bytes: Uint8Array, upper: boolean): string {
  const h = toHex(bytes)
  return upper ? h.toUpperCase() : h
}

/** The same integer in another JSON spelling that parses to it exactly. */
function numberText (n: number, spelling: number): string {
  if (spelling === 1 && n < 1e15) return `${n}.0`
  if (spelling === 2 && n > 0 && n % 10 === 0) return `${n / 10}e1`
  return String(n)
}

const messageObject = (m: Message, upper: boolean, spelling: number): JsonNode => ({
  obj: [
    ['sender', hexText(m.sender, upper)],
    ['timestamp', { num: numberText(m.timestamp, spelling) }],
    ['nonce', { num: numberText(m.nonce, spelling) }],
    ['content', hexText(m.content, upper)],
    ['signature', hexText(m.signature, upper)]
  ]
})

const validObject: fc.Arbitrary<JsonNode> = fc.tuple(messageValue, fc.boolean(), fc.nat({ max: 3 })).map(([m, upper, spelling]) => messageObject(m, upper, spelling))

const BAD_NUMBERS = ['-0', '-1', '0.5', '1e400', '-1e400', '9007199254740992', '9007199254740993', '9007199254740991', '1e21', '-0.0', '0e0', '4294967296']
const BAD_HEX = ['', '0', 'zz', ' 00', '0x00', '00 ', 'é0', '\u0000\u0000', 'gg'.repeat(32), '0'.repeat(62), '0'.repeat(66), '0'.repeat(126), '0'.repeat(130)]

/** A value of another type or at an edge of a field's rule. */
const badValue: fc.Arbitrary<JsonNode> = fc.oneof(
  fc.constantFrom<JsonNode>(null, true, false, [], { obj: [] }, '1', '', { num: '0' }),
  fc.constantFrom(...BAD_NUMBERS).map((num): JsonNode => ({ num })),
  fc.constantFrom(...BAD_HEX),
  fc.nat({ max: 80 }).map(n => 'ab'.repeat(n)),
  fc.string({ maxLength: 8 })
)

const FIELDS = ['sender', 'timestamp', 'nonce', 'content', 'signature']

type ObjectEdit =
  | { op: 'set', field: number, value: JsonNode }
  | { op: 'drop', field: number }
  | { op: 'extra', key: string, value: JsonNode }
  | { op: 'duplicate', field: number, value: JsonNode }

const objectEdit: fc.Arbitrary<ObjectEdit> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('set' as const), field: fc.nat({ max: 4 }), value: badValue }), weight: 4 },
  fc.record({ op: fc.constant('drop' as const), field: fc.nat({ max: 4 }) }),
  fc.record({ op: fc.constant('extra' as const), key: fc.oneof(fc.constantFrom('id', '__proto__', 'constructor', 'Sender'), fc.string({ maxLength: 6 })), value: badValue }),
  fc.record({ op: fc.constant('duplicate' as const), field: fc.nat({ max: 4 }), value: fc.oneof(badValue, validObject) })
)

function editObject (node: JsonNode, edit: ObjectEdit): JsonNode {
  if (node === null || typeof node !== 'object' || Array.isArray(node) || !('obj' in node)) return node
  const entries = [...node.obj]
  switch (edit.op) {
    case 'set': return { obj: entries.map(([k, v]): [string, JsonNode] => [k, k === FIELDS[edit.field] ? edit.value : v]) }
    case 'drop': return { obj: entries.filter(([k]) => k !== FIELDS[edit.field]) }
    case 'extra': return { obj: [...entries, [edit.key, edit.value]] }
    case 'duplicate': return { obj: [...entries, [FIELDS[edit.field], edit.value]] }
  }
}

const editedObject: fc.Arbitrary<JsonNode> = fc.tuple(validObject, fc.array(objectEdit, { maxLength: 2 }))
  .map(([o, edits]) => edits.reduce(editObject, o))

/** Arrays nested `depth` deep around `inner`, at the scan's depth limit of 32. */
const nested: fc.Arbitrary<JsonNode> = fc.tuple(fc.integer({ min: 30, max: 34 }), fc.oneof(validObject, badValue)).map(([depth, inner]) => {
  let node: JsonNode = inner
  for (let i = 1; i < depth; i++) node = [node]
  return node
})

/** A body: one object, a batch of them, or some other JSON value. */
export const jsonBody: fc.Arbitrary<JsonNode> = fc.oneof(
  { arbitrary: editedObject, weight: 4 },
  { arbitrary: fc.array(fc.oneof({ arbitrary: validObject, weight: 3 }, { arbitrary: editedObject, weight: 1 }), { maxLength: 6 }), weight: 4 },
  { arbitrary: fc.oneof(badValue, fc.array(badValue, { maxLength: 3 }), fc.array(fc.array(validObject, { maxLength: 2 }), { maxLength: 2 })), weight: 1 },
  { arbitrary: fc.oneof(nested, fc.array(fc.oneof(fc.constant<JsonNode>({ obj: [] }), fc.constant<JsonNode>([])), { maxLength: 60 })), weight: 1 }
)

// The wire codec of SPEC 5: what we encode round-trips, and the strict decoder accepts every
// integer form the SPEC allows and rejects everything else with a result, never a throw.
import '../../../src/shared/polyfill.js'
import test, { type ExecutionContext } from 'ava'
import { pack } from 'msgpackr'
import { buildSignedBlock, GENESIS_HASH } from '../../../src/shared/block.js'
import { toHex } from '../../../src/shared/bytes.js'
import { checkMessage, decodeBlock, decodeMessage, decodeMessageBatch, encodeBlock, encodeMessage, joinEncodedMessages, messageOffsetsIn, spliceBlock, type DecodeResult } from '../../../src/shared/codec.js'
import { DEFAULT_PARAMS } from '../../../src/shared/params.js'
import type { Block, Message } from '../../../src/shared/types.js'
import { hex, leaderKey, loadVectors, makeMessages, senderKey } from '../../helpers/fixtures.js'
import { encodeMessageBatch } from '../../helpers/message-batch.js'

const block1Wire = hex(loadVectors().block1.wireHex)

// ---- Hand-written MessagePack ----------------------------------------------------------

function cat (...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts))
}

function fill (length: number, byte: number): Uint8Array {
  return new Uint8Array(length).fill(byte)
}

/** bin 8 for short data, bin 16 up to 64 KiB. */
function bin (data: Uint8Array): Uint8Array {
  if (data.byteLength < 256) return cat(Uint8Array.of(0xc4, data.byteLength), data)
  return cat(Uint8Array.of(0xc5, data.byteLength >> 8, data.byteLength & 0xff), data)
}

/** A fixarray header (fewer than 16 elements). */
function arr (n: number): Uint8Array {
  return Uint8Array.of(0x90 | n)
}

type IntForm = 'fixint' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'int8' | 'int16' | 'int32' | 'int64' | 'float64'

/** `value` in one MessagePack number format, written with DataView. */
function num (form: IntForm, value: number): Uint8Array {
  const sizes: Record<IntForm, [number, number]> = {
    fixint: [-1, 0], uint8: [0xcc, 1], uint16: [0xcd, 2], uint32: [0xce, 4], uint64: [0xcf, 8],
    int8: [0xd0, 1], int16: [0xd1, 2], int32: [0xd2, 4], int64: [0xd3, 8], float64: [0xcb, 8]
  }
  const [tag, size] = sizes[form]
  if (tag < 0) return Uint8Array.of(value)
  const out = new Uint8Array(1 + size)
  const view = new DataView(out.buffer)
  out[0] = tag
  switch (form) {
    case 'uint8': view.setUint8(1, value); break
    case 'uint16': view.setUint16(1, value); break
    case 'uint32': view.setUint32(1, value); break
    case 'uint64': view.setBigUint64(1, BigInt(value)); break
    case 'int8': view.setInt8(1, value); break
    case 'int16': view.setInt16(1, value); break
    case 'int32': view.setInt32(1, value); break
    case 'int64': view.setBigInt64(1, BigInt(value)); break
    default: view.setFloat64(1, value)
  }
  return out
}

const SENDER = fill(32, 0x11)
const CONTENT = Uint8Array.of(1, 2, 3)
const SIGNATURE = fill(64, 0x22)
const TIMESTAMP = 1_764_000_000_000

interface MessageParts { sender: Uint8Array, timestamp: Uint8Array, nonce: Uint8Array, content: Uint8Array, signature: Uint8Array }

function messageParts (over: Partial<MessageParts> = {}): Uint8Array[] {
  const p: MessageParts = {
    sender: bin(SENDER), timestamp: num('uint64', TIMESTAMP), nonce: num('fixint', 7), content: bin(CONTENT), signature: bin(SIGNATURE), ...over
  }
  return [p.sender, p.timestamp, p.nonce, p.content, p.signature]
}

function wireMessage (over: Partial<MessageParts> = {}): Uint8Array {
  return cat(arr(5), ...messageParts(over))
}

interface HeaderParts { height: Uint8Array, timestamp: Uint8Array, prevHash: Uint8Array, messageRoot: Uint8Array, proposer: Uint8Array, signature: Uint8Array }

function headerParts (over: Partial<HeaderParts> = {}): Uint8Array[] {
  const p: HeaderParts = {
    height: num('fixint', 1), timestamp: num('float64', TIMESTAMP), prevHash: bin(fill(32, 0x33)), messageRoot: bin(fill(32, 0x44)),
    proposer: bin(fill(32, 0x55)), signature: bin(fill(64, 0x66)), ...over
  }
  return [p.height, p.timestamp, p.prevHash, p.messageRoot, p.proposer, p.signature]
}

function wireHeader (over: Partial<HeaderParts> = {}): Uint8Array {
  return cat(arr(6), ...headerParts(over))
}

function wireBlock (over: { version?: Uint8Array, header?: Uint8Array, messages?: Uint8Array } = {}): Uint8Array {
  return cat(arr(3), over.version ?? num('fixint', 1), over.header ?? wireHeader(), over.messages ?? cat(arr(1), wireMessage()))
}

// ---- Comparison helpers ----------------------------------------------------------------

/** Binary fields as hex, so that views and copies compare by content. */
function plainMessage (m: Message): Record<string, string | number> {
  return { sender: toHex(m.sender), timestamp: m.timestamp, nonce: m.nonce, content: toHex(m.content), signature: toHex(m.signature) }
}

function plainBlock (b: Block): unknown {
  const h = b.header
  return {
    header: { height: h.height, timestamp: h.timestamp, prevHash: toHex(h.prevHash), messageRoot: toHex(h.messageRoot), proposer: toHex(h.proposer), signature: toHex(h.signature) },
    messages: b.messages.map(plainMessage)
  }
}

function expectOk<T> (t: ExecutionContext, result: DecodeResult<T>, what: string): T | undefined {
  if (result.ok) return result.value
  t.fail(`${what}: ${result.reason}`)
  return undefined
}

function expectMalformed<T> (t: ExecutionContext, decode: (bytes: Uint8Array) => DecodeResult<T>, bytes: Uint8Array, what: string): void {
  let result: DecodeResult<T> | undefined
  t.notThrows(() => { result = decode(bytes) }, what)
  if (result === undefined) return
  t.false(result.ok, what)
  if (!result.ok) {
    t.is(result.code, 'MALFORMED', what)
    t.true(result.reason.length > 0, what)
  }
}

// ---- Round trips -----------------------------------------------------------------------

test('messages round-trip: empty, short, maximum-size content and 2^53 - 1 integers', t => {
  const messages = [
    ...makeMessages(2, { contentBytes: 0 }),
    ...makeMessages(1, { contentBytes: 300 }),
    ...makeMessages(1, { contentBytes: DEFAULT_PARAMS.maxMessageBytes }),
    { ...makeMessages(1)[0], timestamp: Number.MAX_SAFE_INTEGER, nonce: Number.MAX_SAFE_INTEGER }
  ]
  for (const m of messages) {
    const bytes = encodeMessage(m)
    const decoded = expectOk(t, decodeMessage(bytes), 'decode')
    if (decoded === undefined) continue
    t.deepEqual(plainMessage(decoded), plainMessage(m))
    t.is(toHex(encodeMessage(decoded)), toHex(bytes))
  }
  const batch = expectOk(t, decodeMessageBatch(encodeMessageBatch(messages)), 'batch')
  t.deepEqual(batch?.map(plainMessage), messages.map(plainMessage))
  t.deepEqual(expectOk(t, decodeMessageBatch(encodeMessageBatch([])), 'empty batch'), [])
})

test('joining encoded messages gives the bytes encodeMessageBatch gives, at every array-header size', t => {
  const [signed] = makeMessages(1, { contentBytes: 4 })
  // 0 to 15 take a fixarray header, 16 to 65,535 an array16, more an array32.
  for (const n of [0, 1, 15, 16, 65_535, 65_536]) {
    const messages = Array.from({ length: n }, (_, i) => ({ ...signed, nonce: i }))
    const joined = joinEncodedMessages(messages.map(encodeMessage))
    t.is(toHex(joined), toHex(encodeMessageBatch(messages)), `${n} messages`)
  }
})

test('decoding can return the bytes of each message, which re-encoding reproduces', t => {
  const messages = makeMessages(20, { contentBytes: 40 })
  const raw: Uint8Array[] = []
  expectOk(t, decodeMessageBatch(encodeMessageBatch(messages), raw), 'batch')
  t.deepEqual(raw.map(toHex), messages.map(m => toHex(encodeMessage(m))))
  const block = buildSignedBlock(leaderKey, { height: 1, timestamp: 1, prevHash: GENESIS_HASH, messages }).block
  const rawInBlock: Uint8Array[] = []
  expectOk(t, decodeBlock(encodeBlock(block), rawInBlock), 'block')
  t.deepEqual(rawInBlock.map(toHex), raw.map(toHex))
})

test('blocks round-trip with 0, 1 and 20 messages and maximum-size content', t => {
  const blocks: Block[] = [
    buildSignedBlock(leaderKey, { height: 1, timestamp: TIMESTAMP, prevHash: GENESIS_HASH, messages: [] }).block,
    buildSignedBlock(leaderKey, { height: 2 ** 40, timestamp: 5, prevHash: GENESIS_HASH, messages: makeMessages(1) }).block,
    buildSignedBlock(leaderKey, { height: Number.MAX_SAFE_INTEGER, timestamp: Number.MAX_SAFE_INTEGER, prevHash: GENESIS_HASH, messages: makeMessages(20, { contentBytes: DEFAULT_PARAMS.maxMessageBytes }) }).block
  ]
  for (const block of blocks) {
    const bytes = encodeBlock(block)
    const decoded = expectOk(t, decodeBlock(bytes), `block with ${block.messages.length} messages`)
    if (decoded === undefined) continue
    t.deepEqual(plainBlock(decoded), plainBlock(block))
    t.is(toHex(encodeBlock(decoded)), toHex(bytes))
  }
})

test('a block spliced from its header and its messages\' stored bytes is encodeBlock\'s bytes, with every message\'s offsets', t => {
  const [signed] = makeMessages(1, { contentBytes: 100 })
  // 0 to 15 messages take a fixarray header, 16 to 65,535 an array16; 10,000 is maxBlockMessages.
  for (const n of [0, 1, 15, 16, 10_000]) {
    const messages = Array.from({ length: n }, (_, i) => ({ ...signed, nonce: i, content: new Uint8Array(100).fill(i % 251) }))
    const block = buildSignedBlock(leaderKey, { height: 2 ** 33 + n, timestamp: TIMESTAMP + n, prevHash: GENESIS_HASH, messages }).block
    const spliced = spliceBlock(block.header, messages.map(encodeMessage))
    const expected = encodeBlock(block)
    t.true(Buffer.from(spliced.encoded).equals(Buffer.from(expected)), `${n} messages: byte-identical`)
    const raw: Uint8Array[] = []
    t.true(decodeBlock(spliced.encoded, raw).ok, `${n} messages: decodes`)
    t.deepEqual(spliced.messageOffsets, messageOffsetsIn(spliced.encoded, raw), `${n} messages: offsets`)
    t.is(spliced.encoded.byteOffset, 0)
    t.is(spliced.encoded.buffer.byteLength, spliced.encoded.byteLength, 'owns its buffer (transferable)')
  }
})

test('message offsets are relative to the block, also when the block is a view into a larger buffer', t => {
  const messages = makeMessages(3, { contentBytes: 10 })
  const encoded = encodeBlock(buildSignedBlock(leaderKey, { height: 1, timestamp: 1, prevHash: GENESIS_HASH, messages }).block)
  const padded = new Uint8Array(encoded.byteLength + 7)
  padded.set(encoded, 7)
  const view = padded.subarray(7)
  const raw: Uint8Array[] = []
  t.true(decodeBlock(view, raw).ok)
  const offsets = messageOffsetsIn(view, raw)
  messages.forEach((m, i) => {
    t.is(toHex(encoded.subarray(offsets[2 * i], offsets[2 * i] + offsets[2 * i + 1])), toHex(encodeMessage(m)), `message ${i}`)
  })
})

test('encoded blocks own their buffer, so a later encoding does not overwrite them', t => {
  const a = encodeBlock(buildSignedBlock(leaderKey, { height: 1, timestamp: 1, prevHash: GENESIS_HASH, messages: [] }).block)
  const copy = toHex(a)
  encodeMessage(makeMessages(1, { key: senderKey, contentBytes: 64 })[0])
  t.is(toHex(a), copy)
  t.is(a.byteOffset, 0)
  t.is(a.buffer.byteLength, a.byteLength)
})

// ---- What the decoder accepts ----------------------------------------------------------

test('integers are accepted in every MessagePack integer format and as an exact float64', t => {
  const forms: IntForm[] = ['fixint', 'uint8', 'uint16', 'uint32', 'uint64', 'int8', 'int16', 'int32', 'int64', 'float64']
  for (const form of forms) {
    const m = expectOk(t, decodeMessage(wireMessage({ nonce: num(form, 5) })), `nonce as ${form}`)
    t.is(m?.nonce, 5, form)
    const b = expectOk(t, decodeBlock(wireBlock({ version: num(form, 1), header: wireHeader({ height: num(form, 100) }) })), `height as ${form}`)
    t.is(b?.header.height, 100, form)
  }
  for (const form of ['uint8', 'uint16', 'uint32', 'uint64', 'int16', 'int32', 'int64', 'float64'] as const) {
    t.is(expectOk(t, decodeMessage(wireMessage({ nonce: num(form, 0) })), `zero as ${form}`)?.nonce, 0)
  }
})

test('timestamps above 2^32, up to 2^53 - 1, are accepted as uint64, int64 and float64', t => {
  for (const value of [TIMESTAMP, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
    for (const form of ['uint64', 'int64', 'float64'] as const) {
      const m = expectOk(t, decodeMessage(wireMessage({ timestamp: num(form, value) })), `${value} as ${form}`)
      t.is(m?.timestamp, value, `${value} as ${form}`)
    }
  }
  t.is(expectOk(t, decodeMessage(wireMessage({ timestamp: num('uint32', 2 ** 32 - 1) })), 'uint32 max')?.timestamp, 2 ** 32 - 1)
})

test('a hand-built message and block decode to their fields; bin 16 and bin 32 content is accepted', t => {
  const m = expectOk(t, decodeMessage(wireMessage()), 'message')
  t.deepEqual(m === undefined ? undefined : plainMessage(m), { sender: toHex(SENDER), timestamp: TIMESTAMP, nonce: 7, content: toHex(CONTENT), signature: toHex(SIGNATURE) })
  const bin16 = cat(Uint8Array.of(0xc5, 0x00, 0x03), CONTENT)
  const bin32 = cat(Uint8Array.of(0xc6, 0x00, 0x00, 0x00, 0x03), CONTENT)
  for (const content of [bin16, bin32]) t.is(toHex(expectOk(t, decodeMessage(wireMessage({ content })), 'content')?.content ?? new Uint8Array(0)), toHex(CONTENT))
  const b = expectOk(t, decodeBlock(wireBlock({ messages: arr(0) })), 'empty block')
  t.is(b?.messages.length, 0)
  t.is(b?.header.timestamp, TIMESTAMP)
  t.is(toHex(b?.header.prevHash ?? new Uint8Array(0)), toHex(fill(32, 0x33)))
})

// ---- What the decoder rejects ----------------------------------------------------------

test('empty input and every truncation of block 1 are rejected', t => {
  expectMalformed(t, decodeBlock, new Uint8Array(0), 'empty block')
  expectMalformed(t, decodeMessage, new Uint8Array(0), 'empty message')
  expectMalformed(t, decodeMessageBatch, new Uint8Array(0), 'empty batch')
  t.true(decodeBlock(block1Wire).ok)
  for (let n = 0; n < block1Wire.byteLength; n++) expectMalformed(t, decodeBlock, block1Wire.subarray(0, n), `block 1 cut to ${n} bytes`)
  const message = wireMessage()
  for (let n = 0; n < message.byteLength; n++) expectMalformed(t, decodeMessage, message.subarray(0, n), `message cut to ${n} bytes`)
})

test('trailing bytes are rejected', t => {
  expectMalformed(t, decodeBlock, cat(block1Wire, Uint8Array.of(0x00)), 'block + 0x00')
  expectMalformed(t, decodeBlock, cat(block1Wire, block1Wire), 'two blocks')
  expectMalformed(t, decodeMessage, cat(wireMessage(), Uint8Array.of(0xc0)), 'message + nil')
  expectMalformed(t, decodeMessageBatch, cat(arr(1), wireMessage(), Uint8Array.of(0x01)), 'batch + 1')
})

test('wrong array lengths, maps and nil in place of arrays are rejected', t => {
  const fields = messageParts()
  const header = headerParts()
  const cases: Array<[string, (b: Uint8Array) => DecodeResult<unknown>, Uint8Array]> = [
    ['message of 4 fields', decodeMessage, cat(arr(4), ...fields.slice(0, 4))],
    ['message of 6 fields', decodeMessage, cat(arr(6), ...fields, num('fixint', 0))],
    ['header of 5 fields', decodeBlock, wireBlock({ header: cat(arr(5), ...header.slice(0, 5)) })],
    ['header of 7 fields', decodeBlock, wireBlock({ header: cat(arr(7), ...header, num('fixint', 0)) })],
    ['block of 2 elements', decodeBlock, cat(arr(2), num('fixint', 1), wireHeader())],
    ['block of 4 elements', decodeBlock, cat(arr(4), num('fixint', 1), wireHeader(), arr(0), arr(0))],
    ['message in a block of 4 fields', decodeBlock, wireBlock({ messages: cat(arr(1), arr(4), ...fields.slice(0, 4)) })],
    ['message as a map with keys 0..4', decodeMessage, cat(Uint8Array.of(0x85), ...fields.flatMap((f, i) => [num('fixint', i), f]))],
    ['block as a map', decodeBlock, pack({ version: 1, header: [], messages: [] })],
    ['header as a map', decodeBlock, wireBlock({ header: cat(Uint8Array.of(0x86), ...header.flatMap((f, i) => [num('fixint', i), f])) })],
    ['messages as a map', decodeBlock, wireBlock({ messages: Uint8Array.of(0x80) })],
    ['nil block', decodeBlock, Uint8Array.of(0xc0)],
    ['nil message', decodeMessage, Uint8Array.of(0xc0)],
    ['nil header', decodeBlock, wireBlock({ header: Uint8Array.of(0xc0) })],
    ['nil message list', decodeBlock, wireBlock({ messages: Uint8Array.of(0xc0) })],
    ['batch that is a single message', decodeMessageBatch, wireMessage()]
  ]
  for (const [what, decode, bytes] of cases) expectMalformed(t, decode, bytes, what)
})

test('block format versions other than 1 are rejected', t => {
  for (const version of [0, 2, 255]) expectMalformed(t, decodeBlock, wireBlock({ version: num('uint8', version) }), `version ${version}`)
  expectMalformed(t, decodeBlock, wireBlock({ version: num('float64', 1.5) }), 'version 1.5')
})

test('integer fields reject negatives, fractions, float32, NaN, infinities, values above 2^53 - 1 and other types', t => {
  const f32 = Uint8Array.of(0xca, 0x40, 0xa0, 0x00, 0x00) // float32 5.0
  const bad: Array<[string, Uint8Array]> = [
    ['negative fixint -1', Uint8Array.of(0xff)],
    ['int8 -1', num('int8', -1)],
    ['int16 -300', num('int16', -300)],
    ['int32 -1', num('int32', -1)],
    ['int64 -1', num('int64', -1)],
    ['float64 -1', num('float64', -1)],
    ['float64 -0.0', num('float64', -0)],
    ['float64 1.5', num('float64', 1.5)],
    ['float64 2^40 + 0.5', num('float64', 2 ** 40 + 0.5)],
    ['float32 5.0', f32],
    ['float64 NaN', num('float64', NaN)],
    ['float64 +Infinity', num('float64', Infinity)],
    ['float64 -Infinity', num('float64', -Infinity)],
    ['uint64 2^53', cat(Uint8Array.of(0xcf), hex('0020000000000000'))],
    ['int64 2^53', cat(Uint8Array.of(0xd3), hex('0020000000000000'))],
    ['float64 2^53', num('float64', 2 ** 53)],
    ['float64 2^64', num('float64', 2 ** 64)],
    ['uint64 max', cat(Uint8Array.of(0xcf), fill(8, 0xff))],
    ['int64 min', cat(Uint8Array.of(0xd3, 0x80), fill(7, 0x00))],
    ['nil', Uint8Array.of(0xc0)],
    ['false', Uint8Array.of(0xc2)],
    ['true', Uint8Array.of(0xc3)],
    ['string "5"', Uint8Array.of(0xa1, 0x35)],
    ['bin [5]', Uint8Array.of(0xc4, 0x01, 0x05)],
    ['array [5]', Uint8Array.of(0x91, 0x05)],
    ['fixext1', Uint8Array.of(0xd4, 0x01, 0x05)]
  ]
  for (const [what, bytes] of bad) {
    expectMalformed(t, decodeMessage, wireMessage({ nonce: bytes }), `nonce ${what}`)
    expectMalformed(t, decodeMessage, wireMessage({ timestamp: bytes }), `timestamp ${what}`)
    expectMalformed(t, decodeBlock, wireBlock({ header: wireHeader({ height: bytes }) }), `height ${what}`)
  }
})

test('float64 -0.0 is refused (SPEC 5: integers are non-negative; no encoder writes -0.0) while float64 0.0 is accepted', t => {
  const minusZero = num('float64', -0)
  t.is(toHex(minusZero), 'cb8000000000000000')
  t.is(expectOk(t, decodeMessage(wireMessage({ nonce: num('float64', 0) })), '0.0')?.nonce, 0)
  expectMalformed(t, decodeMessage, wireMessage({ nonce: minusZero }), 'nonce -0.0')
  expectMalformed(t, decodeMessage, wireMessage({ timestamp: minusZero }), 'timestamp -0.0')
  expectMalformed(t, decodeBlock, wireBlock({ version: minusZero }), 'version -0.0')
  expectMalformed(t, decodeBlock, wireBlock({ header: wireHeader({ timestamp: minusZero }) }), 'header timestamp -0.0')
  expectMalformed(t, decodeMessageBatch, cat(arr(1), wireMessage({ nonce: minusZero })), 'in a batch')
})

test('binary fields reject strings, other types and wrong lengths', t => {
  const str = (data: Uint8Array): Uint8Array => cat(Uint8Array.of(0xd9, data.byteLength), data)
  const messageCases: Array<[string, Partial<MessageParts>]> = [
    ['sender as str8', { sender: str(SENDER) }],
    ['content as str8', { content: str(CONTENT) }],
    ['content as fixstr', { content: Uint8Array.of(0xa3, 1, 2, 3) }],
    ['signature as str8', { signature: str(SIGNATURE) }],
    ['sender as nil', { sender: Uint8Array.of(0xc0) }],
    ['content as nil', { content: Uint8Array.of(0xc0) }],
    ['sender as an integer', { sender: num('fixint', 1) }],
    ['sender as an array of 32 bytes', { sender: cat(Uint8Array.of(0xdc, 0x00, 0x20), fill(32, 0x11)) }],
    ['sender of 31 bytes', { sender: bin(fill(31, 0x11)) }],
    ['sender of 33 bytes', { sender: bin(fill(33, 0x11)) }],
    ['sender of 0 bytes', { sender: bin(new Uint8Array(0)) }],
    ['signature of 63 bytes', { signature: bin(fill(63, 0x22)) }],
    ['signature of 65 bytes', { signature: bin(fill(65, 0x22)) }],
    ['content with a bin length beyond the input', { content: Uint8Array.of(0xc6, 0xff, 0xff, 0xff, 0xff, 1, 2, 3) }]
  ]
  for (const [what, over] of messageCases) {
    expectMalformed(t, decodeMessage, wireMessage(over), what)
    expectMalformed(t, decodeBlock, wireBlock({ messages: cat(arr(1), wireMessage(over)) }), `in a block: ${what}`)
  }
  const headerCases: Array<[string, Partial<HeaderParts>]> = [
    ['prevHash of 31 bytes', { prevHash: bin(fill(31, 0x33)) }],
    ['prevHash of 33 bytes', { prevHash: bin(fill(33, 0x33)) }],
    ['messageRoot of 31 bytes', { messageRoot: bin(fill(31, 0x44)) }],
    ['proposer of 33 bytes', { proposer: bin(fill(33, 0x55)) }],
    ['header signature of 63 bytes', { signature: bin(fill(63, 0x66)) }],
    ['header signature of 65 bytes', { signature: bin(fill(65, 0x66)) }],
    ['prevHash as str8', { prevHash: str(fill(32, 0x33)) }],
    ['proposer as nil', { proposer: Uint8Array.of(0xc0) }]
  ]
  for (const [what, over] of headerCases) expectMalformed(t, decodeBlock, wireBlock({ header: wireHeader(over) }), what)
})

test('extension types are rejected wherever they appear', t => {
  const ext8 = cat(Uint8Array.of(0xc7, 32, 0x01), SENDER)
  const fixext = Uint8Array.of(0xd4, 0x01, 0x00)
  const date = pack(new Date(0)) // msgpackr writes the timestamp extension (type -1)
  t.is(date[0], 0xd6)
  expectMalformed(t, decodeMessage, wireMessage({ sender: ext8 }), 'ext 8 sender')
  expectMalformed(t, decodeMessage, wireMessage({ content: fixext }), 'fixext content')
  expectMalformed(t, decodeMessage, wireMessage({ timestamp: date }), 'timestamp extension')
  expectMalformed(t, decodeBlock, fixext, 'fixext block')
  expectMalformed(t, decodeBlock, wireBlock({ messages: fixext }), 'fixext message list')
  expectMalformed(t, decodeBlock, wireBlock({ header: cat(Uint8Array.of(0xc7, 0x01, 0x01), arr(0)) }), 'ext header')
})

test('array lengths larger than the input are rejected', t => {
  const cases: Array<[string, (b: Uint8Array) => DecodeResult<unknown>, Uint8Array]> = [
    ['array32 of 2^32 - 1 messages', decodeBlock, wireBlock({ messages: Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff) })],
    ['array16 of 65535 messages', decodeBlock, wireBlock({ messages: cat(Uint8Array.of(0xdc, 0xff, 0xff), wireMessage()) })],
    ['fixarray of 15 messages holding 1', decodeBlock, wireBlock({ messages: cat(Uint8Array.of(0x9f), wireMessage()) })],
    ['array32 batch of 2^32 - 1', decodeMessageBatch, Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff)],
    ['array32 block of 2^32 - 1', decodeBlock, Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff, 0x01)]
  ]
  for (const [what, decode, bytes] of cases) expectMalformed(t, decode, bytes, what)
})

test('checkMessage (the producer\'s check of a stored message) accepts and refuses exactly what decodeMessage does, with the same reason', t => {
  const forms: Array<[string, Uint8Array]> = [
    ['minimal', wireMessage()],
    ['wide bins and integers', wireMessage({ sender: cat(Uint8Array.of(0xc6, 0, 0, 0, 32), SENDER), timestamp: num('int64', TIMESTAMP), nonce: num('float64', 7), signature: cat(Uint8Array.of(0xc5, 0, 64), SIGNATURE) })]
  ]
  let compared = 0
  for (const [form, valid] of forms) {
    const variants: Uint8Array[] = [valid]
    for (let cut = 0; cut < valid.byteLength; cut++) variants.push(valid.subarray(0, cut))
    variants.push(cat(valid, Uint8Array.of(0)))
    for (let i = 0; i < valid.byteLength; i++) {
      for (const b of [0x00, 0x7f, 0x90, 0x95, 0xc0, 0xc4, 0xc5, 0xc6, 0xcb, 0xcf, 0xd3, 0xdc, 0xff, valid[i] ^ 0x01]) {
        const changed = Uint8Array.from(valid)
        changed[i] = b
        variants.push(changed)
      }
    }
    for (const bytes of variants) {
      const decoded = decodeMessage(bytes)
      const checked = checkMessage(bytes)
      t.is(checked.ok, decoded.ok, `${form}: ${toHex(bytes)}`)
      if (!checked.ok && !decoded.ok) t.is(checked.reason, decoded.reason)
      compared++
    }
  }
  t.true(checkMessage(forms[0][1]).ok && checkMessage(forms[1][1]).ok)
  t.true(compared > 1000, `${compared} encodings compared`)
})

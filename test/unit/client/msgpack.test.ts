// The client's MessagePack encoder of submission bodies writes, byte for byte, what the node's
// codec (msgpackr) writes for the same messages, and the node's strict decoder reads it back.
import '../../../src/shared/polyfill.js'
import test from 'ava'
import { encodeMessageBatch, type Message } from '../../../src/client/index.js'
import { decodeMessageBatch, encodeMessage, joinEncodedMessages } from '../../../src/shared/codec.js'
import { senderKey } from '../../helpers/fixtures.js'

/** Structurally any message: the encoder does not check signatures. */
function message (timestamp: number, nonce: number, contentBytes: number): Message {
  return { sender: senderKey.publicKey, timestamp, nonce, content: new Uint8Array(contentBytes).fill(contentBytes % 251), signature: new Uint8Array(64).fill(7) }
}

/** Every integer width boundary msgpackr distinguishes, up to 2^53 - 1. */
const INTEGERS = [0, 1, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 1_764_000_000_000, 2 ** 53 - 1]
/** Every bin width boundary. */
const CONTENT_SIZES = [0, 1, 255, 256, 4096, 65_535, 65_536, 70_000]

/** Where the client's bytes first differ from the node codec's; -1 when they are the same. */
function firstDifference (messages: Message[]): number {
  const ours = Buffer.from(encodeMessageBatch(messages))
  const node = Buffer.from(joinEncodedMessages(messages.map(encodeMessage)))
  if (ours.equals(node)) return -1
  for (let i = 0; i < Math.min(ours.length, node.length); i++) if (ours[i] !== node[i]) return i
  return Math.min(ours.length, node.length)
}

test('each integer and content width encodes as the node\'s codec encodes it', t => {
  for (const value of INTEGERS) {
    for (const size of CONTENT_SIZES) {
      const batch = [message(value, INTEGERS[(INTEGERS.indexOf(value) + 3) % INTEGERS.length], size)]
      t.is(firstDifference(batch), -1, `integer ${value}, content ${size}`)
    }
  }
})

test('batches of 0, 1, 15, 16, 65,535 and 65,536 messages (fixarray, array16, array32) match and decode', t => {
  for (const count of [0, 1, 15, 16, 65_535, 65_536]) {
    const batch = Array.from({ length: count }, (_, i) => message(1_764_000_000_000 + i, i, i % 40))
    t.is(firstDifference(batch), -1, `${count} messages`)
    const bytes = encodeMessageBatch(batch)
    const decoded = decodeMessageBatch(bytes)
    t.true(decoded.ok, `${count} messages decode`)
    if (decoded.ok && count > 0) {
      t.is(decoded.value.length, count)
      t.deepEqual(decoded.value[count - 1].content, batch[count - 1].content)
      t.is(decoded.value[count - 1].timestamp, batch[count - 1].timestamp)
    }
  }
})

test('a timestamp or nonce that is not a non-negative safe integer is refused, not encoded', t => {
  for (const bad of [-1, 1.5, 2 ** 53, Number.NaN]) {
    t.throws(() => encodeMessageBatch([message(bad, 0, 1)]), { instanceOf: RangeError }, String(bad))
    t.throws(() => encodeMessageBatch([message(0, bad, 1)]), { instanceOf: RangeError }, String(bad))
  }
})

// A JSON submission (SPEC 8) is read straight into its wire form: the same bytes msgpackr
// writes for the message, and hex that is only hex.
import '../../../src/shared/polyfill.js'
import test from 'ava'
import { fromHex, toHex } from '../../../src/shared/bytes.js'
import { encodeMessage } from '../../../src/shared/codec.js'
import { messageToJson } from '../../../src/shared/json.js'
import { parseSubmission } from '../../../src/shared/submission-codec.js'
import type { Message } from '../../../src/shared/types.js'
import { makeMessages } from '../../helpers/fixtures.js'

const params = { maxMessageBytes: 70_000, maxBlockMessages: 100 }

function submit (body: unknown): ReturnType<typeof parseSubmission> {
  return parseSubmission(Buffer.from(JSON.stringify(body)), 'json', params)
}

test('JSON messages are written in msgpackr\'s bytes at every integer and content-length boundary', t => {
  const [base] = makeMessages(1)
  const integers = [0, 1, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 1_764_000_000_000, 2 ** 53 - 1]
  const lengths = [0, 1, 255, 256, 65_535, 65_536, 70_000]
  const messages: Message[] = [
    ...integers.map((n, i) => ({ ...base, timestamp: n, nonce: integers[integers.length - 1 - i] })),
    ...lengths.map(length => ({ ...base, content: new Uint8Array(length).fill(length % 251) }))
  ]
  const parsed = submit(messages.map(messageToJson))
  if (!parsed.ok) return t.fail(parsed.reason)
  t.is(parsed.value.encoded.length, messages.length)
  messages.forEach((m, i) => {
    t.is(toHex(parsed.value.encoded[i]), toHex(encodeMessage(m)), `message ${i}: timestamp ${m.timestamp}, ${m.content.byteLength} content bytes`)
    t.deepEqual({ ...parsed.value.messages[i] }, { ...m, sender: new Uint8Array(m.sender), content: new Uint8Array(m.content), signature: new Uint8Array(m.signature) })
  })
})

test('hex fields take either case and refuse every other char, look-alikes above U+00FF included', t => {
  const [m] = makeMessages(1)
  const json = messageToJson(m)
  const upper = submit({ ...json, sender: json.sender.toUpperCase(), content: json.content.toUpperCase() })
  t.true(upper.ok && toHex(upper.value.encoded[0]) === toHex(encodeMessage(m)), 'upper case')
  // U+FF41 (fullwidth a) and U+0130 have low bytes 0x41 ('A') and 0x30 ('0'): Buffer's hex decoder would read them so.
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['content', { content: '\uff41\uff41' }, 'message.content: expected hex'],
    ['sender', { sender: '\u0130'.repeat(2) + json.sender.slice(2) }, 'message.sender: expected 32 bytes of hex'],
    ['signature', { signature: json.signature.slice(0, -1) + 'g' }, 'message.signature: expected 64 bytes of hex'],
    ['odd length', { content: 'abc' }, 'message.content: expected hex'],
    ['not a string', { content: 12 }, 'message.content: expected a hex string']
  ]
  for (const [what, change, reason] of cases) {
    const answer = submit({ ...json, ...change })
    t.deepEqual(answer.ok ? 'accepted' : [answer.code, answer.reason], ['INVALID_MESSAGE', reason], what)
  }
  t.is(fromHex('\uff41\uff41'), undefined)
  t.deepEqual(fromHex('aBcD'), Uint8Array.of(0xab, 0xcd))
})

// decodeMessageBatch: batches crossing threads and the msgpack submission body. Checked
// against the independent reading; the raw views it hands out join back into the same batch.
import fc from 'fast-check'
import { decodeMessage, decodeMessageBatch, encodeMessage, joinEncodedMessages } from '../../../src/shared/codec.js'
import { check, checkMessageRules, agreesWithReference, sameValue } from '../lib/checks.js'
import { wireInput } from '../lib/inputs.js'
import { referenceBatch } from '../lib/reference.js'
import { signedMessageEncodings } from '../lib/signed.js'
import { defineTarget } from '../lib/target.js'
import { batchTree, batchValue } from '../lib/values.js'

let huge: Uint8Array | undefined
/** 65,536 small messages: past array16, the one size that takes joinEncodedMessages' array32 path. */
function hugeBatch (): Uint8Array {
  huge ??= joinEncodedMessages(new Array<Uint8Array>(0x1_0000).fill(signedMessageEncodings[0]))
  return huge
}

export const batchInput: fc.Arbitrary<Uint8Array> = fc.oneof(
  {
    arbitrary: wireInput({
      tree: batchTree,
      encoded: fc.oneof(
        batchValue.map(ms => joinEncodedMessages(ms.map(encodeMessage))),
        fc.subarray(signedMessageEncodings).map(joinEncodedMessages)
      )
    }),
    weight: 20_000
  },
  { arbitrary: fc.constant(null).map(hugeBatch), weight: 1 }
)

export const target = defineTarget({
  name: 'batch',
  about: 'decodeMessageBatch (threads, msgpack body): reference agreement, raw views, round trip',
  files: ['src/shared/codec.ts'],
  input: batchInput,
  runs: 120_000,
  quickRuns: 1_200,
  check (bytes) {
    const raw: Uint8Array[] = []
    const decoded = decodeMessageBatch(bytes, raw)
    agreesWithReference(decoded, referenceBatch(bytes), 'decodeMessageBatch')
    if (!decoded.ok) return
    const messages = decoded.value
    messages.forEach((m, i) => { checkMessageRules(m, `[${i}]`) })
    check(raw.length === messages.length, 'one raw view per message')
    raw.forEach((r, i) => {
      const one = decodeMessage(r)
      check(one.ok && sameValue(one.value, messages[i]), `raw view ${i} decodes to another message`)
    })
    const joined = decodeMessageBatch(joinEncodedMessages(raw))
    check(joined.ok && sameValue(joined.value, messages), 'the joined raw views decode to another batch')
    const reencoded = decodeMessageBatch(joinEncodedMessages(messages.map(encodeMessage)))
    check(reencoded.ok && sameValue(reencoded.value, messages), 'the re-encoded batch decodes to another batch')
  }
})

// What both submission body targets share: the parameters (small limits too, so that the
// limits are reached cheaply) and the check of an accepted submission.
import fc from 'fast-check'
import { decodeMessage } from '../../../src/shared/codec.js'
import type { ParsedSubmission, SubmissionParams } from '../../../src/shared/submission-codec.js'
import type { Message } from '../../../src/shared/types.js'
import { check, checkMessageRules, sameValue } from './checks.js'

export const submissionParams: fc.Arbitrary<SubmissionParams> = fc.oneof(
  { arbitrary: fc.constant({ maxMessageBytes: 4096, maxBlockMessages: 10_000 }), weight: 3 },
  fc.constantFrom({ maxMessageBytes: 32, maxBlockMessages: 3 }, { maxMessageBytes: 0, maxBlockMessages: 1 }, { maxMessageBytes: 24, maxBlockMessages: 16 })
)

/** -0 and 0 are one JSON number: the wire form carries 0 (msgpackr writes -0 as 0). */
const wireNumber = (n: number): number => n === 0 ? 0 : n
const asOnWire = (m: Message): Message => ({ ...m, timestamp: wireNumber(m.timestamp), nonce: wireNumber(m.nonce) })

/** An accepted submission: messages within the limits, and each one's wire bytes decode to it. */
export function checkAccepted (parsed: ParsedSubmission, params: SubmissionParams): void {
  const { messages, encoded } = parsed
  check(messages.length >= 1 && messages.length <= params.maxBlockMessages, `${messages.length} messages accepted`)
  check(encoded.length === messages.length, 'one encoding per message')
  messages.forEach((m, i) => {
    checkMessageRules(asOnWire(m), `[${i}]`)
    check(m.content.byteLength <= params.maxMessageBytes, `[${i}] is over the content limit`)
    const wire = decodeMessage(encoded[i])
    check(wire.ok && sameValue(wire.value, asOnWire(m)), `the wire bytes of [${i}] decode to another message`)
  })
}

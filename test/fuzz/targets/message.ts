// decodeMessage: the messages gossip topic. Checked against the independent reading; what it
// accepts re-encodes to the same message; a mutation of a signed message verifies only if it
// has the original id.
import fc from 'fast-check'
import { bytesKey } from '../../../src/shared/bytes.js'
import { decodeMessage, encodeMessage } from '../../../src/shared/codec.js'
import { DEFAULT_PARAMS } from '../../../src/shared/params.js'
import { verifyMessage } from '../../../src/shared/validation.js'
import { check, checkMessageRules, agreesWithReference, sameValue } from '../lib/checks.js'
import { wireInput } from '../lib/inputs.js'
import { referenceMessage } from '../lib/reference.js'
import { signedMessageEncoding, signedMessageIds } from '../lib/signed.js'
import { defineTarget } from '../lib/target.js'
import { messageTree, messageValue } from '../lib/values.js'

export const target = defineTarget({
  name: 'message',
  about: 'decodeMessage (gossip): reference agreement, round trip, verification of mutated signed messages',
  files: ['src/shared/codec.ts'],
  input: wireInput({ tree: messageTree, encoded: fc.oneof(messageValue.map(encodeMessage), signedMessageEncoding) }),
  runs: 150_000,
  quickRuns: 1_500,
  check (bytes) {
    const decoded = decodeMessage(bytes)
    agreesWithReference(decoded, referenceMessage(bytes), 'decodeMessage')
    if (!decoded.ok) return
    const m = decoded.value
    checkMessageRules(m, 'message')
    const again = decodeMessage(encodeMessage(m))
    check(again.ok && sameValue(again.value, m), 'the re-encoded message decodes to another message')
    // Signatures only where one could verify: the signed fixtures' sender.
    if (m.signature.byteLength === 64 && m.content.byteLength === 40) {
      const verdict = verifyMessage(m, DEFAULT_PARAMS)
      check(!verdict.ok || signedMessageIds.has(bytesKey(verdict.value)), 'a message that was never signed verified')
    }
  }
})

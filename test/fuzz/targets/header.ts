// decodeBlockHeader: what gossip reads before any other work (the height, the proposer, the
// signature to check first). It reads the prefix only; checked against the independent
// reading of that prefix and against decodeBlock of the whole.
import { decodeBlock, decodeBlockHeader } from '../../../src/shared/codec.js'
import { check, checkHeaderRules, agreesWithReference, sameValue } from '../lib/checks.js'
import { referenceBlockPrefix } from '../lib/reference.js'
import { defineTarget } from '../lib/target.js'
import { blockInput, checkDetachedInput } from './block.js'

export const target = defineTarget({
  name: 'header',
  about: 'decodeBlockHeader (gossip prefix): reference agreement, agreement with decodeBlock',
  files: ['src/shared/codec.ts'],
  input: blockInput,
  runs: 150_000,
  quickRuns: 1_500,
  check (bytes) {
    if (bytes.byteLength === 0) checkDetachedInput()
    const prefix = decodeBlockHeader(bytes)
    agreesWithReference(prefix, referenceBlockPrefix(bytes), 'decodeBlockHeader')
    if (prefix.ok) {
      checkHeaderRules(prefix.value.header, 'header')
      check(Number.isSafeInteger(prefix.value.messageCount) && prefix.value.messageCount >= 0 && prefix.value.messageCount <= bytes.byteLength, `message count ${prefix.value.messageCount} out of range`)
    }
    const whole = decodeBlock(bytes)
    if (whole.ok) {
      check(prefix.ok && sameValue(prefix.value.header, whole.value.header) && prefix.value.messageCount === whole.value.messages.length, 'decodeBlock accepted a block whose prefix decodeBlockHeader refuses or reads otherwise')
    }
  }
})

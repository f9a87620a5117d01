// admitMessages: decode a batch and verify every signature; the valid messages go on to the
// leader's producer (which appends them to `pending`) or to gossip.
import { toHex } from '../shared/bytes.js'
import { decodeMessageBatch } from '../shared/codec.js'
import type { NetworkParams } from '../shared/params.js'
import type { AdmitMessagesInput, AdmitMessagesOutput, MessageRejection } from '../shared/thread-contract.js'
import { verifyMessage } from '../shared/validation.js'
import type { VerifiedSet } from '../shared/verified-set.js'
import { verifiedMessages } from '../shared/verified-messages.js'

/**
 * `verified`: a peer records what it verified, so the same messages inside a block are not
 * checked again, and skips what it verified already (a relayed copy that came after its block).
 */
export function admitMessages (params: NetworkParams, batchBytes: Uint8Array, options: Omit<AdmitMessagesInput, 'batch'>, verified?: VerifiedSet): AdmitMessagesOutput {
  const rawMessages: Uint8Array[] = []
  const decoded = decodeMessageBatch(batchBytes, rawMessages)
  if (!decoded.ok) return { ok: false, code: 'MALFORMED', reason: decoded.reason }
  const messages = decoded.value
  if (messages.length === 0) return { ok: false, code: 'EMPTY_BATCH', reason: 'the batch holds no message' }
  if (messages.length > params.maxBlockMessages) {
    return { ok: false, code: 'BATCH_TOO_LARGE', reason: `${messages.length} messages, the limit is ${params.maxBlockMessages}` }
  }
  const validIds: Uint8Array[] = []
  const validEncoded: Uint8Array[] = []
  const ids: Array<string | null> = []
  const rejected: MessageRejection[] = []
  // A copy of a message this node verified already, here or inside a block that came first, is not checked again.
  const lookup = verified?.lookup(rawMessages)
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]
    const verdict = verifyMessage(message, params, lookup?.known(i) === true)
    if (!verdict.ok) {
      const reason = `message ${i}: ${verdict.reason}`
      if (options.mode === 'all') return { ok: false, code: verdict.code, reason, index: i }
      rejected.push({ index: i, code: verdict.code, reason })
      ids.push(null)
      continue
    }
    ids.push(toHex(verdict.value))
    validIds.push(verdict.value)
    validEncoded.push(rawMessages[i])
    lookup?.record(i)
  }
  return { ok: true, ids, rejected, verified: verifiedMessages(validEncoded, validIds) }
}

// admitMessages: decode a batch, verify every signature, then append the new messages to
// `pending` in one durable transaction. All or nothing: one invalid message rejects the batch.
import { toHex } from '../shared/bytes.js'
import { decodeMessageBatch, encodeMessage } from '../shared/codec.js'
import type { NetworkParams } from '../shared/params.js'
import type { ChainStore, PendingAppend } from '../shared/store/index.js'
import type { AdmitMessagesOutput } from '../shared/thread-contract.js'
import { verifyMessage } from '../shared/validation.js'

export function admitMessages (store: ChainStore, params: NetworkParams, batchBytes: Uint8Array): AdmitMessagesOutput {
  const decoded = decodeMessageBatch(batchBytes)
  if (!decoded.ok) return { ok: false, code: 'MALFORMED', reason: decoded.reason }
  const messages = decoded.value
  if (messages.length === 0) return { ok: false, code: 'EMPTY_BATCH', reason: 'the batch holds no message' }
  if (messages.length > params.maxBlockMessages) {
    return { ok: false, code: 'BATCH_TOO_LARGE', reason: `${messages.length} messages, the limit is ${params.maxBlockMessages}` }
  }
  const entries: PendingAppend[] = []
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!
    const verdict = verifyMessage(message, params)
    if (!verdict.ok) return { ok: false, code: verdict.code, reason: `message ${i}: ${verdict.reason}`, index: i }
    entries.push({ id: verdict.value, encoded: encodeMessage(message) })
  }
  const outcomes = store.appendPending(entries)
  return { ok: true, ids: entries.map(e => toHex(e.id)), added: outcomes.filter(o => o === 'added').length }
}

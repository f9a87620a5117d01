// admitSubmission: the body of POST /v1/messages, off the main thread. Parse it (SPEC 8's
// structural rules first), verify every signature, then (leader) append the batch to `pending`
// in one durable transaction, whole or not at all.
import { toHex } from '../shared/bytes.js'
import type { NetworkParams } from '../shared/params.js'
import type { ChainStore, PendingAppend } from '../shared/store/index.js'
import { parseSubmission } from '../shared/submission-codec.js'
import type { AdmitSubmissionInput, AdmitSubmissionOutput } from '../shared/thread-contract.js'
import { verifyMessage } from '../shared/validation.js'
import { appendPendingWithin } from './admit-pending.js'

export function admitSubmission (store: ChainStore, params: NetworkParams, body: Uint8Array, options: Omit<AdmitSubmissionInput, 'body'>): AdmitSubmissionOutput {
  const parsed = parseSubmission(body, options.format, params)
  if (!parsed.ok) return parsed
  const { messages, encoded } = parsed.value
  const ids = new Array<string>(messages.length)
  const entries = new Array<PendingAppend>(messages.length)
  for (let i = 0; i < messages.length; i++) {
    const verdict = verifyMessage(messages[i], params)
    if (!verdict.ok) return { ok: false, code: verdict.code, reason: `message ${i}: ${verdict.reason}` }
    ids[i] = toHex(verdict.value)
    entries[i] = { id: verdict.value, encoded: encoded[i] }
  }
  if (!options.persist) return { ok: true, ids, added: 0, ...joinWire(encoded) }
  const appended = appendPendingWithin(store, entries, options.maxPending)
  if (!appended.ok) return appended
  return { ok: true, ids, added: appended.added }
}

/** The messages' wire bytes in one transferable buffer, for the peer's gossip. */
function joinWire (encoded: readonly Uint8Array[]): { wire: ArrayBuffer, ends: number[] } {
  const ends = new Array<number>(encoded.length)
  let total = 0
  for (let i = 0; i < encoded.length; i++) {
    total += encoded[i].byteLength
    ends[i] = total
  }
  const wire = new Uint8Array(total)
  for (let i = 0; i < encoded.length; i++) wire.set(encoded[i], i === 0 ? 0 : ends[i - 1])
  return { wire: wire.buffer, ends }
}

// admitSubmission: the body of POST /v1/messages, off the main thread. Parse it (SPEC 8's
// structural rules first) and verify every signature, whole or not at all. The leader's
// producer then appends it to `pending`; a peer gossips it.
import { toHex } from '../shared/bytes.js'
import type { NetworkParams } from '../shared/params.js'
import { parseSubmission } from '../shared/submission-codec.js'
import type { AdmitSubmissionInput, AdmitSubmissionOutput } from '../shared/thread-contract.js'
import { verifyMessage } from '../shared/validation.js'
import { verifiedMessages } from '../shared/verified-messages.js'

export function admitSubmission (params: NetworkParams, body: Uint8Array, options: Omit<AdmitSubmissionInput, 'body'>): AdmitSubmissionOutput {
  const parsed = parseSubmission(body, options.format, params)
  if (!parsed.ok) return parsed
  const { messages, encoded } = parsed.value
  const ids = new Array<string>(messages.length)
  const idBytes = new Array<Uint8Array>(messages.length)
  for (let i = 0; i < messages.length; i++) {
    const verdict = verifyMessage(messages[i], params)
    if (!verdict.ok) return { ok: false, code: verdict.code, reason: `message ${i}: ${verdict.reason}` }
    ids[i] = toHex(verdict.value)
    idBytes[i] = verdict.value
  }
  return { ok: true, ids, verified: verifiedMessages(encoded, idBytes) }
}

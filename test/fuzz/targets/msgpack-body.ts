// The MessagePack body of POST /v1/messages: parseSubmission(body, 'msgpack'), the bulk fast
// path. Checked against the independent reading of SPEC 5 plus SPEC 8's limits; the wire
// bytes it keeps are the body's own bytes of each message.
import fc from 'fast-check'
import { parseSubmission, submissionFormat, type SubmissionParams } from '../../../src/shared/submission-codec.js'
import { Finding, check, sameValue, show } from '../lib/checks.js'
import { referenceBatch, Tokens, readMessage } from '../lib/reference.js'
import { checkAccepted, submissionParams } from '../lib/submission.js'
import { defineTarget } from '../lib/target.js'
import { batchInput } from './batch.js'

/** The expected answer, and on success each message's exact byte range in the body. */
function expectedAnswer (body: Uint8Array, params: SubmissionParams): { ok: true, ranges: Uint8Array[] } | { ok: false, code: string } {
  const batch = referenceBatch(body)
  if (!batch.ok) return { ok: false, code: 'MALFORMED_MSGPACK' }
  const messages = batch.value
  if (messages.length === 0) return { ok: false, code: 'EMPTY_BATCH' }
  if (messages.length > params.maxBlockMessages) return { ok: false, code: 'BATCH_TOO_LARGE' }
  if (messages.some(m => m.content.byteLength > params.maxMessageBytes)) return { ok: false, code: 'MESSAGE_TOO_LARGE' }
  const k = new Tokens(body)
  k.next()
  const ranges = messages.map(() => {
    const start = k.pos
    readMessage(k)
    return body.subarray(start, k.pos)
  })
  return { ok: true, ranges }
}

/** Content types around `application/msgpack`: case, parameters, spacing, near misses. */
const contentType = fc.oneof(
  fc.constantFrom(undefined, '', 'application/msgpack', 'Application/MsgPack', 'application/msgpack; charset=utf-8', ' application/msgpack ', 'application/msgpack;',
    'application/json', 'application/msgpackx', 'application/x-msgpack', ';application/msgpack', 'application/msgpack\t;q=1', 'text/plain; application/msgpack'),
  fc.string({ maxLength: 24 })
)

/** SPEC 8: `application/msgpack` in any case, parameters ignored, is MessagePack; anything else JSON. */
function expectedFormat (type: string | undefined): 'json' | 'msgpack' {
  if (type === undefined) return 'json'
  const [media] = type.split(';')
  return media.trim().toLowerCase() === 'application/msgpack' ? 'msgpack' : 'json'
}

export const target = defineTarget({
  name: 'msgpack-body',
  about: 'parseSubmission msgpack and submissionFormat (HTTP API bulk path): format, verdict and code, messages, wire bytes as received',
  files: ['src/shared/submission-codec.ts', 'src/shared/codec.ts'],
  input: fc.record({ body: batchInput, params: submissionParams, contentType }, { requiredKeys: ['body', 'params'] }),
  runs: 100_000,
  quickRuns: 1_000,
  check ({ body, params, contentType }) {
    const format = submissionFormat(contentType)
    check(format === expectedFormat(contentType), () => `content type ${show(contentType)} read as ${format}`)
    const result = parseSubmission(body, 'msgpack', params)
    const expected = expectedAnswer(body, params)
    if (result.ok && !expected.ok) throw new Finding(`accepted a body that must be ${expected.code}: ${show(result.value.messages)}`)
    if (!result.ok && expected.ok) throw new Finding(`refused a valid body with ${result.code}: ${result.reason}`)
    if (!result.ok && !expected.ok) { check(result.code === expected.code, `answered ${result.code} (${result.reason}), expected ${expected.code}`); return }
    if (!result.ok || !expected.ok) return
    check(sameValue(result.value.encoded, expected.ranges), () => `kept other wire bytes than the body's: ${show(result.value.encoded)}`)
    checkAccepted(result.value, params)
  }
})

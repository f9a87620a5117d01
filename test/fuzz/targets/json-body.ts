// The JSON body of POST /v1/messages: parseSubmission(body, 'json') and through it
// writeMessageFromJson. Bodies are JSON text built field by field, then mutated as text and as
// bytes. Checked against an independent reading of SPEC 8's rules: the same verdict, the
// first bad message named, the same messages, wire bytes that decode to them.
import fc from 'fast-check'
import { encodeMessage } from '../../../src/shared/codec.js'
import { parseSubmission, type SubmissionParams } from '../../../src/shared/submission-codec.js'
import type { Message } from '../../../src/shared/types.js'
import { Finding, check, sameValue, show } from '../lib/checks.js'
import { jsonBody, jsonText } from '../lib/json-values.js'
import { byteMutated } from '../lib/mutations.js'
import { checkAccepted, submissionParams } from '../lib/submission.js'
import { defineTarget } from '../lib/target.js'

export interface JsonBodyInput { body: Uint8Array, params: SubmissionParams }

const text = jsonBody.map(node => new Uint8Array(Buffer.from(jsonText(node), 'utf8')))

export const jsonBodyInput: fc.Arbitrary<JsonBodyInput> = fc.record({
  body: fc.oneof({ arbitrary: text, weight: 6 }, { arbitrary: byteMutated(text), weight: 2 }, { arbitrary: fc.uint8Array({ maxLength: 40 }), weight: 1 }),
  params: submissionParams
})

const HEX = /^(?:[0-9a-fA-F]{2})*$/

function hexBytes (v: unknown, length?: number): Uint8Array | undefined {
  if (typeof v !== 'string' || !HEX.test(v) || (length !== undefined && v.length !== 2 * length)) return undefined
  const out = new Uint8Array(v.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(v.slice(2 * i, 2 * i + 2), 16)
  return out
}

const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER

type Expected = { ok: true, messages: Message[] } | { ok: false, codes: string[], index?: number }

/**
 * The scan docs/protocol-notes.md puts before the parse, outside strings: nesting deeper than
 * 32 is INVALID_MESSAGE; a top-level array of more than maxBlockMessages elements, or more than
 * 16 containers and separators per allowed message, is BATCH_TOO_LARGE. Returns the codes the
 * body triggers (on invalid JSON, where "elements" is loose, any of them may answer first).
 */
function scanCodes (body: Uint8Array, params: SubmissionParams): string[] {
  const codes = new Set<string>()
  let inString = false
  let escaped = false
  let depth = 0
  let values = 0
  let topCommas = 0
  let topIsArray: boolean | undefined
  for (const c of body) {
    if (inString) {
      if (escaped) escaped = false
      else if (c === 0x5c) escaped = true
      else if (c === 0x22) inString = false
      continue
    }
    const ch = String.fromCharCode(c)
    if (ch === '"') inString = true
    else if (ch === '[' || ch === '{') {
      if (topIsArray === undefined) topIsArray = ch === '['
      depth++
      values++
      if (depth > 32) codes.add('INVALID_MESSAGE')
    } else if (ch === ']' || ch === '}') depth--
    else if (ch === ',') {
      values++
      if (depth === 1 && topIsArray === true) topCommas++
    }
  }
  if (topCommas + 1 > params.maxBlockMessages || values > 16 * params.maxBlockMessages) codes.add('BATCH_TOO_LARGE')
  return [...codes]
}

/** SPEC 8 and the protocol notes, read independently: which answers the body allows. */
function expectedAnswer (body: Uint8Array, params: SubmissionParams): Expected {
  const scanned = scanCodes(body, params)
  if (scanned.length > 0) return { ok: false, codes: scanned }
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(body).toString('utf8'))
  } catch {
    return { ok: false, codes: ['MALFORMED_JSON'] }
  }
  const items = Array.isArray(value) ? value : [value]
  if (items.length === 0) return { ok: false, codes: ['EMPTY_BATCH'] }
  if (items.length > params.maxBlockMessages) return { ok: false, codes: ['BATCH_TOO_LARGE'] }
  const messages: Message[] = []
  for (let i = 0; i < items.length; i++) {
    const o = items[i] as Record<string, unknown>
    if (typeof o !== 'object' || o === null || Array.isArray(o)) return { ok: false, codes: ['INVALID_MESSAGE'], index: i }
    const sender = hexBytes(o.sender, 32)
    const content = hexBytes(o.content)
    const signature = hexBytes(o.signature, 64)
    const oversize = typeof o.content === 'string' && o.content.length > 2 * params.maxMessageBytes
    const invalid = sender === undefined || signature === undefined || !isUint(o.timestamp) || !isUint(o.nonce) || (content === undefined && !oversize)
    // SPEC 8 names no order between the two codes: either may answer a message with both faults.
    const codes = [...(invalid ? ['INVALID_MESSAGE'] : []), ...(oversize ? ['MESSAGE_TOO_LARGE'] : [])]
    if (codes.length > 0) return { ok: false, codes, index: i }
    messages.push({ sender: sender as Uint8Array, timestamp: o.timestamp as number, nonce: o.nonce as number, content: content as Uint8Array, signature: signature as Uint8Array })
  }
  return { ok: true, messages }
}

export const target = defineTarget({
  name: 'json-body',
  about: 'parseSubmission json / writeMessageFromJson (HTTP API): verdict, code and field named, messages and wire bytes',
  files: ['src/shared/submission-codec.ts', 'src/shared/json.ts', 'src/shared/codec.ts'],
  input: jsonBodyInput,
  runs: 100_000,
  quickRuns: 1_000,
  check ({ body, params }) {
    const result = parseSubmission(body, 'json', params)
    const expected = expectedAnswer(body, params)
    if (result.ok && !expected.ok) throw new Finding(`accepted a body SPEC 8 refuses (${expected.codes.join('/')}): ${show(result.value.messages)}`)
    if (!result.ok && expected.ok) throw new Finding(`refused a valid body with ${result.code}: ${result.reason}`)
    if (!result.ok && !expected.ok) {
      check(expected.codes.includes(result.code), `answered ${result.code} (${result.reason}), expected ${expected.codes.join(' or ')}`)
      if (expected.index !== undefined) {
        const where = Array.isArray(JSON.parse(Buffer.from(body).toString('utf8'))) ? `[${expected.index}]` : 'message'
        check(result.reason.startsWith(where), `the reason "${result.reason}" does not name ${where}`)
      }
      return
    }
    if (!result.ok || !expected.ok) return
    check(sameValue(result.value.messages, expected.messages), () => `read ${show(result.value.messages)}, SPEC 8 reads ${show(expected.messages)}`)
    checkAccepted(result.value, params)
    result.value.encoded.forEach((bytes, i) => {
      check(sameValue(bytes, encodeMessage(result.value.messages[i])), () => `[${i}] is written in other bytes than msgpackr's: ${show(bytes)}`)
    })
  }
})

// The body of `POST /v1/messages` (SPEC 8), read into messages and their wire bytes. Pure and
// total: any bytes give a result, never an exception. Signatures are not checked here: the
// caller verifies them after every structural rule has passed, so a malformed batch costs no
// signature check.
import { encodeMessage, decodeMessageBatch } from './codec.js'
import { messageFromJson } from './json.js'
import type { NetworkParams } from './params.js'
import { fail, ok, type Result } from './result.js'
import type { Message } from './types.js'

/** `msgpack`: a MessagePack array of wire Messages (SPEC 5); `json`: the JSON form. */
export type SubmissionFormat = 'json' | 'msgpack'

export type SubmissionErrorCode =
  | 'MALFORMED_JSON'
  | 'MALFORMED_MSGPACK'
  | 'INVALID_MESSAGE'
  | 'MESSAGE_TOO_LARGE'
  | 'EMPTY_BATCH'
  | 'BATCH_TOO_LARGE'

export interface ParsedSubmission {
  /** In request order. */
  messages: Message[]
  /**
   * Each message's wire bytes (SPEC 5), in request order: views into the body as received
   * (msgpack), or msgpackr's encoding of the JSON object (json).
   */
  encoded: Uint8Array[]
}

export type SubmissionParams = Pick<NetworkParams, 'maxMessageBytes' | 'maxBlockMessages'>

/**
 * JSON.parse costs per value, not per byte: 8 MiB of `{},` takes seconds where 8 MiB of
 * messages takes a hundred milliseconds. A JSON body is scanned first and refused beyond these.
 */
export const MAX_JSON_DEPTH = 32
/** Containers and separators per message a batch may average (a message uses about 7). */
export const MAX_JSON_VALUES_PER_MESSAGE = 16

/**
 * The format a request's content type names: `application/msgpack` in any case, parameters
 * ignored, is MessagePack; any other or no content type is JSON (SPEC 8).
 */
export function submissionFormat (contentType: string | undefined): SubmissionFormat {
  if (contentType === undefined) return 'json'
  const semicolon = contentType.indexOf(';')
  const mediaType = (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase()
  return mediaType === 'application/msgpack' ? 'msgpack' : 'json'
}

/**
 * Reads a submission body: a batch of one or more messages, each within the content limit,
 * at most `maxBlockMessages` of them. Checks in this order, answering the first failure: the
 * encoding (MALFORMED_JSON, MALFORMED_MSGPACK), an empty batch, the batch size, then each
 * message in order (INVALID_MESSAGE, MESSAGE_TOO_LARGE).
 */
export function parseSubmission (body: Uint8Array, format: SubmissionFormat, params: SubmissionParams): Result<ParsedSubmission, SubmissionErrorCode> {
  return format === 'msgpack' ? parseMsgpack(body, params) : parseJson(body, params)
}

function batchSizeError (count: number, params: SubmissionParams): Result<never, SubmissionErrorCode> | undefined {
  if (count === 0) return fail('EMPTY_BATCH', 'the batch holds no message')
  if (count > params.maxBlockMessages) return fail('BATCH_TOO_LARGE', `${count} messages; a batch holds at most ${params.maxBlockMessages}`)
  return undefined
}

function parseMsgpack (body: Uint8Array, params: SubmissionParams): Result<ParsedSubmission, SubmissionErrorCode> {
  const encoded: Uint8Array[] = []
  const decoded = decodeMessageBatch(body, encoded)
  if (!decoded.ok) return fail('MALFORMED_MSGPACK', `the body is not a MessagePack array of wire Messages: ${decoded.reason}`)
  const messages = decoded.value
  const sizeError = batchSizeError(messages.length, params)
  if (sizeError !== undefined) return sizeError
  for (let i = 0; i < messages.length; i++) {
    const length = messages[i].content.byteLength
    if (length > params.maxMessageBytes) return fail('MESSAGE_TOO_LARGE', `[${i}].content: ${length} bytes, over the ${params.maxMessageBytes}-byte limit`)
  }
  return ok({ messages, encoded })
}

function parseJson (body: Uint8Array, params: SubmissionParams): Result<ParsedSubmission, SubmissionErrorCode> {
  const shapeError = jsonShapeError(body, params)
  if (shapeError !== undefined) return shapeError
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'))
  } catch {
    return fail('MALFORMED_JSON', 'the body is not valid JSON')
  }
  const batch = Array.isArray(value)
  const items: readonly unknown[] = Array.isArray(value) ? value : [value]
  const sizeError = batchSizeError(items.length, params)
  if (sizeError !== undefined) return sizeError
  const messages = new Array<Message>(items.length)
  for (let i = 0; i < items.length; i++) {
    const parsed = messageFromJson(items[i], params, batch ? `[${i}]` : 'message')
    if (!parsed.ok) return parsed
    messages[i] = parsed.value
  }
  return ok({ messages, encoded: messages.map(encodeMessage) })
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c

/**
 * One pass over the bytes, outside strings: the nesting depth, the containers and separators,
 * and the elements of a top-level array. Invalid JSON passes (JSON.parse refuses it next).
 */
function jsonShapeError (body: Uint8Array, params: SubmissionParams): Result<never, SubmissionErrorCode> | undefined {
  const maxValues = params.maxBlockMessages * MAX_JSON_VALUES_PER_MESSAGE
  let depth = 0
  let values = 0
  let topElements = 0
  let topIsArray: boolean | undefined
  for (let i = 0; i < body.length; i++) {
    const c = body[i]
    if (c === QUOTE) {
      // Skip the string, escapes included.
      for (i++; i < body.length && body[i] !== QUOTE; i++) if (body[i] === BACKSLASH) i++
      continue
    }
    if (c === 0x5b || c === 0x7b) { // [ {
      topIsArray ??= c === 0x5b
      if (++depth > MAX_JSON_DEPTH) return fail('INVALID_MESSAGE', `the JSON body nests deeper than ${MAX_JSON_DEPTH} levels`)
      values++
    } else if (c === 0x5d || c === 0x7d) { // ] }
      depth--
    } else if (c === COMMA) {
      values++
      if (depth === 1 && topIsArray === true && ++topElements >= params.maxBlockMessages) {
        return fail('BATCH_TOO_LARGE', `more than ${params.maxBlockMessages} messages; a batch holds at most ${params.maxBlockMessages}`)
      }
    }
  }
  if (values > maxValues) return fail('BATCH_TOO_LARGE', `the JSON body holds ${values} containers and separators; a batch holds at most ${maxValues}`)
  return undefined
}

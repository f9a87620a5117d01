// The body of `POST /v1/messages` (SPEC 8), read into messages and their wire bytes. Pure and
// total: any bytes give a result, never an exception. Signatures are not checked here: the
// caller verifies them after every structural rule has passed, so a malformed batch costs no
// signature check.
import { decodeMessageBatch } from './codec.js'
import { messageWireBound, writeMessageFromJson, type MessageJsonError } from './json.js'
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
   * (msgpack), or into one buffer holding the JSON messages in msgpackr's encoding (json).
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
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  const shapeError = jsonShapeError(bytes, params)
  if (shapeError !== undefined) return shapeError
  let value: unknown
  try {
    value = JSON.parse(bytes.toString('utf8'))
  } catch {
    return fail('MALFORMED_JSON', 'the body is not valid JSON')
  }
  const batch = Array.isArray(value)
  const items: readonly unknown[] = Array.isArray(value) ? value : [value]
  const sizeError = batchSizeError(items.length, params)
  if (sizeError !== undefined) return sizeError
  return messagesFromJson(items, params, batch)
}

/**
 * Parsed JSON messages, checked in order (the first fault answers, its reason naming `[i]` in
 * a batch, `message` otherwise) and written in their wire form, all in one buffer.
 */
export function messagesFromJson (items: readonly unknown[], params: SubmissionParams, batch: boolean): Result<ParsedSubmission, MessageJsonError> {
  let bound = 0
  for (const item of items) bound += messageWireBound(item)
  const out = new Uint8Array(bound)
  const messages = new Array<Message>(items.length)
  const encoded = new Array<Uint8Array>(items.length)
  let offset = 0
  for (let i = 0; i < items.length; i++) {
    const written = writeMessageFromJson(items[i], params, batch ? `[${i}]` : 'message', out, offset)
    if (!written.ok) return written
    messages[i] = written.value.message
    encoded[i] = out.subarray(offset, written.value.end)
    offset = written.value.end
  }
  return ok({ messages, encoded })
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c

/**
 * Where the string that opens at `start` closes: the next quote after an even run of
 * backslashes (each escapes the char after it), or the body's end. Buffer's native indexOf
 * finds a quote in a 200-char hex string four times faster than a loop over its bytes.
 */
function stringEnd (body: Buffer, start: number): number {
  for (let end = start; ;) {
    end = body.indexOf(QUOTE, end + 1)
    if (end < 0) return body.length
    let before = end - 1
    while (body[before] === BACKSLASH) before--
    if ((end - 1 - before) % 2 === 0) return end
  }
}

/**
 * One pass over the bytes, outside strings: the nesting depth, the containers and separators,
 * and the elements of a top-level array. Invalid JSON passes (JSON.parse refuses it next).
 */
function jsonShapeError (body: Buffer, params: SubmissionParams): Result<never, SubmissionErrorCode> | undefined {
  const maxValues = params.maxBlockMessages * MAX_JSON_VALUES_PER_MESSAGE
  let depth = 0
  let values = 0
  let topElements = 0
  let topIsArray: boolean | undefined
  for (let i = 0; i < body.length; i++) {
    const c = body[i]
    if (c === QUOTE) {
      i = stringEnd(body, i)
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

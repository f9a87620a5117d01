// JSON forms of the protocol types for the HTTP API (SPEC section 8): binary fields as hex,
// lowercase on output, either case on input; unknown fields ignored.
import { hexByteLength, isSafeUint, toHex, writeHex } from './bytes.js'
import { writeBinHeader, writeUint } from './codec.js'
import { blockHash, messageId } from './hash.js'
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES, type NetworkParams } from './params.js'
import { fail, ok, type Result } from './result.js'
import type { MessageJson } from './api-json.js'
import type { Block, Message } from './types.js'

export type { MessageJson } from './api-json.js'

export function messageToJson (m: Message): MessageJson {
  return { sender: toHex(m.sender), timestamp: m.timestamp, nonce: m.nonce, content: toHex(m.content), signature: toHex(m.signature) }
}

export type MessageJsonError = 'INVALID_MESSAGE' | 'MESSAGE_TOO_LARGE'

/** The most bytes a message's wire form takes besides its content: integers at their widest (float64), a bin32 content header. */
const MESSAGE_WIRE_OVERHEAD = 1 + (2 + PUBLIC_KEY_BYTES) + 9 + 9 + 5 + (2 + SIGNATURE_BYTES)

/** At least the bytes `writeMessageFromJson` writes for this value, message or not. */
export function messageWireBound (value: unknown): number {
  const content = typeof value === 'object' && value !== null ? (value as { content?: unknown }).content : undefined
  return MESSAGE_WIRE_OVERHEAD + (typeof content === 'string' ? content.length >>> 1 : 0)
}

export interface MessageFromJson {
  /** Its binaries are views into the `out` it was written to. */
  message: Message
  /** Where its wire bytes end in `out`. */
  end: number
}

/**
 * Reads one JSON message and writes its wire form (SPEC 5) into `out` at `offset`, in the
 * bytes msgpackr's encodeMessage writes: no object per field, hex decoded in place. Checks
 * the integers, then the content's size, then sender, content and signature, answering the
 * first fault; the reason names the field at fault.
 */
export function writeMessageFromJson (value: unknown, params: Pick<NetworkParams, 'maxMessageBytes'>, where: string, out: Uint8Array, offset: number): Result<MessageFromJson, MessageJsonError> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('INVALID_MESSAGE', `${where}: expected an object`)
  const { sender, timestamp, nonce, content, signature } = value as Record<string, unknown>
  if (!isSafeUint(timestamp)) return fail('INVALID_MESSAGE', `${where}.timestamp: expected a non-negative safe integer`)
  if (!isSafeUint(nonce)) return fail('INVALID_MESSAGE', `${where}.nonce: expected a non-negative safe integer`)
  if (typeof content === 'string' && content.length > params.maxMessageBytes * 2) {
    return fail('MESSAGE_TOO_LARGE', `${where}.content: over the ${params.maxMessageBytes}-byte limit`)
  }
  out[offset] = 0x95 // fixarray of 5
  const senderAt = writeBinHeader(out, offset + 1, PUBLIC_KEY_BYTES)
  const senderError = hexError(sender, PUBLIC_KEY_BYTES, out, senderAt)
  if (senderError !== undefined) return fail('INVALID_MESSAGE', `${where}.sender: ${senderError}`)
  const contentHeaderAt = writeUint(out, writeUint(out, senderAt + PUBLIC_KEY_BYTES, timestamp), nonce)
  const contentBytes = typeof content === 'string' ? content.length >>> 1 : 0
  const contentAt = writeBinHeader(out, contentHeaderAt, contentBytes)
  const contentError = hexError(content, undefined, out, contentAt)
  if (contentError !== undefined) return fail('INVALID_MESSAGE', `${where}.content: ${contentError}`)
  const signatureAt = writeBinHeader(out, contentAt + contentBytes, SIGNATURE_BYTES)
  const signatureError = hexError(signature, SIGNATURE_BYTES, out, signatureAt)
  if (signatureError !== undefined) return fail('INVALID_MESSAGE', `${where}.signature: ${signatureError}`)
  return ok({
    message: {
      sender: out.subarray(senderAt, senderAt + PUBLIC_KEY_BYTES),
      timestamp,
      nonce,
      content: out.subarray(contentAt, contentAt + contentBytes),
      signature: out.subarray(signatureAt, signatureAt + SIGNATURE_BYTES)
    },
    end: signatureAt + SIGNATURE_BYTES
  })
}

/** Decodes a hex field into `out` at `at`; what is wrong with it, or undefined. */
function hexError (value: unknown, length: number | undefined, out: Uint8Array, at: number): string | undefined {
  if (typeof value !== 'string') return 'expected a hex string'
  const valid = hexByteLength(value, length) !== undefined && writeHex(value, out, at)
  return valid ? undefined : `expected ${length === undefined ? 'hex' : `${length} bytes of hex`}`
}

export interface BlockJson {
  hash: string
  header: { height: number, timestamp: number, prevHash: string, messageRoot: string, proposer: string, signature: string }
  messageIds: string[]
  messages?: MessageJson[]
}

export function blockToJson (block: Block, withMessages: boolean): BlockJson {
  const h = block.header
  const json: BlockJson = {
    hash: toHex(blockHash(h)),
    header: {
      height: h.height,
      timestamp: h.timestamp,
      prevHash: toHex(h.prevHash),
      messageRoot: toHex(h.messageRoot),
      proposer: toHex(h.proposer),
      signature: toHex(h.signature)
    },
    messageIds: block.messages.map(m => toHex(messageId(m)))
  }
  if (withMessages) json.messages = block.messages.map(messageToJson)
  return json
}

// JSON forms of the protocol types for the HTTP API (SPEC section 8): binary fields as hex,
// lowercase on output, either case on input; unknown fields ignored.
import { fromHex, isSafeUint, toHex } from './bytes.js'
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

/** Parses one message object; the reason names the field at fault. */
export function messageFromJson (value: unknown, params: Pick<NetworkParams, 'maxMessageBytes'>, where: string): Result<Message, MessageJsonError> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('INVALID_MESSAGE', `${where}: expected an object`)
  const o = value as Record<string, unknown>
  const hexField = (name: string, length?: number): Uint8Array | string => {
    const v = o[name]
    if (typeof v !== 'string') return `${where}.${name}: expected a hex string`
    const bytes = fromHex(v, length)
    if (bytes === undefined) return `${where}.${name}: expected ${length === undefined ? 'hex' : `${length} bytes of hex`}`
    return bytes
  }
  for (const name of ['timestamp', 'nonce']) {
    if (!isSafeUint(o[name])) return fail('INVALID_MESSAGE', `${where}.${name}: expected a non-negative safe integer`)
  }
  if (typeof o.content === 'string' && o.content.length > params.maxMessageBytes * 2) {
    return fail('MESSAGE_TOO_LARGE', `${where}.content: over the ${params.maxMessageBytes}-byte limit`)
  }
  const sender = hexField('sender', PUBLIC_KEY_BYTES)
  const content = hexField('content')
  const signature = hexField('signature', SIGNATURE_BYTES)
  for (const field of [sender, content, signature]) if (typeof field === 'string') return fail('INVALID_MESSAGE', field)
  return ok({ sender: sender as Uint8Array, timestamp: o.timestamp as number, nonce: o.nonce as number, content: content as Uint8Array, signature: signature as Uint8Array })
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

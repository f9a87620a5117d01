// The load's messages: message n is fixed by n alone (sender n mod 16, a fixed timestamp, nonce
// n, 100 bytes of content starting with n), so every fresh cluster of a run can take the same
// signed batches, and batch b is always messages 500 b .. 500 b + 499. Both request bodies of a
// batch are made here: the JSON array of hex objects and the MessagePack array of wire Messages.
import { signMessage } from '../../src/shared/block.js'
import { encodeMessage, joinEncodedMessages } from '../../src/shared/codec.js'
import { messageId } from '../../src/shared/hash.js'
import { messageToJson } from '../../src/shared/json.js'
import { signingKeyFromSeed, type SigningKey } from '../../src/shared/keys.js'
import type { Message } from '../../src/shared/types.js'
import { BATCH_MESSAGES, CONTENT_BYTES, SENDERS } from './common.js'

/** The submission paths of SPEC 8: `json` (application/json) and `binary` (application/msgpack). */
export type SubmissionPath = 'json' | 'binary'
export const PATHS: readonly SubmissionPath[] = ['json', 'binary']

export const CONTENT_TYPE: Record<SubmissionPath, string> = {
  json: 'application/json',
  binary: 'application/msgpack'
}

/** 2025-11-24T16:00:00Z for every message: SPEC 2 puts no rule on a message's timestamp. */
const MESSAGE_TIMESTAMP = 1_764_000_000_000

let senders: SigningKey[] | undefined

function senderKeys (): SigningKey[] {
  senders ??= Array.from({ length: SENDERS }, (_, i) => signingKeyFromSeed(new Uint8Array(32).fill(0x40 + i)))
  return senders
}

function content (n: number): Uint8Array {
  const bytes = new Uint8Array(CONTENT_BYTES).fill(n % 251)
  new DataView(bytes.buffer).setFloat64(0, n)
  return bytes
}

/** One signed batch: its messages' ids (32 bytes each, in order) and the bodies asked for. */
export interface SignedBatch {
  batch: number
  ids: Uint8Array
  json?: Uint8Array
  binary?: Uint8Array
}

/** Signs batch `batch` and encodes the bodies of `paths`. */
export function signBatch (batch: number, paths: readonly SubmissionPath[]): SignedBatch {
  const keys = senderKeys()
  const messages: Message[] = new Array<Message>(BATCH_MESSAGES)
  const ids = new Uint8Array(32 * BATCH_MESSAGES)
  for (let i = 0; i < BATCH_MESSAGES; i++) {
    const n = batch * BATCH_MESSAGES + i
    const message = signMessage(keys[n % SENDERS], { timestamp: MESSAGE_TIMESTAMP, nonce: n, content: content(n) })
    messages[i] = message
    ids.set(messageId(message), 32 * i)
  }
  const signed: SignedBatch = { batch, ids }
  if (paths.includes('json')) signed.json = new TextEncoder().encode(JSON.stringify(messages.map(messageToJson)))
  if (paths.includes('binary')) signed.binary = joinEncodedMessages(messages.map(encodeMessage))
  return signed
}

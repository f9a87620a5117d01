// Block production: take the oldest pending messages, build and sign the block on the stored
// tip, and commit it atomically (which also removes its messages from `pending`).
import { buildSignedBlock } from '../shared/block.js'
import { toHex } from '../shared/bytes.js'
import { decodeMessage, encodeBlock } from '../shared/codec.js'
import { errorMessage, KimuraError } from '../shared/errors.js'
import type { SigningKey } from '../shared/keys.js'
import type { NetworkParams } from '../shared/params.js'
import type { ChainStore } from '../shared/store/index.js'
import type { BuildBlockOutput } from '../shared/thread-contract.js'
import type { Message } from '../shared/types.js'

/** Room kept in maxBlockBytes for the block's envelope and header (about 200 bytes encoded). */
const BLOCK_ENVELOPE_BYTES = 1024

/** The key is the configured leader's: ProducerClient.start() checked it before any build. */
export function buildBlock (store: ChainStore, key: SigningKey, params: NetworkParams, timestamp: number, maxMessages: number): BuildBlockOutput {
  const tip = store.tip()
  const messages: Message[] = []
  const messageIds: Uint8Array[] = []
  const encodedMessages: Uint8Array[] = []
  let bytes = BLOCK_ENVELOPE_BYTES
  for (const entry of store.pending.takeOldest(Math.min(maxMessages, params.maxBlockMessages))) {
    if (bytes + entry.encoded.byteLength > params.maxBlockBytes) break
    const decoded = decodeMessage(entry.encoded)
    // Pending entries were verified on admission; one that no longer decodes is left out.
    if (!decoded.ok) continue
    bytes += entry.encoded.byteLength
    messages.push(decoded.value)
    messageIds.push(entry.id)
    encodedMessages.push(entry.encoded)
  }
  // SPEC 3 rule 2: never before the parent, even if the clock stepped back.
  const blockTimestamp = Math.max(timestamp, tip.timestamp)
  const height = tip.height + 1
  const built = buildSignedBlock(key, { height, timestamp: blockTimestamp, prevHash: tip.hash, messages, messageIds })
  const encoded = encodeBlock(built.block)
  try {
    store.commitBlock({ height, timestamp: blockTimestamp, prevHash: tip.hash, hash: built.hash, encodedBlock: encoded, messageIds, encodedMessages })
  } catch (err) {
    if (err instanceof KimuraError && err.code === 'ERR_STORE_CONFLICT') return { ok: false, code: 'STORE_CONFLICT', reason: err.message }
    return { ok: false, code: 'BUILD_FAILED', reason: errorMessage(err) }
  }
  return { ok: true, block: encoded.buffer as ArrayBuffer, height, hash: toHex(built.hash), timestamp: blockTimestamp, messageCount: messages.length }
}

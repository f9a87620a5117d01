// Block production: take the oldest pending messages, sign a header over their ids on the
// stored tip, splice the block around their stored bytes, and commit it atomically (which also
// removes its messages from `pending`).
import { signBlockHeader } from '../shared/block.js'
import { bytesKey, toHex } from '../shared/bytes.js'
import { checkMessage, spliceBlock } from '../shared/codec.js'
import { errorCode, errorMessage, KimuraError } from '../shared/errors.js'
import type { SigningKey } from '../shared/keys.js'
import { HASH_BYTES, type NetworkParams } from '../shared/params.js'
import type { ChainStore, PendingEntry } from '../shared/store/index.js'
import type { BuildBlockOutput, DroppedPending } from '../shared/thread-contract.js'

/** Room kept in maxBlockBytes for the block's envelope and header (about 200 bytes encoded). */
const BLOCK_ENVELOPE_BYTES = 1024

/** The key is the configured leader's: ProducerClient.start() checked it before any build. */
export function buildBlock (store: ChainStore, key: SigningKey, params: NetworkParams, timestamp: number, maxMessages: number): BuildBlockOutput {
  const tip = store.tip()
  const messageIds: Uint8Array[] = []
  const encodedMessages: Uint8Array[] = []
  const drop: PendingEntry[] = []
  const dropped: DroppedPending[] = []
  // Batches this block uses up: their last pending message is in it, or dropped.
  const spentBatches: number[] = []
  const inBlock = new Set<string>()
  let bytes = BLOCK_ENVELOPE_BYTES
  for (const entry of store.pending.takeOldest(Math.min(maxMessages, params.maxBlockMessages))) {
    if (bytes + entry.encoded.byteLength > params.maxBlockBytes) break
    if (entry.lastOfBatch) spentBatches.push(entry.seq)
    // Admission verified every entry, so its structure is what is checked (no signature): one
    // that no longer decodes (a damaged store) would make the block undecodable for every peer.
    const idKey = bytesKey(entry.id)
    const decoded = entry.id.byteLength !== HASH_BYTES
      ? { ok: false as const, reason: 'the batch\'s bytes frame no whole entry (id, length, message)' }
      // Only a damaged store holds one id twice; the block must not (SPEC 3 rule 5).
      : inBlock.has(idKey) ? { ok: false as const, reason: 'a second pending entry for a message already in this block' } : checkMessage(entry.encoded)
    if (!decoded.ok) {
      drop.push(entry)
      dropped.push({ id: toHex(entry.id), reason: decoded.reason })
      continue
    }
    bytes += entry.encoded.byteLength
    inBlock.add(idKey)
    messageIds.push(entry.id)
    encodedMessages.push(entry.encoded)
  }
  // SPEC 3 rule 2: never before the parent, even if the clock stepped back.
  const blockTimestamp = Math.max(timestamp, tip.timestamp)
  const height = tip.height + 1
  const { header, hash } = signBlockHeader(key, { height, timestamp: blockTimestamp, prevHash: tip.hash, messageIds })
  const { encoded, messageOffsets } = spliceBlock(header, encodedMessages)
  try {
    store.commitBlock({ height, timestamp: blockTimestamp, prevHash: tip.hash, hash, encodedBlock: encoded, messageIds, messageOffsets }, { drop, spentBatches })
  } catch (err) {
    if (err instanceof KimuraError && err.code === 'ERR_STORE_CONFLICT') return { ok: false, code: 'STORE_CONFLICT', reason: err.message }
    if (errorCode(err) === 'ERR_STORAGE_FULL') return { ok: false, code: 'STORAGE_FULL', reason: errorMessage(err) }
    return { ok: false, code: 'BUILD_FAILED', reason: errorMessage(err) }
  }
  return { ok: true, block: encoded.buffer as ArrayBuffer, height, hash: toHex(hash), timestamp: blockTimestamp, messageCount: messageIds.length, dropped }
}

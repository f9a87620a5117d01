// A large block's body, checked in steps across the pool (see HashBlockInput in the thread
// contract): hashBlock on one worker, then verifyMessages slices on every worker.
import { decodeBlock } from '../shared/codec.js'
import { verifyDigestAt } from '../shared/keys.js'
import { HASH_BYTES, PUBLIC_KEY_BYTES, SIGNATURE_BYTES, type NetworkParams } from '../shared/params.js'
import type { HashBlockOutput, VerifyMessagesInput, VerifyMessagesOutput } from '../shared/thread-contract.js'
import { hashMessageIds, validateMessageIds } from '../shared/validation.js'
import { joinIds } from '../shared/verified-messages.js'
import type { VerifiedSet } from '../shared/verified-set.js'

/**
 * Decodes the block, hashes every id, and checks size limits, uniqueness within the block and
 * the root. Not uniqueness against the chain: this step runs beside the import queue, so the
 * same block may be committed meanwhile (by gossip while sync fetched it, or the other way),
 * and its ids would read as repeats of themselves: an honest peer's block refused and the peer
 * demoted. The import task checks the chain, in order, after the parent is stored.
 */
export function hashBlock (params: NetworkParams, bytes: Uint8Array): HashBlockOutput {
  const raw: Uint8Array[] = []
  const decoded = decodeBlock(bytes, raw)
  if (!decoded.ok) return { ok: false, code: 'MALFORMED', reason: decoded.reason }
  const { header, messages } = decoded.value
  if (messages.length > params.maxBlockMessages) return { ok: false, code: 'BLOCK_TOO_MANY_MESSAGES', reason: `${messages.length} messages, the limit is ${params.maxBlockMessages}` }
  const ids = hashMessageIds(messages, params)
  if (!ids.ok) return ids
  const unique = validateMessageIds(header, ids.value, () => false)
  if (!unique.ok) return unique
  const idBytes = joinIds(ids.value)
  const offsets = new Uint32Array(raw.length * 2)
  raw.forEach((r, i) => {
    offsets[2 * i] = r.byteOffset - bytes.byteOffset
    offsets[2 * i + 1] = r.byteLength
  })
  return { ok: true, ids: idBytes.buffer as ArrayBuffer, offsets: offsets.buffer }
}

/** The header bytes of a MessagePack bin by its tag (bin 8, 16, 32); undefined for another tag. */
const BIN_HEADER_BYTES: Readonly<Record<number, number>> = { 0xc4: 2, 0xc5: 3, 0xc6: 5 }

/**
 * Verifies the signatures of messages [start, end). hashBlock decoded each of them strictly
 * (a fixarray of 5: sender, timestamp, nonce, content, signature) and found its offsets, so a
 * slice reads the two fields it needs where they lie: the sender's 32 bytes right after its
 * bin header, the signature as the message's last 64 bytes (verifyDigestAt copies them for
 * libsodium, which cannot read shared memory): no object per message.
 */
export function verifyMessages (input: VerifyMessagesInput, verified?: VerifiedSet): VerifyMessagesOutput {
  const block = new Uint8Array(input.block)
  const offsets = new Uint32Array(input.offsets)
  const ids = new Uint8Array(input.ids)
  const count = offsets.length / 2
  const start = input.start
  const end = Math.min(input.end, count)
  if (ids.byteLength !== HASH_BYTES * count) return { ok: false, code: 'MALFORMED', reason: `${ids.byteLength / HASH_BYTES} ids for ${count} messages` }
  for (let i = start; i < end; i++) {
    const at = offsets[2 * i]
    const length = offsets[2 * i + 1]
    const senderHeader = BIN_HEADER_BYTES[block[at + 1]]
    if (at + length > block.byteLength || block[at] !== 0x95 || senderHeader === undefined || 1 + senderHeader + PUBLIC_KEY_BYTES + SIGNATURE_BYTES > length) {
      return { ok: false, code: 'MALFORMED', reason: `message ${i}: no Message encoding at the offset hashBlock gave` }
    }
  }
  const lookup = verified?.lookupIn(block, offsets, start, end)
  for (let i = start; i < end; i++) {
    if (lookup?.known(i) === true) continue
    const at = offsets[2 * i]
    const senderAt = at + 1 + BIN_HEADER_BYTES[block[at + 1]]
    const signatureAt = at + offsets[2 * i + 1] - SIGNATURE_BYTES
    if (!verifyDigestAt(block, senderAt, signatureAt, ids, HASH_BYTES * i)) {
      return { ok: false, code: 'BLOCK_INVALID_MESSAGE', reason: `message ${i}: signature does not verify over the message id` }
    }
  }
  // Recorded, so that a relayed copy arriving after its block is not verified again.
  lookup?.recordAll()
  return { ok: true }
}

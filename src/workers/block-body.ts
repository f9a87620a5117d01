// A large block's body, checked in steps across the pool (see HashBlockInput in the thread
// contract): hashBlock on one worker, then verifyMessages slices on every worker.
import { decodeBlock, decodeMessage } from '../shared/codec.js'
import { HASH_BYTES, type NetworkParams } from '../shared/params.js'
import type { HashBlockOutput, VerifyMessagesInput, VerifyMessagesOutput } from '../shared/thread-contract.js'
import type { Message } from '../shared/types.js'
import { hashMessageIds, validateMessageIds, verifyMessageSignatures } from '../shared/validation.js'
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

/** Verifies the signatures of messages [start, end), decoding only those messages. */
export function verifyMessages (input: VerifyMessagesInput, verified?: VerifiedSet): VerifyMessagesOutput {
  const block = new Uint8Array(input.block)
  const offsets = new Uint32Array(input.offsets)
  const idBytes = new Uint8Array(input.ids)
  const count = offsets.length / 2
  const end = Math.min(input.end, count)
  const messages = new Array<Message>(count)
  const ids = new Array<Uint8Array>(count)
  const raws = new Array<Uint8Array>(count)
  for (let i = input.start; i < end; i++) {
    raws[i] = block.subarray(offsets[2 * i], offsets[2 * i] + offsets[2 * i + 1])
    const decoded = decodeMessage(raws[i])
    if (!decoded.ok) return { ok: false, code: 'MALFORMED', reason: `message ${i}: ${decoded.reason}` }
    messages[i] = decoded.value
    ids[i] = idBytes.subarray(HASH_BYTES * i, HASH_BYTES * (i + 1))
  }
  const lookup = verified?.lookup(raws, input.start, end)
  const verdict = verifyMessageSignatures(messages, ids, input.start, end, lookup?.known)
  // Recorded, so that a relayed copy arriving after its block is not verified again.
  if (verdict.ok) lookup?.recordAll()
  return verdict
}

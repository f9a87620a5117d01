// importBlocks: validate a run of consecutive blocks against the stored chain (each against
// the one before it), then commit the valid prefix in one transaction, strictly in order.
import { bytesKey, toHex } from '../shared/bytes.js'
import { decodeBlock, messageOffsetsIn } from '../shared/codec.js'
import { KimuraError } from '../shared/errors.js'
import type { BlockCommit, ChainStore } from '../shared/store/index.js'
import type { ImportBlocksOutput, ImportedBlock } from '../shared/thread-contract.js'
import { validateBlock, type BlockRules, type ParentInfo } from '../shared/validation.js'

export interface ImportRequest {
  blocks: Uint8Array[]
  /** Per block: ids already verified by verifyMessages tasks, concatenated, or null. */
  verifiedIds: Array<Uint8Array | null>
  rules: BlockRules
  commit: boolean
}

export function importBlocks (store: ChainStore, request: ImportRequest): ImportBlocksOutput {
  const tip = store.tip()
  let parent: ParentInfo = tip
  const commits: BlockCommit[] = []
  const imported: ImportedBlock[] = []
  // Ids of this run's earlier blocks: a message may not repeat across them either.
  const runIds = new Set<string>()
  const isIncluded = (id: Uint8Array): boolean => runIds.has(bytesKey(id)) || store.messages.has(id)
  let known = 0
  let error: ImportBlocksOutput['error']

  for (let index = 0; index < request.blocks.length; index++) {
    const bytes = request.blocks[index]
    const rawMessages: Uint8Array[] = []
    const decoded = decodeBlock(bytes, rawMessages)
    if (!decoded.ok) { error = { index, code: 'MALFORMED', reason: decoded.reason }; break }
    const { header, messages } = decoded.value
    if (header.height <= parent.height && commits.length === 0) {
      // At or below the tip: a duplicate or an old block. Nothing to do.
      known++
      continue
    }
    if (header.height > parent.height + 1) {
      error = { index, code: 'PARENT_UNKNOWN', reason: `block ${header.height} is beyond the tip ${parent.height}` }
      break
    }
    const verdict = validateBlock(decoded.value, bytes.byteLength, parent, request.rules, isIncluded, splitIds(request.verifiedIds[index] ?? null))
    if (!verdict.ok) { error = { index, code: verdict.code, reason: verdict.reason }; break }

    const { hash, messageIds } = verdict.value
    for (const id of messageIds) runIds.add(bytesKey(id))
    commits.push({
      height: header.height,
      timestamp: header.timestamp,
      prevHash: header.prevHash,
      hash,
      encodedBlock: bytes,
      messageIds,
      // Where each message lies in the block: `messages` indexes these bytes, never a copy.
      messageOffsets: messageOffsetsIn(bytes, rawMessages)
    })
    imported.push({ height: header.height, hash: toHex(hash), timestamp: header.timestamp, messageCount: messages.length, validatedAt: Date.now() })
    parent = { height: header.height, hash, timestamp: header.timestamp }
  }

  if (request.commit && commits.length > 0) {
    try {
      store.commitBlocks(commits)
    } catch (err) {
      if (err instanceof KimuraError && err.code === 'ERR_STORE_CONFLICT') {
        return { imported: [], known, error: { index: 0, code: 'STORE_CONFLICT', reason: err.message }, tipHeight: store.tip().height }
      }
      throw err
    }
  }
  return { imported, known, tipHeight: request.commit ? parent.height : tip.height, ...(error === undefined ? {} : { error }) }
}

/** Pre-verified ids (32 bytes each, concatenated) as a list; undefined when there are none. */
function splitIds (verified: Uint8Array | null): Uint8Array[] | undefined {
  if (verified === null) return undefined
  return Array.from({ length: Math.floor(verified.byteLength / 32) }, (_, i) => verified.subarray(i * 32, i * 32 + 32))
}

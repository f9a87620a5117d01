// importBlocks: validate a run of consecutive blocks against the stored chain (each against
// the one before it), then commit the valid prefix in one transaction, strictly in order.
import { toHex } from '../shared/bytes.js'
import { decodeBlock } from '../shared/codec.js'
import { KimuraError } from '../shared/errors.js'
import type { BlockCommit, ChainStore } from '../shared/store/index.js'
import type { ImportBlocksOutput, ImportErrorCode, ImportedBlock } from '../shared/thread-contract.js'
import { validateHeader, validateMessageIds, verifyMessageRange, type BlockRules, type ParentInfo } from '../shared/validation.js'
import type { Result } from '../shared/result.js'

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
  const isIncluded = (id: Uint8Array): boolean => runIds.has(Buffer.from(id).toString('latin1')) || store.messages.has(id)
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
    if (bytes.byteLength > request.rules.params.maxBlockBytes) {
      error = { index, code: 'BLOCK_TOO_LARGE', reason: `encoding is ${bytes.byteLength} bytes, the limit is ${request.rules.params.maxBlockBytes}` }
      break
    }
    const headerVerdict = validateHeader(header, messages.length, parent, request.rules)
    if (!headerVerdict.ok) { error = { index, code: headerVerdict.code, reason: headerVerdict.reason }; break }
    const ids = messageIdsOf(request.verifiedIds[index] ?? null, messages.length, () => verifyMessageRange(messages, 0, messages.length, request.rules.params))
    if (!ids.ok) { error = { index, code: ids.code, reason: ids.reason }; break }
    const unique = validateMessageIds(header, ids.value, isIncluded)
    if (!unique.ok) { error = { index, code: unique.code, reason: unique.reason }; break }

    for (const id of ids.value) runIds.add(Buffer.from(id).toString('latin1'))
    const hash = headerVerdict.value
    commits.push({
      height: header.height,
      timestamp: header.timestamp,
      prevHash: header.prevHash,
      hash,
      encodedBlock: bytes,
      messageIds: ids.value,
      // Each message is stored as the bytes it arrived in: strict decoding proved them valid.
      encodedMessages: rawMessages
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

function messageIdsOf (verified: Uint8Array | null, count: number, verify: () => Result<Uint8Array[], ImportErrorCode>): Result<Uint8Array[], ImportErrorCode> {
  if (verified === null) return verify()
  if (verified.byteLength !== count * 32) return { ok: false, code: 'MALFORMED', reason: 'pre-verified ids do not match the message count' }
  const ids: Uint8Array[] = []
  for (let i = 0; i < count; i++) ids.push(verified.subarray(i * 32, i * 32 + 32))
  return { ok: true, value: ids }
}

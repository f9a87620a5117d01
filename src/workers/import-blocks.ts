// importBlocks: validate a run of consecutive blocks against the stored chain (each against
// the one before it), then commit the valid prefix strictly in order, in parts of whole blocks
// (MAX_MESSAGES_PER_COMMIT, MAX_BYTES_PER_COMMIT). A block checked in steps already
// (CheckedBody) is not decoded again: its header is checked against its parent and its ids
// against the chain, and its offsets go straight to the store.
import { bytesKey, toHex } from '../shared/bytes.js'
import { decodeBlock, decodeBlockHeader, messageOffsetsIn } from '../shared/codec.js'
import { KimuraError } from '../shared/errors.js'
import type { BlockCommit, ChainStore } from '../shared/store/index.js'
import type { ImportBlocksOutput, ImportedBlock, ImportErrorCode } from '../shared/thread-contract.js'
import type { BlockHeader } from '../shared/types.js'
import { validateBlock, validateHeader, type BlockRules, type ParentInfo } from '../shared/validation.js'
import type { VerifiedSet } from '../shared/verified-set.js'

export interface CheckedBlockBody {
  ids: Uint8Array[]
  offsets: Uint32Array
}

export interface ImportRequest {
  blocks: Uint8Array[]
  checked: Array<CheckedBlockBody | null>
  rules: BlockRules
  /** Messages this node verified before (peers), by the key of their encoding. */
  verified?: VerifiedSet
}

/**
 * The most messages, and block bytes, one import transaction stores, unless a block alone
 * holds more: a sync response (up to 8 MiB, some 30,000 small messages) is committed in parts
 * the size of a block of the SPEC's largest size. LMDB keeps every page a write transaction
 * dirtied for reuse until the store closes (mdb.c's me_dpages, never returned to malloc), and
 * once the `messages` index has more leaves than a transaction has keys, each key dirties a
 * 4 KiB page of its own: the largest transaction sets the node's memory for the rest of its
 * run. Parts bound that as a gossiped block does (and what one commit writes, which
 * storage-full.ts relies on); they cost a commit (an fsync) each, and the index more CPU.
 */
export const MAX_MESSAGES_PER_COMMIT = 10_000
export const MAX_BYTES_PER_COMMIT = 4 * 1024 * 1024

type Checked = { ok: true, header: BlockHeader, commit: BlockCommit, messageCount: number } | { ok: false, code: ImportErrorCode, reason: string }

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
    const shape = decodeBlockHeader(bytes)
    if (!shape.ok) { error = { index, code: 'MALFORMED', reason: shape.reason }; break }
    const height = shape.value.header.height
    if (height <= parent.height && commits.length === 0) {
      // At or below the tip: a duplicate or an old block. Nothing to do.
      known++
      continue
    }
    if (height > parent.height + 1) {
      error = { index, code: 'PARENT_UNKNOWN', reason: `block ${height} is beyond the tip ${parent.height}` }
      break
    }
    const body = request.checked[index]
    const verdict = body === null || body === undefined
      ? validateWhole(bytes, parent, request.rules, isIncluded, request.verified)
      : validateChecked(bytes, shape.value.header, shape.value.messageCount, body, parent, request.rules, isIncluded)
    if (!verdict.ok) { error = { index, code: verdict.code, reason: verdict.reason }; break }
    const { commit, header } = verdict
    for (const id of commit.messageIds) runIds.add(bytesKey(id))
    commits.push(commit)
    imported.push({ height: header.height, hash: toHex(commit.hash), timestamp: header.timestamp, messageCount: verdict.messageCount, validatedAt: Date.now() })
    parent = { height: header.height, hash: commit.hash, timestamp: header.timestamp }
  }

  // Blocks before the first commit may have been known (skipped); none after it.
  let committed = 0
  try {
    while (committed < commits.length) {
      const end = commitPartEnd(commits, committed)
      store.commitBlocks(commits.slice(committed, end))
      committed = end
    }
  } catch (err) {
    if (err instanceof KimuraError && (err.code === 'ERR_STORE_CONFLICT' || err.code === 'ERR_STORAGE_FULL')) {
      const code = err.code === 'ERR_STORE_CONFLICT' ? 'STORE_CONFLICT' : 'STORAGE_FULL'
      return { imported: imported.slice(0, committed), known, error: { index: known + committed, code, reason: err.message }, tipHeight: store.tip().height }
    }
    throw err
  }
  return { imported, known, tipHeight: parent.height, ...(error === undefined ? {} : { error }) }
}

/** Where the part of `commits` that starts at `start` ends: one block, then whole blocks within both bounds. */
function commitPartEnd (commits: readonly BlockCommit[], start: number): number {
  let messages = commits[start].messageIds.length
  let bytes = commits[start].encodedBlock.byteLength
  let end = start + 1
  for (; end < commits.length; end++) {
    messages += commits[end].messageIds.length
    bytes += commits[end].encodedBlock.byteLength
    if (messages > MAX_MESSAGES_PER_COMMIT || bytes > MAX_BYTES_PER_COMMIT) break
  }
  return end
}

/** Every SPEC 3 rule, on the decoded block. */
function validateWhole (bytes: Uint8Array, parent: ParentInfo, rules: BlockRules, isIncluded: (id: Uint8Array) => boolean, verified?: VerifiedSet): Checked {
  const rawMessages: Uint8Array[] = []
  const decoded = decodeBlock(bytes, rawMessages)
  if (!decoded.ok) return { ok: false, code: 'MALFORMED', reason: decoded.reason }
  const lookup = verified?.lookup(rawMessages)
  const verdict = validateBlock(decoded.value, bytes.byteLength, parent, rules, isIncluded, lookup?.known)
  if (!verdict.ok) return verdict
  // Recorded, as the slices of a large block do: a relayed copy after its block is not verified again.
  lookup?.recordAll()
  const header = decoded.value.header
  return {
    ok: true,
    header,
    messageCount: decoded.value.messages.length,
    // Where each message lies in the block: `messages` indexes these bytes, never a copy.
    commit: commitOf(bytes, header, verdict.value.hash, verdict.value.messageIds, messageOffsetsIn(bytes, rawMessages))
  }
}

/** The rules hashBlock and the slices could not check: the header against its parent, the size, the chain. */
function validateChecked (bytes: Uint8Array, header: BlockHeader, count: number, body: CheckedBlockBody, parent: ParentInfo, rules: BlockRules, isIncluded: (id: Uint8Array) => boolean): Checked {
  if (bytes.byteLength > rules.params.maxBlockBytes) return { ok: false, code: 'BLOCK_TOO_LARGE', reason: `encoding is ${bytes.byteLength} bytes, the limit is ${rules.params.maxBlockBytes}` }
  if (body.ids.length !== count || body.offsets.length !== 2 * count) return { ok: false, code: 'BLOCK_MALFORMED', reason: 'the checked body does not match the message count' }
  const signed = validateHeader(header, count, parent, rules)
  if (!signed.ok) return signed
  for (let i = 0; i < body.ids.length; i++) {
    if (isIncluded(body.ids[i])) return { ok: false, code: 'BLOCK_DUPLICATE_MESSAGE', reason: `message ${i} is already in the chain` }
  }
  return { ok: true, header, messageCount: count, commit: commitOf(bytes, header, signed.value, body.ids, body.offsets) }
}

function commitOf (bytes: Uint8Array, header: BlockHeader, hash: Uint8Array, messageIds: readonly Uint8Array[], messageOffsets: Uint32Array): BlockCommit {
  return { height: header.height, timestamp: header.timestamp, prevHash: header.prevHash, hash, encodedBlock: bytes, messageIds, messageOffsets }
}

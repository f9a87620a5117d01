// verifyInclusion: that a message is in the chain the leader signed, from its proof (SPEC 8)
// and the header of its block, with nothing taken on the node's word: the audit path must
// recompute the header's messageRoot from the id (RFC 9162 section 2.1.3.2, with SPEC 3's
// BLAKE3 leaf and node hashes), the header must hash (SPEC 3) to the proof's blockHash, and
// its signature must verify (SPEC 1, strict) under the leader key the caller pinned.
import { isStrictPublicKey, verifyStrict } from './ed25519.js'
import { blockHash, merkleLeafHash, merkleNodeHash } from './hash.js'
import { bytesEqual, bytesOf, fromHex, toHex } from './hex.js'
import type { HeaderJson, MessageIdInput, ProofJson } from './types.js'

export type InclusionFailure =
  /** The proof, id, header or key is not well formed. */
  | 'MALFORMED'
  /** The proof is for another message, or another block than the header's. */
  | 'MISMATCH'
  /** The audit path does not lead from the id to the header's messageRoot. */
  | 'BAD_PATH'
  /** The header does not hash to the proof's blockHash. */
  | 'BAD_BLOCK_HASH'
  /** The header was not proposed by, or its signature does not verify under, the leader key. */
  | 'BAD_SIGNATURE'

export type InclusionVerdict =
  | { ok: true }
  | { ok: false, code: InclusionFailure, reason: string }

/** The deepest audit path of a tree of 2^53 leaves. */
const MAX_PATH = 53

/**
 * Header signatures already seen to verify, by key, hash and signature (which decide the
 * answer alone): checking many messages of one block (an explorer, a batch that landed in
 * one block) costs one signature check, not one per message. Bounded; oldest out first.
 */
const verifiedHeaders = new Set<string>()
const VERIFIED_HEADERS_KEPT = 256

function headerSignatureVerifies (key: Uint8Array, hash: Uint8Array, signature: Uint8Array): boolean {
  const memo = toHex(key) + toHex(hash) + toHex(signature)
  if (verifiedHeaders.has(memo)) return true
  if (!verifyStrict(key, hash, signature)) return false
  if (verifiedHeaders.size >= VERIFIED_HEADERS_KEPT) verifiedHeaders.delete(verifiedHeaders.values().next().value as string)
  verifiedHeaders.add(memo)
  return true
}

function fail (code: InclusionFailure, reason: string): InclusionVerdict {
  return { ok: false, code, reason }
}

function isSafeUint (value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

/**
 * The root an audit path leads to from `leaf` (the leaf's hash) at `index` among `count`
 * leaves (RFC 9162 section 2.1.3.2), or undefined when the path cannot be one of that tree.
 */
export function rootFromAuditPath (leaf: Uint8Array, index: number, count: number, path: readonly Uint8Array[]): Uint8Array | undefined {
  if (index >= count) return undefined
  let fn = index
  let sn = count - 1
  let r = leaf
  for (const p of path) {
    if (sn === 0) return undefined
    if (fn % 2 === 1 || fn === sn) {
      r = merkleNodeHash(p, r)
      // On the right edge (fn == sn, even): climb past the levels where this node has no sibling.
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2)
        sn = Math.floor(sn / 2)
      }
    } else {
      r = merkleNodeHash(r, p)
    }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  return sn === 0 ? r : undefined
}

/**
 * Whether `proof` shows that message `id` is in the block whose `header` is given, and that
 * the leader holding `leaderKey` signed that block. Pin the key (from the network's
 * configuration, not from the node answering): checked against the key a node reports, a
 * proof only shows that the node agrees with itself.
 */
export function verifyInclusion (proof: ProofJson, id: MessageIdInput, header: HeaderJson, leaderKey: string | Uint8Array): InclusionVerdict {
  const idBytes = bytesOf(id, 32)
  if (idBytes === undefined) return fail('MALFORMED', 'the message id is not 32 bytes')
  const key = bytesOf(leaderKey, 32)
  if (key === undefined || !isStrictPublicKey(key)) return fail('MALFORMED', 'the leader key is not a valid Ed25519 public key (32 bytes, canonical, not of small order)')
  if (typeof proof !== 'object' || proof === null) return fail('MALFORMED', 'the proof is not an object')
  if (typeof header !== 'object' || header === null) return fail('MALFORMED', 'the header is not an object')
  const proofId = typeof proof.id === 'string' ? fromHex(proof.id, 32) : undefined
  const proofHash = typeof proof.blockHash === 'string' ? fromHex(proof.blockHash, 32) : undefined
  const proofRoot = typeof proof.messageRoot === 'string' ? fromHex(proof.messageRoot, 32) : undefined
  if (proofId === undefined || proofHash === undefined || proofRoot === undefined) return fail('MALFORMED', 'the proof\'s id, blockHash and messageRoot are 32 bytes of hex')
  if (!isSafeUint(proof.height) || !isSafeUint(proof.index) || !isSafeUint(proof.count) || proof.count < 1) return fail('MALFORMED', 'the proof\'s height, index and count are non-negative integers, count at least 1')
  if (!Array.isArray(proof.path) || proof.path.length > MAX_PATH) return fail('MALFORMED', `the proof's path is an array of at most ${MAX_PATH} hashes`)
  const path: Uint8Array[] = []
  for (const step of proof.path as unknown[]) {
    const bytes = typeof step === 'string' ? fromHex(step, 32) : undefined
    if (bytes === undefined) return fail('MALFORMED', 'each step of the proof\'s path is 32 bytes of hex')
    path.push(bytes)
  }
  const headerRoot = typeof header.messageRoot === 'string' ? fromHex(header.messageRoot, 32) : undefined
  const signature = typeof header.signature === 'string' ? fromHex(header.signature, 64) : undefined
  const proposer = typeof header.proposer === 'string' ? fromHex(header.proposer, 32) : undefined
  const hash = blockHash(header)
  if (headerRoot === undefined || signature === undefined || proposer === undefined || hash === undefined) return fail('MALFORMED', 'the header is not a block header (SPEC 8\'s JSON form)')

  if (!bytesEqual(proofId, idBytes)) return fail('MISMATCH', 'the proof is for another message id')
  if (proof.height !== header.height) return fail('MISMATCH', `the proof is for block ${proof.height}, the header is block ${header.height}`)
  if (!bytesEqual(proofRoot, headerRoot)) return fail('MISMATCH', 'the proof\'s messageRoot is not the header\'s')
  const root = rootFromAuditPath(merkleLeafHash(idBytes), proof.index, proof.count, path)
  if (root === undefined) return fail('BAD_PATH', `a path of ${path.length} hashes cannot be that of leaf ${proof.index} among ${proof.count}`)
  if (!bytesEqual(root, headerRoot)) return fail('BAD_PATH', 'the audit path does not lead from the id to the header\'s messageRoot')
  if (!bytesEqual(hash, proofHash)) return fail('BAD_BLOCK_HASH', 'the header does not hash to the proof\'s blockHash')
  if (!bytesEqual(proposer, key)) return fail('BAD_SIGNATURE', 'the block was proposed by another key than the leader key')
  if (!headerSignatureVerifies(key, hash, signature)) return fail('BAD_SIGNATURE', 'the header\'s signature does not verify under the leader key')
  return { ok: true }
}

// The validity rules of SPEC sections 2 and 3 as pure functions that return verdicts.
// Workers, tests and benchmarks all call these; none of them throws on bad input.
import { bytesEqual, bytesKey } from './bytes.js'
import { blockHash, merkleRoot, messageId } from './hash.js'
import { verifyDigest } from './keys.js'
import { MAX_CLOCK_SKEW_MS, type NetworkParams } from './params.js'
import { fail, ok, type Result, type Verdict } from './result.js'
import type { Block, BlockHeader, Message } from './types.js'

export type MessageErrorCode = 'MESSAGE_MALFORMED' | 'MESSAGE_TOO_LARGE' | 'MESSAGE_BAD_SIGNATURE'

export type BlockErrorCode =
  | 'BLOCK_MALFORMED'
  | 'BLOCK_TOO_LARGE'
  | 'BLOCK_TOO_MANY_MESSAGES'
  | 'BLOCK_WRONG_HEIGHT'
  | 'BLOCK_WRONG_PREV_HASH'
  | 'BLOCK_TIMESTAMP_BEFORE_PARENT'
  | 'BLOCK_TIMESTAMP_IN_FUTURE'
  | 'BLOCK_WRONG_PROPOSER'
  | 'BLOCK_BAD_SIGNATURE'
  | 'BLOCK_INVALID_MESSAGE'
  | 'BLOCK_DUPLICATE_MESSAGE'
  | 'BLOCK_WRONG_MESSAGE_ROOT'

/** What a block is checked against: its parent as stored. */
export interface ParentInfo {
  height: number
  hash: Uint8Array
  timestamp: number
}

export interface BlockRules {
  params: NetworkParams
  leaderKey: Uint8Array
  /** The receiver's clock, ms since the epoch. */
  now: number
}

/**
 * Checks a message's content limit and signature; on success returns its recomputed id.
 * `signatureVerified`: this exact encoding was verified before (VerifiedSet), so its signature
 * is not checked again.
 */
export function verifyMessage (message: Message, params: Pick<NetworkParams, 'maxMessageBytes'>, signatureVerified = false): Result<Uint8Array, MessageErrorCode> {
  if (message.content.byteLength > params.maxMessageBytes) {
    return fail('MESSAGE_TOO_LARGE', `content is ${message.content.byteLength} bytes, the limit is ${params.maxMessageBytes}`)
  }
  const id = messageId(message)
  if (!signatureVerified && !verifyDigest(message.sender, id, message.signature)) return fail('MESSAGE_BAD_SIGNATURE', 'signature does not verify over the message id')
  return ok(id)
}

/**
 * Rule 3: the proposer is the configured leader and the signature verifies. Checked before
 * anything else costs a signature (SPEC 5): a forged block costs a receiver this one check.
 */
export function verifyHeaderSignature (header: BlockHeader, leaderKey: Uint8Array): Result<Uint8Array, 'BLOCK_WRONG_PROPOSER' | 'BLOCK_BAD_SIGNATURE'> {
  if (!bytesEqual(header.proposer, leaderKey)) return fail('BLOCK_WRONG_PROPOSER', 'proposer is not the configured leader key')
  const hash = blockHash(header)
  if (!verifyDigest(header.proposer, hash, header.signature)) return fail('BLOCK_BAD_SIGNATURE', 'signature does not verify over the block hash')
  return ok(hash)
}

/** Rules 1 to 3 and the message-count part of rule 4: cheap checks, run before any message work. */
export function validateHeader (header: BlockHeader, messageCount: number, parent: ParentInfo, rules: BlockRules): Result<Uint8Array, BlockErrorCode> {
  if (header.height !== parent.height + 1) return fail('BLOCK_WRONG_HEIGHT', `height ${header.height}, expected ${parent.height + 1}`)
  if (!bytesEqual(header.prevHash, parent.hash)) return fail('BLOCK_WRONG_PREV_HASH', `prevHash does not match the block at height ${parent.height}`)
  if (header.timestamp < parent.timestamp) return fail('BLOCK_TIMESTAMP_BEFORE_PARENT', `timestamp ${header.timestamp} is before the parent's ${parent.timestamp}`)
  if (header.timestamp > rules.now + MAX_CLOCK_SKEW_MS) return fail('BLOCK_TIMESTAMP_IN_FUTURE', `timestamp ${header.timestamp} is more than ${MAX_CLOCK_SKEW_MS} ms ahead of this node's clock`)
  if (messageCount > rules.params.maxBlockMessages) return fail('BLOCK_TOO_MANY_MESSAGES', `${messageCount} messages, the limit is ${rules.params.maxBlockMessages}`)
  return verifyHeaderSignature(header, rules.leaderKey)
}

/**
 * Rules 5 (uniqueness) and 6, given every message's verified id. `isIncluded` answers whether
 * an id is already in the chain.
 */
export function validateMessageIds (header: BlockHeader, ids: readonly Uint8Array[], isIncluded: (id: Uint8Array) => boolean): Verdict<BlockErrorCode> {
  const seen = new Set<string>()
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]
    const key = bytesKey(id)
    if (seen.has(key)) return fail('BLOCK_DUPLICATE_MESSAGE', `message ${i} repeats an earlier message of this block`)
    seen.add(key)
    if (isIncluded(id)) return fail('BLOCK_DUPLICATE_MESSAGE', `message ${i} is already in the chain`)
  }
  if (!bytesEqual(header.messageRoot, merkleRoot(ids))) return fail('BLOCK_WRONG_MESSAGE_ROOT', 'messageRoot does not match the message ids')
  return { ok: true }
}

/**
 * The ids of a block's messages, hashed only (no signature checked), after each content's
 * size limit: what uniqueness and the Merkle root are checked on before any signature work.
 */
export function hashMessageIds (messages: readonly Message[], params: Pick<NetworkParams, 'maxMessageBytes'>): Result<Uint8Array[], BlockErrorCode> {
  const ids = new Array<Uint8Array>(messages.length)
  for (let i = 0; i < messages.length; i++) {
    const size = messages[i].content.byteLength
    if (size > params.maxMessageBytes) return fail('BLOCK_INVALID_MESSAGE', `message ${i}: content is ${size} bytes, the limit is ${params.maxMessageBytes}`)
    ids[i] = messageId(messages[i])
  }
  return ok(ids)
}

/**
 * Verifies the signatures of messages [start, end) over their already computed ids, except
 * those `verified(i)` says this node has checked before (the exact same encoding).
 */
export function verifyMessageSignatures (messages: readonly Message[], ids: readonly Uint8Array[], start: number, end: number, verified?: (index: number) => boolean): Verdict<BlockErrorCode> {
  for (let i = start; i < end; i++) {
    if (verified?.(i) === true) continue
    const m = messages[i]
    if (!verifyDigest(m.sender, ids[i], m.signature)) return fail('BLOCK_INVALID_MESSAGE', `message ${i}: signature does not verify over the message id`)
  }
  return { ok: true }
}

export interface ValidatedBlock {
  hash: Uint8Array
  messageIds: Uint8Array[]
}

/**
 * Every rule of SPEC section 3 for an already decoded block of `encodedBytes` bytes, cheapest
 * first: the header and its signature, then ids, uniqueness and the root (hashing only), and
 * only then one signature per message, so that a block that repeats ids costs no message
 * signature.
 */
export function validateBlock (block: Block, encodedBytes: number, parent: ParentInfo, rules: BlockRules, isIncluded: (id: Uint8Array) => boolean, verified?: (index: number) => boolean): Result<ValidatedBlock, BlockErrorCode> {
  if (encodedBytes > rules.params.maxBlockBytes) return fail('BLOCK_TOO_LARGE', `encoding is ${encodedBytes} bytes, the limit is ${rules.params.maxBlockBytes}`)
  const header = validateHeader(block.header, block.messages.length, parent, rules)
  if (!header.ok) return header
  const ids = hashMessageIds(block.messages, rules.params)
  if (!ids.ok) return ids
  const unique = validateMessageIds(block.header, ids.value, isIncluded)
  if (!unique.ok) return unique
  const signed = verifyMessageSignatures(block.messages, ids.value, 0, ids.value.length, verified)
  if (!signed.ok) return signed
  return ok({ hash: header.value, messageIds: ids.value })
}

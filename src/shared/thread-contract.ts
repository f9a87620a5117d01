// The thread contract: every task the main thread sends to a worker, with its input and result.
// Only plain data crosses: numbers, strings, and bytes as ArrayBuffers that are transferred
// (or SharedArrayBuffers, when several workers read one block). Workers return these result
// unions and never throw for bad input: a thrown error loses its class on the way back.
import type { NetworkParams } from './params.js'
import type { SubmissionErrorCode, SubmissionFormat } from './submission-codec.js'
import type { BlockErrorCode, MessageErrorCode } from './validation.js'

/** Bytes that cross threads: transferred when an ArrayBuffer, shared when a SharedArrayBuffer. */
export type WireBuffer = ArrayBuffer | SharedArrayBuffer

/** `workerData` of every worker: what it needs to open the store and apply the rules. */
export interface WorkerConfig {
  dataDir: string
  params: NetworkParams
  /** The leader's public key, hex: blocks must be signed by it. */
  leaderKey: string
  /**
   * Peers: the table of messages this node verified (VerifiedSet), shared by every worker, so a
   * message checked when gossiped is not checked again inside its block. Absent on the leader,
   * which checks each message once, at admission.
   */
  verifiedSet?: SharedArrayBuffer
  /** The nice value worker threads lower themselves to (Linux; 0 leaves them as the main thread). */
  nice: number
}

/** warmUp's answer: what lowerThreadPriority did on that worker, e.g. "nice 10". */
export interface WarmUpOutput {
  priority: string
}

/** Task names, as exported by src/workers/pool-worker.ts. */
export const TASK = {
  /** Loads the worker's modules, lowers its priority and opens its store; answers WarmUpOutput. */
  warmUp: 'warmUp',
  admitMessages: 'admitMessages',
  admitSubmission: 'admitSubmission',
  hashBlock: 'hashBlock',
  verifyMessages: 'verifyMessages',
  importBlocks: 'importBlocks',
  renderBlock: 'renderBlock',
  messageTree: 'messageTree'
} as const

// admitMessages ---------------------------------------------------------------------------

export interface AdmitMessagesInput {
  /** A MessagePack array of wire Messages. */
  batch: ArrayBuffer
  /**
   * 'all': the batch is admitted whole or not at all (the HTTP API). 'each': valid messages are
   * admitted and invalid ones reported one by one (gossip, batched on the main thread).
   */
  mode: 'all' | 'each'
}

/**
 * Messages an admission verified, for the producer to append to `pending` (leader) or for
 * gossip (peer): their wire bytes back to back, the offset where each one ends, and their ids,
 * 32 bytes each, in the same order. Pool workers verify; only the producer writes `pending`.
 */
export interface VerifiedMessages {
  wire: ArrayBuffer
  ends: number[]
  ids: ArrayBuffer
}

/** The pending pool is full (SPEC 7), or the disk is (nothing of the batch was written). */
export type PendingRefusal = 'POOL_FULL' | 'STORAGE_FULL'

export type AdmitErrorCode = 'MALFORMED' | 'EMPTY_BATCH' | 'BATCH_TOO_LARGE' | MessageErrorCode | PendingRefusal

export interface MessageRejection {
  index: number
  code: AdmitErrorCode
  reason: string
}

/**
 * `ids` are hex, in request order (null for a rejected message in 'each' mode); `verified`
 * holds the valid ones. In 'all' mode any invalid message makes the whole batch fail.
 */
export type AdmitMessagesOutput =
  | { ok: true, ids: Array<string | null>, rejected: MessageRejection[], verified: VerifiedMessages }
  | { ok: false, code: AdmitErrorCode, reason: string, index?: number }

// admitSubmission: the body of POST /v1/messages, parsed, verified and admitted whole ---------

export interface AdmitSubmissionInput {
  /** The request body as received (transferred). */
  body: ArrayBuffer
  format: SubmissionFormat
}

export type SubmissionRefusalCode = SubmissionErrorCode | MessageErrorCode | PendingRefusal

/** The batch is valid whole or not at all. `ids` are hex, in request order. */
export type AdmitSubmissionOutput =
  | { ok: true, ids: string[], verified: VerifiedMessages }
  | { ok: false, code: SubmissionErrorCode | MessageErrorCode, reason: string }

// appendPending (the producer): verified messages into `pending`, group-committed ------------

/**
 * Whole or not at all: `added` counts the messages new to `pending` (the rest were already
 * pending or included); a refusal wrote nothing.
 */
export type AppendPendingOutput =
  | { ok: true, added: number }
  | { ok: false, code: PendingRefusal, reason: string }

// hashBlock, then verifyMessages: a large block is checked in steps across every worker --------
// hashBlock (one worker) decodes it, hashes every id and checks uniqueness within the block and
// the root, so a block that repeats ids costs no message signature; then one verifyMessages
// slice per worker checks the signatures, reading only its own messages through the offsets
// hashBlock found. Uniqueness against the chain is the import task's, run in height order.

export interface HashBlockInput {
  /** The whole encoded Block, shared by every task that reads it. */
  block: SharedArrayBuffer
}

export type HashBlockOutput =
  | {
    ok: true
    /** The message ids in block order, 32 bytes each, concatenated. */
    ids: ArrayBuffer
    /** Uint32 pairs: each message's byte offset and length in the block. */
    offsets: ArrayBuffer
  }
  | { ok: false, code: BlockErrorCode | 'MALFORMED', reason: string }

export interface VerifyMessagesInput {
  block: SharedArrayBuffer
  /** hashBlock's ids and offsets, shared by every slice. */
  ids: SharedArrayBuffer
  offsets: SharedArrayBuffer
  start: number
  end: number
}

export type VerifyMessagesOutput =
  | { ok: true }
  | { ok: false, code: BlockErrorCode | 'MALFORMED', reason: string }

// importBlocks: validate consecutive blocks against the stored chain, then commit them -------

/** A large block already checked in steps: hashBlock's ids and offsets, every signature verified. */
export interface CheckedBody {
  ids: ArrayBuffer
  offsets: ArrayBuffer
}

export interface ImportBlocksInput {
  blocks: WireBuffer[]
  /**
   * For each block, its checked body when hashBlock and the verifyMessages slices already
   * checked it (ids, uniqueness within the block, the root, every signature): the import task
   * then decodes only the header. null: the task validates the whole block itself.
   */
  checked: Array<CheckedBody | null>
  /** The receiver's clock (SPEC 3 rule 2), read on the main thread. */
  now: number
}

export type ImportErrorCode =
  | BlockErrorCode
  | 'MALFORMED'
  /** The block is beyond the stored tip + 1: the node is behind and must sync. */
  | 'PARENT_UNKNOWN'
  /** Another commit moved the tip while this one was validating. */
  | 'STORE_CONFLICT'
  /** The disk is full: nothing was written; the node retries when space returns. */
  | 'STORAGE_FULL'

export interface ImportedBlock {
  height: number
  hash: string
  timestamp: number
  messageCount: number
  /** Date.now() when validation finished, before the commit (per-stage latency metrics). */
  validatedAt: number
}

export interface ImportBlocksOutput {
  /** Blocks validated (and committed, when asked), in order. */
  imported: ImportedBlock[]
  /** Blocks at or below the stored tip, skipped (duplicates or old). */
  known: number
  /** The first block that failed, by its index in the input; nothing after it was processed. */
  error?: { index: number, code: ImportErrorCode, reason: string }
  tipHeight: number
}

// renderBlock: a stored block as the API's JSON (hashing every message id is worker work) ---

export interface RenderBlockInput {
  /** A height, or 'latest' for the stored tip. */
  height: number | 'latest'
  withMessages: boolean
}

/** The JSON text of SPEC 8's block answer, or null when no block is stored at that height. */
export interface RenderBlockOutput {
  json: string | null
}

// messageTree: a stored block's Merkle tree, for inclusion proofs (SPEC 8) -------------------

export interface MessageTreeInput {
  height: number
}

/**
 * Every node of the block's RFC 6962 tree (src/shared/merkle-proof.ts's layout, transferred),
 * with the block's hash and root in hex; `found: false` when no block is stored there.
 */
export type MessageTreeOutput =
  | { found: true, count: number, nodes: ArrayBuffer, blockHash: string, messageRoot: string }
  | { found: false }

// Producer (a long-lived worker behind comlink, not part of the pool) -----------------------

export interface ProducerConfig extends WorkerConfig {
  /** Path of the leader's signing key file (32-byte seed, hex). */
  keyFile: string
  /** The most messages `pending` may hold (SPEC 7, --max-pending): appendPending refuses a batch that would exceed it. */
  maxPending: number
}

/** A pending entry that no longer decoded: the build removed it from `pending` (the main thread logs it). */
export interface DroppedPending {
  /** The id stored with the entry, hex (it may be damaged too). */
  id: string
  reason: string
}

/**
 * `dropped`: pending entries removed, in the block's own transaction, because they no longer
 * decode. STORAGE_FULL: the disk is full and nothing was written (ERR_STORAGE_FULL).
 */
export type BuildBlockOutput =
  | { ok: true, block: ArrayBuffer, height: number, hash: string, timestamp: number, messageCount: number, dropped: DroppedPending[] }
  | { ok: false, code: 'STORE_CONFLICT' | 'STORAGE_FULL' | 'BUILD_FAILED', reason: string }

/** The producer worker's API, as the main thread sees it through comlink. */
export interface ProducerApi {
  /** The producer's public key, hex: answers once the worker has loaded its key and store. */
  publicKey: () => string
  /** What lowering the producer thread's priority did (see src/workers/thread-priority.ts). */
  priority: () => string
  buildBlock: (timestamp: number, maxMessages: number) => BuildBlockOutput
  /**
   * Appends verified messages to `pending` durably. Appends that arrive while the producer is
   * busy share one transaction (group commit); each is still refused or admitted on its own.
   */
  appendPending: (verified: VerifiedMessages) => Promise<AppendPendingOutput>
  /** The wire bytes of a pending message; undefined when it is not pending. */
  pendingMessage: (id: Uint8Array) => Uint8Array | undefined
}

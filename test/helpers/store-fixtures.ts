// Builders for store and pool tests: stores and pools that close themselves at the end of the
// test, commits and pending entries from fixture blocks and messages, and a snapshot of a
// store's whole visible state to compare before and after an operation that must change nothing.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ExecutionContext } from 'ava'
import { open as openLmdb, type Database, type RootDatabase } from 'lmdb'
import { toHex } from '../../src/shared/bytes.js'
import { decodeBlock, encodeBlock, encodeMessage, messageOffsetsIn } from '../../src/shared/codec.js'
import { messageId } from '../../src/shared/hash.js'
import { DEFAULT_PARAMS, type NetworkParams } from '../../src/shared/params.js'
import { ChainStore, STORE_FILE, type AdmitOutcome, type AppendPendingOptions, type AppendPendingResult, type BlockCommit, type PendingAppend } from '../../src/shared/store/index.js'
import { PENDING_INDEX_END, PENDING_INDEX_START, PENDING_QUEUE_END, PENDING_QUEUE_START, pendingIndexKey, pendingQueueKey, readMessagePlace, readPendingBatch, readU64BE, u64be } from '../../src/shared/store/keys.js'
import type { AdmitErrorCode, AdmitMessagesInput, MessageRejection } from '../../src/shared/thread-contract.js'
import type { HashedBlock, Message } from '../../src/shared/types.js'
import { WorkerPool, type TaskName } from '../../src/main/pool/worker-pool.js'
import { ProducerClient } from '../../src/main/producer/producer-client.js'
import { DEFAULT_MAX_PENDING } from '../../src/main/config.js'
import { LEADER_SEED, leaderKey } from './fixtures.js'
import { tempDir } from './temp-dir.js'

/** Opens a store (a fresh temp dir unless given) and closes it when the test ends. */
export function openStore (t: ExecutionContext, dataDir: string = tempDir(t), initialize = true): ChainStore {
  const store = ChainStore.open({ dataDir, initialize })
  t.teardown(async () => { await store.stop() })
  return store
}

/** What commitBlock takes for a fixture block: its encoding, with each message's offsets found by the strict decoder. */
export function commitOf (built: HashedBlock): BlockCommit {
  const { header } = built.block
  const encodedBlock = encodeBlock(built.block)
  const raw: Uint8Array[] = []
  if (!decodeBlock(encodedBlock, raw).ok) throw new Error('a fixture block does not decode')
  return {
    height: header.height,
    timestamp: header.timestamp,
    prevHash: header.prevHash,
    hash: built.hash,
    encodedBlock,
    messageIds: built.messageIds,
    messageOffsets: messageOffsetsIn(encodedBlock, raw)
  }
}

/** What appendPending takes for these messages. */
export function pendingOf (messages: readonly Message[]): PendingAppend[] {
  return messages.map(m => ({ id: messageId(m), encoded: encodeMessage(m) }))
}

/** No --max-pending limit: what tests that are not about the limit pass to appendPending. */
export const NO_POOL_LIMIT = { maxPending: Number.POSITIVE_INFINITY } as const

/** One batch through ChainStore.appendPending (which takes a group of batches): its result. */
export function appendBatch (store: ChainStore, batch: readonly PendingAppend[], options: AppendPendingOptions): AppendPendingResult {
  return store.appendPending([batch], options)[0]
}

/** Appends `messages` to `pending` with no pool limit; their outcomes. */
export function appendAll (store: ChainStore, messages: readonly Message[]): AdmitOutcome[] {
  const [result] = store.appendPending([pendingOf(messages)], NO_POOL_LIMIT)
  if (!result.ok) throw new Error(`appendPending refused a batch with no limit: ${result.reason}`)
  return result.outcomes
}

export function idHex (message: Message): string {
  return toHex(messageId(message))
}

/** A copy of `message` whose signature has one bit flipped: well-formed, but forged. */
export function forgeSignature (message: Message): Message {
  const signature = new Uint8Array(message.signature)
  signature[0] ^= 0x01
  return { ...message, signature }
}

export interface StoreSnapshot {
  tip: { height: number, hash: string, timestamp: number }
  lastHeight: number | undefined
  /** Every stored block, hex, by height from genesis. */
  blocks: string[]
  pendingCount: number
  /** Pending ids, hex, oldest first. */
  pending: string[]
  /** For each probed message id: its block height, 'pending', or null when unknown. */
  probes: Record<string, number | 'pending' | null>
}

/** The store's whole visible state, plus where each of `probe` stands. */
export function snapshot (store: ChainStore, probe: readonly Message[] = []): StoreSnapshot {
  const tip = store.tip()
  const probes: StoreSnapshot['probes'] = {}
  for (const m of probe) {
    const id = messageId(m)
    probes[toHex(id)] = store.messages.get(id)?.height ?? (store.pending.get(id) !== undefined ? 'pending' : null)
  }
  return {
    tip: { height: tip.height, hash: toHex(tip.hash), timestamp: tip.timestamp },
    lastHeight: store.blocks.lastHeight(),
    blocks: store.blocks.getEncodedRange(0, Number.MAX_SAFE_INTEGER, Number.POSITIVE_INFINITY).map(toHex),
    pendingCount: store.pending.count(),
    pending: store.pending.takeOldest(Number.MAX_SAFE_INTEGER).map(e => toHex(e.id)),
    probes
  }
}

export interface TestPool {
  pool: WorkerPool
  store: ChainStore
  dataDir: string
  /** Names of the tasks the pool has finished, in completion order. */
  tasks: TaskName[]
}

export interface TestPoolOptions {
  threads?: number
  maxAdmitQueue?: number
  params?: NetworkParams
  /** The configured leader key, hex; the fixture leader's by default. */
  leaderKey?: string
  /** A peer's table of verified messages (VerifiedSet.create), shared with the workers. */
  verifiedSet?: SharedArrayBuffer
  /** The nice value the workers lower themselves to; 0 (unchanged) by default. */
  nice?: number
}

/**
 * A node's storage and pool: a fresh data dir, the store opened (and genesis written) on the
 * main thread first, then a started WorkerPool whose workers have all loaded. Both are closed
 * when the test ends, pool first.
 */
export async function startPool (t: ExecutionContext, options: TestPoolOptions = {}): Promise<TestPool> {
  const dataDir = tempDir(t)
  const store = openStore(t, dataDir)
  const tasks: TaskName[] = []
  const pool = await createPool(dataDir, options, task => { tasks.push(task) })
  t.teardown(async () => { await pool.stop() })
  // start() ran one warm-up task per worker.
  tasks.length = 0
  return { pool, store, dataDir, tasks }
}

/** What the leader makes of a gossiped or submitted batch: verified in the pool, then appended by the producer. */
export type LeaderAdmitOutput =
  | { ok: true, ids: Array<string | null>, added: number, rejected: MessageRejection[] }
  | { ok: false, code: AdmitErrorCode, reason: string, index?: number }

/** The leader's two steps, as node.ts takes them: WorkerPool.admitMessages, then ProducerClient.appendPending. */
export async function admitToPending (pool: WorkerPool, producer: ProducerClient, batch: Uint8Array, options: Omit<AdmitMessagesInput, 'batch'> = { mode: 'all' }): Promise<LeaderAdmitOutput> {
  const verified = await pool.admitMessages(batch, options)
  if (!verified.ok) return verified
  const appended = await producer.appendPending(verified.verified)
  if (!appended.ok) return appended
  return { ok: true, ids: verified.ids, added: appended.added, rejected: verified.rejected }
}

/** A started WorkerPool on the store in `dataDir` (which must already be initialised). */
export async function createPool (dataDir: string, options: TestPoolOptions = {}, onTaskDone?: (task: TaskName) => void): Promise<WorkerPool> {
  const pool = new WorkerPool(
    { threads: options.threads ?? 2, maxAdmitQueue: options.maxAdmitQueue ?? 64 },
    { dataDir, params: options.params ?? DEFAULT_PARAMS, leaderKey: options.leaderKey ?? toHex(leaderKey.publicKey), nice: options.nice ?? 0, ...(options.verifiedSet === undefined ? {} : { verifiedSet: options.verifiedSet }) },
    onTaskDone === undefined ? {} : { onTaskDone }
  )
  await pool.start()
  return pool
}

/**
 * A producer worker client (not started) for the leader whose store is in `dataDir`, with a key
 * file holding `seed`; `leaderKeyHex` is the configured leader key. Stopped when the test ends.
 */
export function producerFor (t: ExecutionContext, dataDir: string, seed: Uint8Array = LEADER_SEED, leaderKeyHex: string = toHex(leaderKey.publicKey), maxPending = DEFAULT_MAX_PENDING): ProducerClient {
  const keyFile = join(dataDir, 'leader.key')
  writeFileSync(keyFile, toHex(seed) + '\n', { mode: 0o600 })
  const producer = new ProducerClient({ dataDir, params: DEFAULT_PARAMS, leaderKey: leaderKeyHex, keyFile, maxPending, nice: 0 })
  t.teardown(async () => { await producer.stop() })
  return producer
}

/** Whether the store knows a message id: in the chain or pending (what admission checks). */
export function isKnown (store: ChainStore, id: Uint8Array): boolean {
  return store.messages.has(id) || store.pending.get(id) !== undefined
}

/** The four databases of a store's LMDB file, opened raw (as the store opens them), for edits no API makes. */
export interface RawDbs {
  blocks: Database<Buffer, Buffer>
  messages: Database<Buffer, Buffer>
  metadata: Database<number | Uint8Array, string>
  pending: Database<Buffer, Buffer>
}

/** Opens the closed store in `dataDir` raw and runs `edit` in one transaction. */
export async function editRawStore (dataDir: string, edit: (dbs: RawDbs) => void): Promise<void> {
  const env: RootDatabase = openLmdb({ path: join(dataDir, STORE_FILE), maxDbs: 4, compression: false })
  try {
    const binary = { encoding: 'binary', keyEncoding: 'binary', cache: false } as const
    const dbs: RawDbs = {
      blocks: env.openDB<Buffer, Buffer>({ name: 'blocks', ...binary }),
      messages: env.openDB<Buffer, Buffer>({ name: 'messages', ...binary }),
      metadata: env.openDB<number | Uint8Array, string>({ name: 'metadata', encoding: 'msgpack', cache: false }),
      pending: env.openDB<Buffer, Buffer>({ name: 'pending', ...binary })
    }
    env.transactionSync(() => { edit(dbs) })
  } finally {
    await env.close()
  }
}

/**
 * Turns the closed (format 4) store in `dataDir` into what format 3 looks like: `formatVersion`
 * 3, and an index entry (0x01 || id -> u64be(seq)) per pending message, found in the batches.
 */
export async function downgradeToFormat3 (dataDir: string): Promise<void> {
  await editRawStore(dataDir, ({ metadata, pending }) => {
    metadata.putSync('formatVersion', 3)
    const batches = Array.from(pending.getRange({ start: PENDING_QUEUE_START, end: PENDING_QUEUE_END }), ({ key, value }) => ({ seq: readU64BE(key, 1), value: new Uint8Array(value) }))
    for (const { seq, value } of batches) {
      for (const { id } of readPendingBatch(value).entries) pending.putSync(pendingIndexKey(id), u64be(seq))
    }
  })
}

/**
 * Turns the closed (format 4) store in `dataDir` into what format 2 looks like: `formatVersion`
 * 2, and each pending message's pointer to its batch (id -> u64be(seq)) in `messages`.
 */
export async function downgradeToFormat2 (dataDir: string): Promise<void> {
  await downgradeToFormat3(dataDir)
  await editRawStore(dataDir, ({ messages, metadata, pending }) => {
    metadata.putSync('formatVersion', 2)
    const index = Array.from(pending.getRange({ start: PENDING_INDEX_START, end: PENDING_INDEX_END }), ({ key, value }) => ({ key: Buffer.from(key), value: Buffer.from(value) }))
    for (const { key, value } of index) {
      pending.removeSync(key)
      messages.putSync(key.subarray(1), value)
    }
  })
}

/**
 * Turns the closed (format 4) store in `dataDir` into what format 1 looks like: `formatVersion`
 * 1, one `pending` queue entry per message (0x00 || u64be(seq) -> id || encoded, sequences
 * 0, 1, ... in arrival order) with its index entry (0x01 || id -> u64be(seq)), and no pending
 * pointers in `messages`.
 */
export async function downgradeToFormat1 (dataDir: string): Promise<void> {
  await downgradeToFormat2(dataDir)
  await editRawStore(dataDir, ({ messages, metadata, pending }) => {
    metadata.putSync('formatVersion', 1)
    const batches = Array.from(pending.getRange(), ({ key, value }) => ({ key: Buffer.from(key), value: new Uint8Array(value) }))
    for (const { key } of batches) pending.removeSync(key)
    let seq = 0
    for (const { value } of batches) {
      for (const { id, encoded } of readPendingBatch(value).entries) {
        if (messages.getBinary(Buffer.from(id))?.byteLength !== 8) continue
        messages.removeSync(Buffer.from(id))
        pending.putSync(pendingQueueKey(seq), Buffer.concat([id, encoded]))
        pending.putSync(pendingIndexKey(id), u64be(seq))
        seq++
      }
    }
    metadata.putSync('pendingNextSeq', seq)
  })
}

/**
 * Turns the closed (format 4) store in `dataDir` into what a store made before format versions
 * looks like (format 0): format 1's `pending`, no `formatVersion`, and each `messages` value
 * u64be(height) || u32be(index) || the encoded message: its bytes in the block, or
 * `encodingOf(id)` when that gives some (older nodes stored messages re-encoded).
 */
export async function downgradeToFormat0 (dataDir: string, encodingOf: (id: Uint8Array) => Uint8Array | undefined = () => undefined): Promise<void> {
  await downgradeToFormat1(dataDir)
  await editRawStore(dataDir, ({ blocks, messages, metadata }) => {
    metadata.removeSync('formatVersion')
    const entries = Array.from(messages.getRange(), ({ key, value }) => ({ id: new Uint8Array(key), place: readMessagePlace(value) }))
    for (const { id, place } of entries) {
      const block = blocks.getBinary(u64be(place.height))
      if (block === undefined) throw new Error(`no block ${place.height}`)
      const encoded = encodingOf(id) ?? block.subarray(place.byteOffset, place.byteOffset + place.byteLength)
      const value = Buffer.alloc(12 + encoded.byteLength)
      value.writeUInt32BE(Math.floor(place.height / 2 ** 32), 0)
      value.writeUInt32BE(place.height >>> 0, 4)
      value.writeUInt32BE(place.index, 8)
      value.set(encoded, 12)
      messages.putSync(Buffer.from(id), value)
    }
  })
}

// One class per LMDB database. Each wraps a `Database` of the shared environment; writes that
// span several databases are done by ChainStore inside one transaction.
import type { Database } from 'lmdb'
import { bytesEqual, bytesKey, toHex } from '../bytes.js'
import { KimuraError } from '../errors.js'
import { HASH_BYTES } from '../params.js'
import { MESSAGE_PLACE_BYTES, PENDING_QUEUE_END, PENDING_QUEUE_START, messagePlaceValue, pendingBatchValue, pendingQueueKey, readMessagePlace, readPendingBatch, readU64BE, u64be, type BatchEntry, type MessagePlace } from './keys.js'

/** Keys are written by copying them into lmdb-js's key buffer: any Uint8Array does, a view of shared memory too. */
export type BinaryDb = Database<Buffer, Uint8Array>
export type MetaDb = Database<number | Uint8Array, string>

/**
 * The value at `key` as a view valid only until the next read of this thread: getBinaryFast
 * fills a reusable buffer, whose `length` property (not its byteLength) is the value's size.
 */
function readFast (db: BinaryDb, key: Uint8Array): Uint8Array | undefined {
  const value = db.getBinaryFast(key)
  return value === undefined ? undefined : value.subarray(0, value.length)
}

function copy (bytes: Uint8Array | undefined): Uint8Array | undefined {
  return bytes === undefined ? undefined : new Uint8Array(bytes)
}

/** `blocks`: encoded Block by height. */
export class BlockStore {
  constructor (private readonly db: BinaryDb) {}

  getEncoded (height: number): Uint8Array | undefined {
    // One copy, from the reusable buffer into bytes the caller owns.
    return copy(readFast(this.db, u64be(height)))
  }

  /** A copy of bytes [offset, offset + length) of the block at `height`; undefined when absent or out of range. */
  getSlice (height: number, offset: number, length: number): Uint8Array | undefined {
    const block = readFast(this.db, u64be(height))
    if (block === undefined || offset + length > block.byteLength) return undefined
    return new Uint8Array(block.subarray(offset, offset + length))
  }

  has (height: number): boolean {
    return this.db.doesExist(u64be(height))
  }

  /** Encoded blocks from `from` on, in order, stopping at the tip, `count`, or `maxBytes` (always one if any). */
  getEncodedRange (from: number, count: number, maxBytes: number): Uint8Array[] {
    const out: Uint8Array[] = []
    let bytes = 0
    for (const { value } of this.db.getRange({ start: u64be(from), limit: count })) {
      if (out.length > 0 && bytes + value.byteLength > maxBytes) break
      bytes += value.byteLength
      out.push(new Uint8Array(value))
    }
    return out
  }

  /** The highest stored height, or undefined when empty. */
  lastHeight (): number | undefined {
    for (const key of this.db.getKeys({ reverse: true, limit: 1 })) return readU64BE(key, 0)
    return undefined
  }

  put (height: number, encoded: Uint8Array): void {
    // lmdb-js writes values of 32 KiB and more from their address, which it refuses for shared
    // memory (the process aborts): copy a view of a SharedArrayBuffer first.
    const value = encoded.buffer instanceof SharedArrayBuffer
      ? Buffer.from(encoded)
      : Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength)
    this.db.putSync(u64be(height), value)
  }
}

/** `messages`, by id: an included message's place, a slice of its stored block. */
export class MessageStore {
  constructor (private readonly db: BinaryDb) {}

  /** The place of an included message; undefined when no block includes it. */
  get (id: Uint8Array): MessagePlace | undefined {
    const value = this.read(id)
    return value === undefined ? undefined : readMessagePlace(value)
  }

  /** Whether a block includes the message. */
  has (id: Uint8Array): boolean {
    return this.read(id) !== undefined
  }

  put (id: Uint8Array, place: MessagePlace): void {
    this.db.putSync(id, messagePlaceValue(place))
  }

  /** The raw value, checked to be a place. */
  private read (id: Uint8Array): Uint8Array | undefined {
    const value = readFast(this.db, id)
    if (value === undefined || value.byteLength === MESSAGE_PLACE_BYTES) return value
    throw new KimuraError('ERR_STORE_CORRUPT', `the messages entry of ${toHex(id)} is ${value.byteLength} bytes, not a place`)
  }
}

export interface ChainTip {
  height: number
  hash: Uint8Array
  timestamp: number
}

const META_HEIGHT = 'lastHeight'
const META_HASH = 'lastHash'
const META_TIMESTAMP = 'lastTimestamp'
const META_FORMAT_VERSION = 'formatVersion'
const META_PENDING_COUNT = 'pendingCount'
const META_PENDING_NEXT_SEQ = 'pendingNextSeq'
const META_PENDING_GENERATION = 'pendingGeneration'

/** `metadata`: the tip (last height, hash, timestamp), the store's format version and the pending pool's counters. */
export class MetadataStore {
  constructor (private readonly db: MetaDb) {}

  getTip (): ChainTip | undefined {
    const height = this.db.get(META_HEIGHT)
    const hash = this.db.get(META_HASH)
    const timestamp = this.db.get(META_TIMESTAMP)
    if (typeof height !== 'number' || !(hash instanceof Uint8Array) || typeof timestamp !== 'number') return undefined
    return { height, hash: new Uint8Array(hash), timestamp }
  }

  getLastHeight (): number | undefined {
    return this.getTip()?.height
  }

  getLastHash (): Uint8Array | undefined {
    return this.getTip()?.hash
  }

  setTip (tip: ChainTip): void {
    this.db.putSync(META_HEIGHT, tip.height)
    this.db.putSync(META_HASH, Buffer.from(tip.hash))
    this.db.putSync(META_TIMESTAMP, tip.timestamp)
  }

  /** The recorded format version; undefined for a store made before versions were recorded (format 0). */
  getFormatVersion (): number | undefined {
    const value = this.db.get(META_FORMAT_VERSION)
    if (value === undefined) return undefined
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new KimuraError('ERR_STORE_CORRUPT', 'the store\'s formatVersion is not a non-negative integer')
    return value
  }

  setFormatVersion (version: number): void {
    this.db.putSync(META_FORMAT_VERSION, version)
  }

  getPendingCounters (): PendingCounters {
    return { count: this.getNumber(META_PENDING_COUNT), nextSeq: this.getNumber(META_PENDING_NEXT_SEQ), generation: this.getPendingGeneration() }
  }

  /** How many transactions have changed `pending` since the counter was added (format 4). */
  getPendingGeneration (): number {
    return this.getNumber(META_PENDING_GENERATION)
  }

  setPendingCounters (counters: PendingCounters): void {
    this.db.putSync(META_PENDING_COUNT, counters.count)
    this.db.putSync(META_PENDING_NEXT_SEQ, counters.nextSeq)
    this.db.putSync(META_PENDING_GENERATION, counters.generation)
  }

  private getNumber (key: string): number {
    const value = this.db.get(key)
    return typeof value === 'number' ? value : 0
  }
}

export interface PendingCounters {
  /** Messages pending. */
  count: number
  /** The arrival sequence the next appended message gets. */
  nextSeq: number
  /** Bumped by every transaction that changes `pending`: what a thread's index of it was built from. */
  generation: number
}

export interface PendingEntry {
  /** The sequence of its batch: the queue key. */
  seq: number
  id: Uint8Array
  encoded: Uint8Array
  /** Whether it is the last message of its batch still pending: a block that takes it spends the batch. */
  lastOfBatch: boolean
}

/**
 * `pending`: one entry per admitted batch, in arrival order (format 2 on). A batch holds only
 * pending messages: the transaction that includes or drops some of them rewrites it with the
 * rest, or removes it. Writes go through a PendingWriter, inside a ChainStore transaction.
 *
 * Which batch holds a pending message is not stored (format 4): a thread that asks keeps an
 * index in memory, built from the batches, and builds it again when a transaction that was not
 * its own has changed `pending` since (metadata `pendingGeneration`). The producer, the
 * leader's one writer of `pending`, asks for every message; its index follows its own
 * transactions and is never rebuilt while it runs. A peer's `pending` is empty, and it builds
 * none. Stored in LMDB (format 3), the index cost a write to a random key per message at
 * admission and a read and a delete at inclusion, about 3 µs of the producer's 26 µs a message
 * (benchmarks/README.md, "The pending index in memory"). In memory it costs about 80 bytes a
 * pending message.
 */
export class PendingPool {
  /** Id key -> batch sequence, as of `generation` (CHANGING while a transaction has it). */
  private index: { map: Map<string, number>, generation: number } | undefined
  /** While a transaction has the index: the generation the index has if that transaction commits. */
  private onCommit: number | undefined

  constructor (private readonly db: BinaryDb, private readonly meta: MetadataStore) {}

  count (): number {
    return this.meta.getPendingCounters().count
  }

  /** Builds this thread's index now, if it is not current: about 1.3 s per million pending messages. */
  buildIndex (): void {
    this.currentIndex(this.meta.getPendingGeneration())
  }

  /** The encoded message with this id, if it is pending. */
  get (id: Uint8Array): Uint8Array | undefined {
    const seq = this.currentIndex(this.meta.getPendingGeneration()).get(bytesKey(id))
    if (seq === undefined) return undefined
    const value = readFast(this.db, pendingQueueKey(seq))
    if (value === undefined) return undefined
    const entry = readPendingBatch(value).entries.find(e => bytesEqual(e.id, id))
    return entry === undefined ? undefined : new Uint8Array(entry.encoded)
  }

  /** The oldest `limit` pending messages, in arrival order. */
  takeOldest (limit: number): PendingEntry[] {
    const out: PendingEntry[] = []
    if (limit <= 0) return out
    for (const { key, value } of this.db.getRange({ start: PENDING_QUEUE_START, end: PENDING_QUEUE_END })) {
      const seq = readU64BE(key, 1)
      // A batch holds only pending messages (PendingWriter.flush rewrites one that loses some).
      const batch = readPendingBatch(new Uint8Array(value))
      const room = limit - out.length
      batch.entries.slice(0, room).forEach((e, i) => {
        const last = i === batch.entries.length - 1 && batch.unreadable === undefined
        out.push({ seq, id: e.id, encoded: e.encoded, lastOfBatch: last })
      })
      // Bytes that frame no entry are handed on as one entry with no valid id: the producer drops it.
      if (batch.unreadable !== undefined && batch.entries.length < room) out.push({ seq, id: new Uint8Array(0), encoded: batch.unreadable, lastOfBatch: true })
      if (out.length >= limit) break
    }
    return out
  }

  /**
   * A writer for one transaction: it reads the counters once, and its flush() writes them once,
   * however many messages the transaction appends or removes.
   */
  writer (): PendingWriter {
    return new PendingWriter(this.db, this, this.meta)
  }

  /**
   * The index for the transaction that is writing `pending` (at `generation`, read in it). Until
   * transactionEnded() it counts as changing: a transaction that does not commit leaves an index
   * that is not what is stored, and it is dropped.
   */
  indexForTransaction (generation: number): Map<string, number> {
    const map = this.currentIndex(generation)
    this.index = { map, generation: CHANGING }
    this.onCommit = generation
    return map
  }

  /** What the transaction that has the index will have made the stored generation. */
  willCommit (generation: number): void {
    this.onCommit = generation
  }

  /** Called by ChainStore when a write transaction ends, committed or not. */
  transactionEnded (committed: boolean): void {
    if (this.onCommit === undefined) return
    if (committed && this.index !== undefined) this.index.generation = this.onCommit
    else this.index = undefined
    this.onCommit = undefined
  }

  /** The index as of the stored `generation`: this thread's own if it is that one, else built from the batches. */
  private currentIndex (generation: number): Map<string, number> {
    if (this.index !== undefined && this.index.generation === generation) return this.index.map
    const map = new Map<string, number>()
    for (const { key, value } of this.db.getRange({ start: PENDING_QUEUE_START, end: PENDING_QUEUE_END })) {
      const seq = readU64BE(key, 1)
      for (const { id } of readPendingBatch(value).entries) map.set(bytesKey(id), seq)
    }
    this.index = { map, generation }
    return map
  }
}

/** An index generation no stored one equals: the index is being changed by a transaction. */
const CHANGING = -1

export class PendingWriter {
  private readonly counters: PendingCounters
  /** The pool's index, taken on first use: a transaction that needs none (a peer's) builds none. */
  private taken: Map<string, number> | undefined
  private changed = false
  /** Batches that lost a message in this transaction and may now be empty. */
  private readonly touched = new Set<number>()
  private readonly spent = new Set<number>()

  constructor (private readonly db: BinaryDb, private readonly pool: PendingPool, private readonly meta: MetadataStore) {
    this.counters = meta.getPendingCounters()
  }

  get count (): number {
    return this.counters.count
  }

  /** Whether the message with this id key (bytesKey) is pending, as this transaction has left `pending` so far. */
  isPending (key: string): boolean {
    return this.index.has(key)
  }

  /** Appends one batch of messages, by id key (bytesKey), in order; the caller has checked each is new. */
  append (entries: ReadonlyMap<string, BatchEntry>): void {
    if (entries.size === 0) return
    const seq = this.counters.nextSeq++
    this.db.putSync(pendingQueueKey(seq), pendingBatchValue([...entries.values()]))
    const index = this.index
    for (const key of entries.keys()) index.set(key, seq)
    this.counters.count += entries.size
    this.changed = true
  }

  /** Called as a block's place is written for the message: it leaves `pending` if it was there. */
  including (id: Uint8Array): void {
    // Nothing is pending on a peer: no index, and no lookup per message of every imported block.
    if (this.counters.count === 0) return
    const key = bytesKey(id)
    const seq = this.index.get(key)
    if (seq === undefined) return
    this.index.delete(key)
    this.counters.count--
    this.touched.add(seq)
    this.changed = true
  }

  /** Drops a pending entry the producer could not use (it no longer decodes). */
  drop (entry: Pick<PendingEntry, 'seq' | 'id'>): void {
    if (entry.id.byteLength === HASH_BYTES) {
      const key = bytesKey(entry.id)
      if (this.index.get(key) !== entry.seq) return
      this.index.delete(key)
    }
    // An unreadable remainder counts as one message: its ids are lost.
    this.counters.count = Math.max(0, this.counters.count - 1)
    this.touched.add(entry.seq)
    this.changed = true
  }

  /** Marks a batch whose every pending message this transaction includes or drops. */
  spend (seq: number): void {
    this.spent.add(seq)
  }

  /**
   * Removes the batches left with no pending message, rewrites those that lost some to hold
   * only the rest (so a batch always holds pending messages only, and a build looks nothing
   * up), and writes the counters once, with a new generation, if anything changed.
   */
  flush (): void {
    for (const seq of this.spent) this.db.removeSync(pendingQueueKey(seq))
    for (const seq of this.touched) {
      if (this.spent.has(seq)) continue
      const value = this.db.getBinary(pendingQueueKey(seq))
      if (value === undefined) continue
      const batch = readPendingBatch(value)
      const live = batch.entries.filter(e => this.index.get(bytesKey(e.id)) === seq)
      if (live.length === 0) this.db.removeSync(pendingQueueKey(seq))
      else if (live.length < batch.entries.length || batch.unreadable !== undefined) this.db.putSync(pendingQueueKey(seq), pendingBatchValue(live))
    }
    if (!this.changed) return
    this.counters.generation++
    this.meta.setPendingCounters(this.counters)
    if (this.taken !== undefined) this.pool.willCommit(this.counters.generation)
  }

  private get index (): Map<string, number> {
    this.taken ??= this.pool.indexForTransaction(this.counters.generation)
    return this.taken
  }
}

// One class per LMDB database. Each wraps a `Database` of the shared environment; writes that
// span several databases are done by ChainStore inside one transaction.
import type { Database } from 'lmdb'
import { toHex } from '../bytes.js'
import { KimuraError } from '../errors.js'
import { MESSAGE_PLACE_BYTES, PENDING_QUEUE_END, PENDING_QUEUE_START, messagePlaceValue, pendingIndexKey, pendingQueueKey, pendingValue, readMessagePlace, readU64BE, u64be, type MessagePlace } from './keys.js'

export type BinaryDb = Database<Buffer, Buffer>
export type MetaDb = Database<number | Uint8Array, string>

/**
 * The value at `key` as a view valid only until the next read of this thread: getBinaryFast
 * fills a reusable buffer, whose `length` property (not its byteLength) is the value's size.
 */
function readFast (db: BinaryDb, key: Buffer): Uint8Array | undefined {
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

/** `messages`: included messages by id, each with its place: a slice of its stored block (format 1). */
export class MessageStore {
  constructor (private readonly db: BinaryDb) {}

  get (id: Uint8Array): MessagePlace | undefined {
    const value = readFast(this.db, Buffer.from(id))
    if (value === undefined) return undefined
    if (value.byteLength !== MESSAGE_PLACE_BYTES) throw new KimuraError('ERR_STORE_CORRUPT', `the messages entry of ${toHex(id)} is ${value.byteLength} bytes, not a format 1 place`)
    return readMessagePlace(value)
  }

  has (id: Uint8Array): boolean {
    return this.db.doesExist(Buffer.from(id))
  }

  put (id: Uint8Array, place: MessagePlace): void {
    this.db.putSync(Buffer.from(id), messagePlaceValue(place))
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
    return { count: this.getNumber(META_PENDING_COUNT), nextSeq: this.getNumber(META_PENDING_NEXT_SEQ) }
  }

  setPendingCounters (counters: PendingCounters): void {
    this.db.putSync(META_PENDING_COUNT, counters.count)
    this.db.putSync(META_PENDING_NEXT_SEQ, counters.nextSeq)
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
}

export interface PendingEntry {
  /** Its arrival sequence: the queue key. */
  seq: number
  id: Uint8Array
  encoded: Uint8Array
}

/**
 * `pending`: admitted messages in arrival order (queue entries) plus an index by id, in the
 * same database. Writes go through a PendingWriter, inside a ChainStore transaction.
 */
export class PendingPool {
  constructor (private readonly db: BinaryDb, private readonly meta: MetadataStore) {}

  count (): number {
    return this.meta.getPendingCounters().count
  }

  contains (id: Uint8Array): boolean {
    return this.db.doesExist(pendingIndexKey(id))
  }

  /** The encoded message with this id, if it is pending. */
  get (id: Uint8Array): Uint8Array | undefined {
    const seq = this.db.getBinary(pendingIndexKey(id))
    if (seq === undefined) return undefined
    const value = readFast(this.db, pendingQueueKey(readU64BE(seq, 0)))
    return value === undefined ? undefined : new Uint8Array(value.subarray(32))
  }

  /** The oldest `limit` pending messages, in arrival order. */
  takeOldest (limit: number): PendingEntry[] {
    const out: PendingEntry[] = []
    if (limit <= 0) return out
    for (const { key, value } of this.db.getRange({ start: PENDING_QUEUE_START, end: PENDING_QUEUE_END, limit })) {
      // A value too short to hold an id is kept as it is: the producer drops it as undecodable.
      out.push({ seq: readU64BE(key, 1), id: new Uint8Array(value.subarray(0, 32)), encoded: new Uint8Array(value.subarray(32)) })
    }
    return out
  }

  /**
   * A writer for one transaction: it reads the counters once, and its flush() writes them once,
   * however many messages the transaction appends or removes.
   */
  writer (): PendingWriter {
    return new PendingWriter(this.db, this.meta)
  }
}

export class PendingWriter {
  private readonly counters: PendingCounters
  private changed = false

  constructor (private readonly db: BinaryDb, private readonly meta: MetadataStore) {
    this.counters = meta.getPendingCounters()
  }

  get count (): number {
    return this.counters.count
  }

  /** Appends one message; the caller has checked it is new. */
  append (id: Uint8Array, encoded: Uint8Array): void {
    const seq = this.counters.nextSeq++
    this.db.putSync(pendingQueueKey(seq), pendingValue(id, encoded))
    this.db.putSync(pendingIndexKey(id), u64be(seq))
    this.counters.count++
    this.changed = true
  }

  /** Removes a message if it is pending; returns whether it was. */
  remove (id: Uint8Array): boolean {
    const indexKey = pendingIndexKey(id)
    const seq = this.db.getBinary(indexKey)
    if (seq === undefined) return false
    this.db.removeSync(pendingQueueKey(readU64BE(seq, 0)))
    this.db.removeSync(indexKey)
    this.counters.count--
    this.changed = true
    return true
  }

  /**
   * Removes one queue entry by its sequence, whatever its bytes hold (an entry that no longer
   * decodes, whose id may be damaged too), and its index entry if that points to it.
   */
  removeEntry (entry: Pick<PendingEntry, 'seq' | 'id'>): void {
    const queueKey = pendingQueueKey(entry.seq)
    if (!this.db.doesExist(queueKey)) return
    this.db.removeSync(queueKey)
    const indexKey = pendingIndexKey(entry.id)
    const seq = this.db.getBinary(indexKey)
    if (seq !== undefined && readU64BE(seq, 0) === entry.seq) this.db.removeSync(indexKey)
    this.counters.count--
    this.changed = true
  }

  /** Writes the counters, once, if anything changed. */
  flush (): void {
    if (this.changed) this.meta.setPendingCounters(this.counters)
  }
}

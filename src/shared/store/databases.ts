// One class per LMDB database. Each wraps a `Database` of the shared environment; writes that
// span several databases are done by ChainStore inside one transaction.
import type { Database } from 'lmdb'
import { PENDING_QUEUE_END, PENDING_QUEUE_START, includedMessageValue, pendingIndexKey, pendingQueueKey, pendingValue, readU64BE, u64be } from './keys.js'

export type BinaryDb = Database<Buffer, Buffer>
export type MetaDb = Database<number | Uint8Array, string>

function copy (buf: Buffer | undefined): Uint8Array | undefined {
  return buf === undefined ? undefined : new Uint8Array(buf)
}

/** `blocks`: encoded Block by height. */
export class BlockStore {
  constructor (private readonly db: BinaryDb) {}

  getEncoded (height: number): Uint8Array | undefined {
    return copy(this.db.getBinary(u64be(height)))
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

export interface StoredMessage {
  /** The encoded Message (wire bytes). */
  encoded: Uint8Array
  /** The height of the block that includes it; null while pending. */
  height: number | null
}

/** `messages`: included messages by id, with the height and position of their block. */
export class MessageStore {
  constructor (private readonly db: BinaryDb) {}

  get (id: Uint8Array): StoredMessage | undefined {
    const value = this.db.getBinary(Buffer.from(id))
    if (value === undefined) return undefined
    return { height: readU64BE(value, 0), encoded: new Uint8Array(value.subarray(12)) }
  }

  has (id: Uint8Array): boolean {
    return this.db.doesExist(Buffer.from(id))
  }

  put (id: Uint8Array, height: number, index: number, encoded: Uint8Array): void {
    this.db.putSync(Buffer.from(id), includedMessageValue(height, index, encoded))
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
const META_PENDING_COUNT = 'pendingCount'
const META_PENDING_NEXT_SEQ = 'pendingNextSeq'

/** `metadata`: the tip (last height, hash, timestamp) and the pending pool's counters. */
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

  getNumber (key: typeof META_PENDING_COUNT | typeof META_PENDING_NEXT_SEQ): number {
    const value = this.db.get(key)
    return typeof value === 'number' ? value : 0
  }

  setNumber (key: typeof META_PENDING_COUNT | typeof META_PENDING_NEXT_SEQ, value: number): void {
    this.db.putSync(key, value)
  }
}

export interface PendingEntry {
  id: Uint8Array
  encoded: Uint8Array
}

/**
 * `pending`: admitted messages in arrival order (queue entries) plus an index by id, in the
 * same database. Callers that write (append, remove) run inside a ChainStore transaction.
 */
export class PendingPool {
  constructor (private readonly db: BinaryDb, private readonly meta: MetadataStore) {}

  count (): number {
    return this.meta.getNumber(META_PENDING_COUNT)
  }

  contains (id: Uint8Array): boolean {
    return this.db.doesExist(pendingIndexKey(id))
  }

  /** The encoded message with this id, if it is pending. */
  get (id: Uint8Array): Uint8Array | undefined {
    const seq = this.db.getBinary(pendingIndexKey(id))
    if (seq === undefined) return undefined
    const value = this.db.getBinary(pendingQueueKey(readU64BE(seq, 0)))
    return value === undefined ? undefined : new Uint8Array(value.subarray(32))
  }

  /** The oldest `limit` pending messages, in arrival order. */
  takeOldest (limit: number): PendingEntry[] {
    const out: PendingEntry[] = []
    if (limit <= 0) return out
    for (const { value } of this.db.getRange({ start: PENDING_QUEUE_START, end: PENDING_QUEUE_END, limit })) {
      out.push({ id: new Uint8Array(value.subarray(0, 32)), encoded: new Uint8Array(value.subarray(32)) })
    }
    return out
  }

  /** Appends one message (inside a transaction); the caller has checked it is new. */
  appendUnchecked (id: Uint8Array, encoded: Uint8Array): void {
    const seq = this.meta.getNumber(META_PENDING_NEXT_SEQ)
    this.db.putSync(pendingQueueKey(seq), pendingValue(id, encoded))
    this.db.putSync(pendingIndexKey(id), u64be(seq))
    this.meta.setNumber(META_PENDING_NEXT_SEQ, seq + 1)
    this.meta.setNumber(META_PENDING_COUNT, this.count() + 1)
  }

  /** Removes a message if it is pending (inside a transaction); returns whether it was. */
  remove (id: Uint8Array): boolean {
    const indexKey = pendingIndexKey(id)
    const seq = this.db.getBinary(indexKey)
    if (seq === undefined) return false
    this.db.removeSync(pendingQueueKey(readU64BE(seq, 0)))
    this.db.removeSync(indexKey)
    this.meta.setNumber(META_PENDING_COUNT, this.count() - 1)
    return true
  }
}

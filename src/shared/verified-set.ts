// A bounded set of the messages this node has verified, shared by every worker: a peer checks a
// message's signature when it is gossiped on kimura/messages/1.0.0, and need not check it again
// when the same message comes back inside a block. It is keyed on the BLAKE3 of the message's
// whole encoding, signature included: a key on the message id alone (which does not cover the
// signature) would let a block carry a known id with a bad signature, which nodes that verify
// strictly refuse: a chain split.
//
// A direct-mapped table in one SharedArrayBuffer: slot = the key's first four bytes, a newer
// key replaces an older one in its slot. Workers write without locks: a race can only lose an
// entry or tear a key into one that matches no message's hash (a 256-bit preimage), so a miss
// costs a verification and nothing can be accepted that was not verified.
import { blake3Into, blake3RangeInto } from './blake3.js'

const KEY_BYTES = 32

/** VerifiedSet.lookup's answer for a list of encoded messages. */
export interface VerifiedLookup {
  known: (index: number) => boolean
  record: (index: number) => void
  recordAll: () => void
}

export class VerifiedSet {
  private readonly table: Uint8Array
  private readonly mask: number

  /** `slots` must be a power of two; the table takes slots x 32 bytes. */
  static create (slots: number): SharedArrayBuffer {
    if (slots < 1 || (slots & (slots - 1)) !== 0) throw new RangeError(`slots must be a power of two, got ${slots}`)
    return new SharedArrayBuffer(slots * KEY_BYTES)
  }

  constructor (buffer: SharedArrayBuffer) {
    this.table = new Uint8Array(buffer)
    this.mask = buffer.byteLength / KEY_BYTES - 1
  }

  /**
   * Looks up the encoded messages `raws[start, end)`, hashing each once (the key: B3 of the
   * message's whole wire encoding): `known(i)` says which were verified before; `record(i)`
   * adds one once its signature has been verified here, and `recordAll()` the whole range.
   * Every path that checks message signatures (gossiped batches, a block's slices, a small
   * block whole) goes through a lookup, so a key only ever enters the set after its encoding
   * verified.
   */
  lookup (raws: readonly Uint8Array[], start = 0, end = raws.length): VerifiedLookup {
    const keys = new Uint8Array(KEY_BYTES * (end - start))
    for (let i = start; i < end; i++) blake3Into(raws[i], keys, KEY_BYTES * (i - start))
    return this.lookupKeys(keys, start, end)
  }

  /** lookup of the messages [start, end) of a block, given as (offset, length) pairs into its bytes. */
  lookupIn (block: Uint8Array, offsets: Uint32Array, start: number, end: number): VerifiedLookup {
    const keys = new Uint8Array(KEY_BYTES * (end - start))
    for (let i = start; i < end; i++) blake3RangeInto(block, offsets[2 * i], offsets[2 * i] + offsets[2 * i + 1], keys, KEY_BYTES * (i - start))
    return this.lookupKeys(keys, start, end)
  }

  /** Adds the key at keys[at, at + 32). */
  add (keys: Uint8Array, at = 0): void {
    const slot = this.slotOf(keys, at)
    for (let i = 0; i < KEY_BYTES; i++) this.table[slot + i] = keys[at + i]
  }

  /** Whether the key at keys[at, at + 32) is in the set. */
  has (keys: Uint8Array, at = 0): boolean {
    const slot = this.slotOf(keys, at)
    for (let i = 0; i < KEY_BYTES; i++) if (this.table[slot + i] !== keys[at + i]) return false
    return true
  }

  /** Keys for messages [start, end), 32 bytes each in `keys`, in order. */
  private lookupKeys (keys: Uint8Array, start: number, end: number): VerifiedLookup {
    const seen = new Uint8Array(end - start)
    for (let i = 0; i < end - start; i++) seen[i] = this.has(keys, KEY_BYTES * i) ? 1 : 0
    const record = (i: number): void => { if (seen[i - start] === 0) this.add(keys, KEY_BYTES * (i - start)) }
    return {
      known: i => seen[i - start] === 1,
      record,
      recordAll: () => { for (let i = start; i < end; i++) record(i) }
    }
  }

  private slotOf (keys: Uint8Array, at: number): number {
    const index = ((keys[at] << 24) | (keys[at + 1] << 16) | (keys[at + 2] << 8) | keys[at + 3]) & this.mask
    return index * KEY_BYTES
  }
}

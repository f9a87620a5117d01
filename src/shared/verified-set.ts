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
import { b3 } from './hash.js'

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

  /** The set's key for a message: B3 of its whole wire encoding. */
  static keyOf (encodedMessage: Uint8Array): Uint8Array {
    return b3(encodedMessage)
  }

  /**
   * Looks up the encoded messages `raws[start, end)`, hashing each once: `known(i)` says which
   * were verified before; `record(i)` adds one once its signature has been verified here, and
   * `recordAll()` the whole range. Every path that checks message signatures (gossiped batches,
   * a block's slices, a small block whole) goes through this, so a key only ever enters the set
   * after its encoding verified.
   */
  lookup (raws: readonly Uint8Array[], start = 0, end = raws.length): VerifiedLookup {
    const keys = new Array<Uint8Array>(raws.length)
    const seen = new Array<boolean>(raws.length)
    for (let i = start; i < end; i++) {
      keys[i] = VerifiedSet.keyOf(raws[i])
      seen[i] = this.has(keys[i])
    }
    const record = (i: number): void => { if (seen[i] !== true) this.add(keys[i]) }
    return {
      known: i => seen[i] === true,
      record,
      recordAll: () => { for (let i = start; i < end; i++) record(i) }
    }
  }

  add (key: Uint8Array): void {
    this.table.set(key, this.slotOf(key))
  }

  has (key: Uint8Array): boolean {
    const start = this.slotOf(key)
    for (let i = 0; i < KEY_BYTES; i++) if (this.table[start + i] !== key[i]) return false
    return true
  }

  private slotOf (key: Uint8Array): number {
    const index = ((key[0] << 24) | (key[1] << 16) | (key[2] << 8) | key[3]) & this.mask
    return index * KEY_BYTES
  }
}

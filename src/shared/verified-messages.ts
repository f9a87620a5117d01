// Message ids and verified messages as they cross threads: each list in one transferable
// buffer, so a 500-message batch crosses to the producer (or to gossip) as two buffers rather
// than a thousand small ones. Pure functions, used by workers and the main thread alike.
import { HASH_BYTES } from './params.js'
import type { VerifiedMessages } from './thread-contract.js'

/** Ids (32 bytes each) concatenated in one buffer. */
export function joinIds (ids: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(HASH_BYTES * ids.length)
  ids.forEach((id, i) => { out.set(id, HASH_BYTES * i) })
  return out
}

/** joinIds' inverse, as views into `ids`. */
export function splitIds (ids: Uint8Array): Uint8Array[] {
  return Array.from({ length: Math.floor(ids.byteLength / HASH_BYTES) }, (_, i) => ids.subarray(HASH_BYTES * i, HASH_BYTES * (i + 1)))
}

export function verifiedMessages (encoded: readonly Uint8Array[], ids: readonly Uint8Array[]): VerifiedMessages {
  const ends = new Array<number>(encoded.length)
  let total = 0
  for (let i = 0; i < encoded.length; i++) {
    total += encoded[i].byteLength
    ends[i] = total
  }
  const wire = new Uint8Array(total)
  for (let i = 0; i < encoded.length; i++) wire.set(encoded[i], i === 0 ? 0 : ends[i - 1])
  return { wire: wire.buffer, ends, ids: joinIds(ids).buffer as ArrayBuffer }
}

/** The other side: each message's wire bytes and id, as views into the two buffers. */
export function splitVerified (verified: VerifiedMessages): Array<{ id: Uint8Array, encoded: Uint8Array }> {
  const { wire, ends } = verified
  const ids = splitIds(new Uint8Array(verified.ids))
  return ends.map((end, i) => {
    const start = i === 0 ? 0 : ends[i - 1]
    return { id: ids[i], encoded: new Uint8Array(wire, start, end - start) }
  })
}

// What an admission hands on: the verified messages' wire bytes and ids, each in one
// transferable buffer, so that a 500-message batch crosses to the producer (or to gossip) as
// two buffers rather than a thousand small ones.
import type { VerifiedMessages } from '../shared/thread-contract.js'

const ID_BYTES = 32

export function verifiedMessages (encoded: readonly Uint8Array[], ids: readonly Uint8Array[]): VerifiedMessages {
  const ends = new Array<number>(encoded.length)
  let total = 0
  for (let i = 0; i < encoded.length; i++) {
    total += encoded[i].byteLength
    ends[i] = total
  }
  const wire = new Uint8Array(total)
  const idBytes = new Uint8Array(ID_BYTES * ids.length)
  for (let i = 0; i < encoded.length; i++) {
    wire.set(encoded[i], i === 0 ? 0 : ends[i - 1])
    idBytes.set(ids[i], ID_BYTES * i)
  }
  return { wire: wire.buffer, ends, ids: idBytes.buffer }
}

/** The other side: each message's wire bytes and id as views into the two buffers. */
export function splitVerified (verified: VerifiedMessages): Array<{ id: Uint8Array, encoded: Uint8Array }> {
  const { wire, ends, ids } = verified
  return ends.map((end, i) => {
    const start = i === 0 ? 0 : ends[i - 1]
    return { id: new Uint8Array(ids, ID_BYTES * i, ID_BYTES), encoded: new Uint8Array(wire, start, end - start) }
  })
}

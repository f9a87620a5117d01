// The status answer of /kimura/status/1.0.0 (SPEC 5): `[1, networkId: bin32, tip: Header]`,
// read as strictly as every other payload (codec.ts). The unsigned-varint length in front of
// it is the transport's framing, not part of these bytes. Pure: checking the answer against
// the local network id and leader key is the caller's work.
import { DecodeError, decodeWith, headerToWire, packr, readHeader, type DecodeResult } from './codec.js'
import { copyBytes } from './bytes.js'
import { b3 } from './hash.js'
import { HASH_BYTES } from './params.js'
import type { BlockHeader } from './types.js'

export const STATUS_PROTOCOL = '/kimura/status/1.0.0'
/** The first element of the status array. */
export const STATUS_FORMAT_VERSION = 1

const NETWORK_DOMAIN = 0x4e
const HASH_VERSION = 0x01

export interface Status {
  /** B3(0x4e || 0x01 || leaderKey): nodes of one network share it. */
  networkId: Uint8Array
  /** The answerer's stored tip header (genesis for an empty node). */
  tip: BlockHeader
}

/** networkId = B3(0x4e || 0x01 || leaderKey). */
export function networkId (leaderKey: Uint8Array): Uint8Array {
  const preimage = new Uint8Array(2 + leaderKey.byteLength)
  preimage[0] = NETWORK_DOMAIN
  preimage[1] = HASH_VERSION
  preimage.set(leaderKey, 2)
  return b3(preimage)
}

/** The MessagePack status answer; the result owns its buffer. */
export function encodeStatus (status: Status): Uint8Array {
  return copyBytes(packr.pack([STATUS_FORMAT_VERSION, status.networkId, headerToWire(status.tip)]))
}

/** Reads a status answer; binaries in the result are views into `bytes`. Never throws. */
export function decodeStatus (bytes: Uint8Array): DecodeResult<Status> {
  return decodeWith(bytes, r => {
    r.array('status', 3)
    const version = r.uint('status.version')
    if (version !== STATUS_FORMAT_VERSION) throw new DecodeError(`status.version: unsupported format version ${version}`)
    const id = r.bin('status.networkId', HASH_BYTES)
    return { networkId: id, tip: readHeader(r) }
  })
}

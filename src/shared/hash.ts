// Hashing rules of SPEC sections 2 and 3: message ids, block hashes, the RFC 6962 Merkle root,
// all BLAKE3 (blake3-wasm, which runs the same on the main thread and in workers).
import { hash as blake3 } from 'blake3-wasm'
import { writeU64BE } from './bytes.js'
import type { BlockHeader, Message } from './types.js'

const MESSAGE_DOMAIN = 0x4d
const BLOCK_DOMAIN = 0x42
const HASH_VERSION = 0x01
const MERKLE_LEAF = 0x00
const MERKLE_NODE = 0x01

export function b3 (data: Uint8Array): Uint8Array {
  const digest = blake3(data) as Buffer
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength)
}

/** message_id = B3(0x4d || 0x01 || sender || u64be(timestamp) || u64be(nonce) || u32be(len) || content) */
export function messageId (message: Pick<Message, 'sender' | 'timestamp' | 'nonce' | 'content'>): Uint8Array {
  const content = message.content
  const preimage = new Uint8Array(2 + 32 + 8 + 8 + 4 + content.byteLength)
  const view = new DataView(preimage.buffer)
  preimage[0] = MESSAGE_DOMAIN
  preimage[1] = HASH_VERSION
  preimage.set(message.sender, 2)
  writeU64BE(view, 34, message.timestamp)
  writeU64BE(view, 42, message.nonce)
  view.setUint32(50, content.byteLength)
  preimage.set(content, 54)
  return b3(preimage)
}

/** block_hash = B3(0x42 || 0x01 || u64be(height) || u64be(timestamp) || prevHash || messageRoot || proposer) */
export function blockHash (header: Omit<BlockHeader, 'signature'>): Uint8Array {
  const preimage = new Uint8Array(2 + 8 + 8 + 32 + 32 + 32)
  const view = new DataView(preimage.buffer)
  preimage[0] = BLOCK_DOMAIN
  preimage[1] = HASH_VERSION
  writeU64BE(view, 2, header.height)
  writeU64BE(view, 10, header.timestamp)
  preimage.set(header.prevHash, 18)
  preimage.set(header.messageRoot, 50)
  preimage.set(header.proposer, 82)
  return b3(preimage)
}

/** RFC 6962 Merkle tree hash over BLAKE3 of `ids`, in order. */
export function merkleRoot (ids: readonly Uint8Array[]): Uint8Array {
  if (ids.length === 0) return b3(new Uint8Array(0))
  return subtreeRoot(ids, 0, ids.length)
}

function subtreeRoot (ids: readonly Uint8Array[], start: number, end: number): Uint8Array {
  const n = end - start
  if (n === 1) {
    const leaf = new Uint8Array(1 + 32)
    leaf[0] = MERKLE_LEAF
    leaf.set(ids[start], 1)
    return b3(leaf)
  }
  const k = largestPowerOfTwoBelow(n)
  const node = new Uint8Array(1 + 64)
  node[0] = MERKLE_NODE
  node.set(subtreeRoot(ids, start, start + k), 1)
  node.set(subtreeRoot(ids, start + k, end), 33)
  return b3(node)
}

/** The largest power of two strictly smaller than n (n >= 2). */
function largestPowerOfTwoBelow (n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

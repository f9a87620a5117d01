// Hashing rules of SPEC sections 2 and 3: message ids, block hashes, the RFC 6962 Merkle root,
// all BLAKE3 (blake3-wasm, which runs the same on the main thread and in workers).
//
// Allocation matters here more than hashing (0.4 us a hash): a node hashes every message two or
// three times. Preimages are written straight into WebAssembly memory (blake3.ts), so a hash
// allocates nothing but the digest it returns, and merkleRoot one buffer for all its nodes.
// (Before, through blake3-wasm's glue and a preimage buffer here, an id and its Merkle leaf
// and node took 2.5 us of CPU a message, and 10.4 before that.)
import { blake3Into, hashInput, memoryBytes, memoryView, reserveInput } from './blake3.js'
import { writeU64BE } from './bytes.js'
import { HASH_BYTES, PUBLIC_KEY_BYTES } from './params.js'
import type { BlockHeader, Message } from './types.js'

const MESSAGE_DOMAIN = 0x4d
const BLOCK_DOMAIN = 0x42
const HASH_VERSION = 0x01
const MERKLE_LEAF = 0x00
const MERKLE_NODE = 0x01
/** u8 domain, u8 version, sender, u64 timestamp, u64 nonce, u32 content length. */
const MESSAGE_PREIMAGE_HEAD = 2 + 32 + 8 + 8 + 4
const BLOCK_PREIMAGE_BYTES = 2 + 8 + 8 + 32 + 32 + 32

export function b3 (data: Uint8Array): Uint8Array {
  const digest = new Uint8Array(HASH_BYTES)
  blake3Into(data, digest)
  return digest
}

/** message_id = B3(0x4d || 0x01 || sender || u64be(timestamp) || u64be(nonce) || u32be(len) || content) */
export function messageId (message: Pick<Message, 'sender' | 'timestamp' | 'nonce' | 'content'>): Uint8Array {
  const id = new Uint8Array(HASH_BYTES)
  messageIdInto(message, id, 0)
  return id
}

/** messageId, written into out[offset, offset + 32). */
function messageIdInto (message: Pick<Message, 'sender' | 'timestamp' | 'nonce' | 'content'>, out: Uint8Array, offset: number): void {
  const { sender, content } = message
  // The preimage is written in place: a longer sender would write past it.
  if (sender.byteLength !== PUBLIC_KEY_BYTES) throw new RangeError(`a sender is ${PUBLIC_KEY_BYTES} bytes, got ${sender.byteLength}`)
  const size = MESSAGE_PREIMAGE_HEAD + content.byteLength
  const at = reserveInput(size)
  const bytes = memoryBytes()
  const view = memoryView()
  bytes[at] = MESSAGE_DOMAIN
  bytes[at + 1] = HASH_VERSION
  bytes.set(sender, at + 2)
  writeU64BE(view, at + 34, message.timestamp)
  writeU64BE(view, at + 42, message.nonce)
  view.setUint32(at + 50, content.byteLength)
  bytes.set(content, at + MESSAGE_PREIMAGE_HEAD)
  hashInput(at, size, out, offset)
}

/** block_hash = B3(0x42 || 0x01 || u64be(height) || u64be(timestamp) || prevHash || messageRoot || proposer) */
export function blockHash (header: Omit<BlockHeader, 'signature'>): Uint8Array {
  const { prevHash, messageRoot, proposer } = header
  // Written in place, as an id's preimage: a longer field would write past it.
  if (prevHash.byteLength !== HASH_BYTES || messageRoot.byteLength !== HASH_BYTES || proposer.byteLength !== PUBLIC_KEY_BYTES) {
    throw new RangeError('prevHash, messageRoot and proposer are 32 bytes each')
  }
  const at = reserveInput(BLOCK_PREIMAGE_BYTES)
  const bytes = memoryBytes()
  const view = memoryView()
  bytes[at] = BLOCK_DOMAIN
  bytes[at + 1] = HASH_VERSION
  writeU64BE(view, at + 2, header.height)
  writeU64BE(view, at + 10, header.timestamp)
  bytes.set(prevHash, at + 18)
  bytes.set(messageRoot, at + 50)
  bytes.set(proposer, at + 82)
  const hash = new Uint8Array(HASH_BYTES)
  hashInput(at, BLOCK_PREIMAGE_BYTES, hash)
  return hash
}

/**
 * RFC 6962 Merkle tree hash over BLAKE3 of `ids`, in order. Computed level by level in one
 * buffer: each level pairs neighbours and carries a last, unpaired node up unchanged, which is
 * RFC 6962's split at the largest power of two below n (merkle-proof.ts keeps every level).
 */
export function merkleRoot (ids: readonly Uint8Array[]): Uint8Array {
  if (ids.length === 0) return b3(new Uint8Array(0))
  const nodes = new Uint8Array(ids.length * HASH_BYTES)
  ids.forEach((id, i) => { merkleLeafInto(id, nodes, i * HASH_BYTES) })
  // Level by level, in place: node i of a level is written over node 2i of the one below.
  for (let n = ids.length; n > 1; n = Math.ceil(n / 2)) {
    for (let i = 0; 2 * i < n; i++) {
      if (2 * i + 1 < n) merkleNodeInto(nodes, 2 * i * HASH_BYTES, nodes, i * HASH_BYTES)
      else nodes.copyWithin(i * HASH_BYTES, 2 * i * HASH_BYTES, (2 * i + 1) * HASH_BYTES)
    }
  }
  return nodes.slice(0, HASH_BYTES)
}

/** A Merkle leaf, B3(0x00 || id), written into out[offset, offset + 32). */
export function merkleLeafInto (id: Uint8Array, out: Uint8Array, offset: number): void {
  if (id.byteLength !== HASH_BYTES) throw new RangeError(`an id is ${HASH_BYTES} bytes, got ${id.byteLength}`)
  const at = reserveInput(1 + HASH_BYTES)
  const bytes = memoryBytes()
  bytes[at] = MERKLE_LEAF
  bytes.set(id, at + 1)
  hashInput(at, 1 + HASH_BYTES, out, offset)
}

/**
 * A Merkle node, B3(0x01 || left || right), of the two 32-byte hashes side by side at
 * `children`[from, from + 64), written into out[offset, offset + 32) (which may overlap them).
 */
export function merkleNodeInto (children: Uint8Array, from: number, out: Uint8Array, offset: number): void {
  if (from < 0 || from + 2 * HASH_BYTES > children.byteLength) throw new RangeError(`children at ${from} are outside ${children.byteLength} bytes`)
  const at = reserveInput(1 + 2 * HASH_BYTES)
  const bytes = memoryBytes()
  bytes[at] = MERKLE_NODE
  for (let b = 0; b < 2 * HASH_BYTES; b++) bytes[at + 1 + b] = children[from + b]
  hashInput(at, 1 + 2 * HASH_BYTES, out, offset)
}

// Hashing rules of SPEC sections 2 and 3: message ids, block hashes, the RFC 6962 Merkle root,
// all BLAKE3 (blake3-wasm, which runs the same on the main thread and in workers).
//
// Allocation matters here more than hashing (0.4 us a hash): a node hashes every message two or
// three times. V8 keeps a typed array of at most 64 bytes on its heap, but a larger one (a
// 154-byte id preimage, a 65-byte Merkle node) gets a backing store of its own outside it, and
// so does a small one whose `.buffer` is read. Preimages are therefore written into one reused
// buffer (blake3-wasm copies its input into wasm memory, so nothing keeps it), and a digest is
// written straight into a 32-byte array, as blake3-wasm's own `hash` does into a Buffer. An id
// and its Merkle leaf and node went from 10.4 to 2.5 us of CPU a message.
import { hash as blake3Into } from 'blake3-wasm/dist/wasm/nodejs/blake3_js.js'
import { writeU64BE } from './bytes.js'
import { HASH_BYTES } from './params.js'
import type { BlockHeader, Message } from './types.js'

const MESSAGE_DOMAIN = 0x4d
const BLOCK_DOMAIN = 0x42
const HASH_VERSION = 0x01
const MERKLE_LEAF = 0x00
const MERKLE_NODE = 0x01
/** u8 domain, u8 version, sender, u64 timestamp, u64 nonce, u32 content length. */
const MESSAGE_PREIMAGE_HEAD = 2 + 32 + 8 + 8 + 4

let scratch = new Uint8Array(1024)
let scratchView = new DataView(scratch.buffer)

/** The reused preimage buffer, grown to at least `size` bytes; valid until the next hash. */
function preimage (size: number): Uint8Array {
  if (size > scratch.byteLength) {
    scratch = new Uint8Array(size)
    scratchView = new DataView(scratch.buffer)
  }
  return scratch
}

export function b3 (data: Uint8Array): Uint8Array {
  const digest = new Uint8Array(HASH_BYTES)
  blake3Into(data, digest)
  return digest
}

/** message_id = B3(0x4d || 0x01 || sender || u64be(timestamp) || u64be(nonce) || u32be(len) || content) */
export function messageId (message: Pick<Message, 'sender' | 'timestamp' | 'nonce' | 'content'>): Uint8Array {
  const content = message.content
  const size = MESSAGE_PREIMAGE_HEAD + content.byteLength
  const bytes = preimage(size)
  bytes[0] = MESSAGE_DOMAIN
  bytes[1] = HASH_VERSION
  bytes.set(message.sender, 2)
  writeU64BE(scratchView, 34, message.timestamp)
  writeU64BE(scratchView, 42, message.nonce)
  scratchView.setUint32(50, content.byteLength)
  bytes.set(content, MESSAGE_PREIMAGE_HEAD)
  return b3(bytes.subarray(0, size))
}

/** block_hash = B3(0x42 || 0x01 || u64be(height) || u64be(timestamp) || prevHash || messageRoot || proposer) */
export function blockHash (header: Omit<BlockHeader, 'signature'>): Uint8Array {
  const size = 2 + 8 + 8 + 32 + 32 + 32
  const bytes = preimage(size)
  bytes[0] = BLOCK_DOMAIN
  bytes[1] = HASH_VERSION
  writeU64BE(scratchView, 2, header.height)
  writeU64BE(scratchView, 10, header.timestamp)
  bytes.set(header.prevHash, 18)
  bytes.set(header.messageRoot, 50)
  bytes.set(header.proposer, 82)
  return b3(bytes.subarray(0, size))
}

/** RFC 6962 Merkle tree hash over BLAKE3 of `ids`, in order. */
export function merkleRoot (ids: readonly Uint8Array[]): Uint8Array {
  if (ids.length === 0) return b3(new Uint8Array(0))
  return subtreeRoot(ids, 0, ids.length)
}

function subtreeRoot (ids: readonly Uint8Array[], start: number, end: number): Uint8Array {
  const n = end - start
  if (n === 1) {
    const leaf = preimage(1 + HASH_BYTES)
    leaf[0] = MERKLE_LEAF
    leaf.set(ids[start], 1)
    return b3(leaf.subarray(0, 1 + HASH_BYTES))
  }
  const k = largestPowerOfTwoBelow(n)
  const left = subtreeRoot(ids, start, start + k)
  const right = subtreeRoot(ids, start + k, end)
  // Both halves first: they hash through the same scratch buffer.
  const node = preimage(1 + 2 * HASH_BYTES)
  node[0] = MERKLE_NODE
  node.set(left, 1)
  node.set(right, 1 + HASH_BYTES)
  return b3(node.subarray(0, 1 + 2 * HASH_BYTES))
}

/** The largest power of two strictly smaller than n (n >= 2). */
function largestPowerOfTwoBelow (n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

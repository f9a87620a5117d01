// SPEC 2 and 3's hashes with @noble/hashes' BLAKE3 (pure JavaScript: the same in Node and
// browsers): message ids, block hashes, and the RFC 6962 leaf and node hashes.
import { blake3 } from '@noble/hashes/blake3.js'
import type { HeaderJson, Message } from './types.js'
import { fromHex } from './hex.js'

const MESSAGE_DOMAIN = 0x4d
const BLOCK_DOMAIN = 0x42
const HASH_VERSION = 0x01
const MERKLE_LEAF = 0x00
const MERKLE_NODE = 0x01

function writeU64BE (view: DataView, offset: number, value: number): void {
  view.setUint32(offset, Math.floor(value / 0x1_0000_0000))
  view.setUint32(offset + 4, value >>> 0)
}

function isSafeUint (value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

/** message_id = B3(0x4d || 0x01 || sender || u64be(timestamp) || u64be(nonce) || u32be(len(content)) || content) */
export function messageId (message: Pick<Message, 'sender' | 'timestamp' | 'nonce' | 'content'>): Uint8Array {
  const { sender, timestamp, nonce, content } = message
  if (sender.length !== 32) throw new RangeError(`a sender key is 32 bytes, got ${sender.length}`)
  if (!isSafeUint(timestamp) || !isSafeUint(nonce)) throw new RangeError('timestamp and nonce are non-negative safe integers')
  const preimage = new Uint8Array(54 + content.length)
  const view = new DataView(preimage.buffer)
  preimage[0] = MESSAGE_DOMAIN
  preimage[1] = HASH_VERSION
  preimage.set(sender, 2)
  writeU64BE(view, 34, timestamp)
  writeU64BE(view, 42, nonce)
  view.setUint32(50, content.length)
  preimage.set(content, 54)
  return blake3(preimage)
}

/**
 * block_hash = B3(0x42 || 0x01 || u64be(height) || u64be(timestamp) || prevHash || messageRoot || proposer),
 * or undefined when the header's fields are not well formed.
 */
export function blockHash (header: Omit<HeaderJson, 'signature'>): Uint8Array | undefined {
  if (!isSafeUint(header.height) || !isSafeUint(header.timestamp)) return undefined
  const prevHash = fromHex(header.prevHash, 32)
  const messageRoot = fromHex(header.messageRoot, 32)
  const proposer = fromHex(header.proposer, 32)
  if (prevHash === undefined || messageRoot === undefined || proposer === undefined) return undefined
  const preimage = new Uint8Array(2 + 8 + 8 + 32 + 32 + 32)
  const view = new DataView(preimage.buffer)
  preimage[0] = BLOCK_DOMAIN
  preimage[1] = HASH_VERSION
  writeU64BE(view, 2, header.height)
  writeU64BE(view, 10, header.timestamp)
  preimage.set(prevHash, 18)
  preimage.set(messageRoot, 50)
  preimage.set(proposer, 82)
  return blake3(preimage)
}

/** MTH([id]) = B3(0x00 || id) */
export function merkleLeafHash (id: Uint8Array): Uint8Array {
  const leaf = new Uint8Array(33)
  leaf[0] = MERKLE_LEAF
  leaf.set(id, 1)
  return blake3(leaf)
}

/** B3(0x01 || left || right) */
export function merkleNodeHash (left: Uint8Array, right: Uint8Array): Uint8Array {
  const node = new Uint8Array(65)
  node[0] = MERKLE_NODE
  node.set(left, 1)
  node.set(right, 33)
  return blake3(node)
}

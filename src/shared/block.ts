// Building and signing messages and blocks (the producer's side of SPEC sections 2 and 3).
import { blockHash, merkleRoot, messageId } from './hash.js'
import { signDigest, type SigningKey } from './keys.js'
import { HASH_BYTES, PUBLIC_KEY_BYTES, SIGNATURE_BYTES } from './params.js'
import type { Block, BlockHeader, HashedBlock, Message } from './types.js'

export function signMessage (key: SigningKey, fields: { timestamp: number, nonce: number, content: Uint8Array }): Message {
  const unsigned = { sender: key.publicKey, timestamp: fields.timestamp, nonce: fields.nonce, content: fields.content }
  return { ...unsigned, signature: signDigest(key, messageId(unsigned)) }
}

export interface BlockTemplate {
  height: number
  timestamp: number
  prevHash: Uint8Array
  messages: Message[]
  /** The message ids in block order, when the caller already has them. */
  messageIds?: Uint8Array[]
}

export interface HeaderTemplate {
  height: number
  timestamp: number
  prevHash: Uint8Array
  /** The message ids in block order. */
  messageIds: readonly Uint8Array[]
}

/** Builds and signs a block header over these message ids; its hash comes back with it. */
export function signBlockHeader (key: SigningKey, template: HeaderTemplate): { header: BlockHeader, hash: Uint8Array } {
  const unsigned = {
    height: template.height,
    timestamp: template.timestamp,
    prevHash: template.prevHash,
    messageRoot: merkleRoot(template.messageIds),
    proposer: key.publicKey
  }
  const hash = blockHash(unsigned)
  return { header: { ...unsigned, signature: signDigest(key, hash) }, hash }
}

/** Builds and signs a block; its ids and hash come back with it so nothing is hashed twice. */
export function buildSignedBlock (key: SigningKey, template: BlockTemplate): HashedBlock {
  const messageIds = template.messageIds ?? template.messages.map(messageId)
  const { header, hash } = signBlockHeader(key, { height: template.height, timestamp: template.timestamp, prevHash: template.prevHash, messageIds })
  return { block: { header, messages: template.messages }, hash, messageIds }
}

/** The fixed genesis block (SPEC 3): identical on every node, never received from the network. */
export const GENESIS_BLOCK: Block = Object.freeze({
  header: Object.freeze({
    height: 0,
    timestamp: 0,
    prevHash: new Uint8Array(HASH_BYTES),
    messageRoot: merkleRoot([]),
    proposer: new Uint8Array(PUBLIC_KEY_BYTES),
    signature: new Uint8Array(SIGNATURE_BYTES)
  }),
  messages: []
})

export const GENESIS_HASH: Uint8Array = blockHash(GENESIS_BLOCK.header)

// The protocol's data types (SPEC sections 2 and 3). Binary fields are Uint8Arrays.

export interface Message {
  /** Ed25519 public key, 32 bytes. */
  sender: Uint8Array
  /** Milliseconds since the Unix epoch. */
  timestamp: number
  nonce: number
  content: Uint8Array
  /** Ed25519 signature over the message id, 64 bytes. */
  signature: Uint8Array
}

export interface BlockHeader {
  height: number
  timestamp: number
  prevHash: Uint8Array
  messageRoot: Uint8Array
  proposer: Uint8Array
  signature: Uint8Array
}

export interface Block {
  header: BlockHeader
  messages: Message[]
}

/** A block with the values every consumer needs, computed once. */
export interface HashedBlock {
  block: Block
  hash: Uint8Array
  messageIds: Uint8Array[]
}

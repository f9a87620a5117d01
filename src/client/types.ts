// The data kimura/client works with: the protocol's messages (SPEC 2) as bytes, and the HTTP
// API's JSON answers (SPEC 8) exactly as the node writes them, binary fields in lowercase hex.

/** A signed message (SPEC 2). Binary fields are bytes; the id is never part of it (see messageId). */
export interface Message {
  /** The sender's Ed25519 public key, 32 bytes. */
  sender: Uint8Array
  /** Milliseconds since the Unix epoch. */
  timestamp: number
  nonce: number
  content: Uint8Array
  /** Ed25519 signature over the message id, 64 bytes. */
  signature: Uint8Array
}

/** A message as JSON (SPEC 8): hex binaries. */
export interface MessageJson {
  sender: string
  timestamp: number
  nonce: number
  content: string
  signature: string
}

export interface HeaderJson {
  height: number
  timestamp: number
  prevHash: string
  messageRoot: string
  proposer: string
  signature: string
}

/** `GET /v1/blocks/{height}`: `messages` only when asked for. */
export interface BlockJson {
  hash: string
  header: HeaderJson
  messageIds: string[]
  messages?: MessageJson[]
}

/** `GET /v1/messages/{id}`: `height` is null while the message is pending. */
export interface MessageAnswer {
  message: MessageJson
  height: number | null
}

/** `GET /v1/messages/{id}/proof`: the RFC 6962 audit path of leaf `index` among `count`, lowest level first. */
export interface ProofJson {
  id: string
  height: number
  blockHash: string
  messageRoot: string
  index: number
  count: number
  path: string[]
}

/** `GET /v1/status`. */
export interface StatusJson {
  role: 'leader' | 'peer'
  peerId: string
  listen: string[]
  /** The leader's public key; on a peer, the one it was configured with. */
  leaderKey: string
  height: number
  hash: string
  peers: number
  pending: number
  /** The node's software version (nodes since 1.1). */
  version?: string
}

/** A message id: 64 hex characters (either case) or its 32 bytes. */
export type MessageIdInput = string | Uint8Array

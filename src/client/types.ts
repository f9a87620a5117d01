// The data kimura/client works with: the protocol's messages (SPEC 2) as bytes, and the HTTP
// API's JSON answers (SPEC 8) exactly as the node writes them, binary fields in lowercase hex.

import type { MessageJson, StatusJson as NodeStatusJson } from '../shared/api-json.js'

// The node's own definitions (types only: nothing of them reaches the browser bundle).
/** A signed message (SPEC 2). Binary fields are bytes; the id is never part of it (see messageId). */
export type { Message } from '../shared/types.js'
/** A message as JSON (SPEC 8): hex binaries. */
export type { MessageJson } from '../shared/api-json.js'

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
export type { ProofJson } from '../shared/api-json.js'

/** `GET /v1/status`, as the node writes it; nodes before SPEC 1.1 send no `version`. */
export type StatusJson = Omit<NodeStatusJson, 'version'> & { version?: string }

/** A message id: 64 hex characters (either case) or its 32 bytes. */
export type MessageIdInput = string | Uint8Array

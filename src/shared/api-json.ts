// JSON shapes of the HTTP API (SPEC 8) that the node writes and kimura/client reads: one
// definition for both. Types only, importing nothing, so the browser build can use them.

/** A message as JSON (SPEC 8): binary fields in lowercase hex. */
export interface MessageJson {
  sender: string
  timestamp: number
  nonce: number
  content: string
  signature: string
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
  /** The node's software version (package.json's). */
  version: string
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

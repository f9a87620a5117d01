// What the HTTP API needs from the node, so the server knows nothing of pools or networks.
import type { Message } from '../../shared/types.js'

export type SubmitOutcome =
  | { ok: true, ids: string[] }
  | { ok: false, status: 400 | 413 | 503, code: string, message: string }

export interface StatusJson {
  role: 'leader' | 'peer'
  peerId: string
  listen: string[]
  leaderKey: string
  height: number
  hash: string
  peers: number
  pending: number
}

export interface ApiBackend {
  /** Leader: durable in pending; peer: relayed to the leader over gossip. */
  submitMessages: (messages: Message[]) => Promise<SubmitOutcome>
  /** SPEC 8's block answer as JSON text, or null when no block is stored there. */
  renderBlock: (height: number | 'latest', withMessages: boolean) => Promise<string | null>
  getMessage: (id: Uint8Array) => { message: Message, height: number | null } | undefined
  status: () => StatusJson
  metrics: () => Promise<{ body: string, contentType: string }>
}

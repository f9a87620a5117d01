// What the HTTP API needs from the node, so the server knows nothing of pools or networks.
import type { SubmissionFormat } from '../../shared/submission-codec.js'
import type { SubmissionRefusalCode } from '../../shared/thread-contract.js'
import type { Message } from '../../shared/types.js'

/** Why a submission was refused; api-errors.ts maps each code to its status. */
export type SubmitErrorCode = SubmissionRefusalCode | 'OVERLOADED' | 'NO_PEERS'

export type SubmitOutcome =
  | { ok: true, ids: string[] }
  | { ok: false, code: SubmitErrorCode, message: string }

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
  /**
   * The raw body of POST /v1/messages, in `format`. Leader: durable in pending; peer: verified
   * and sent to at least one peer subscribed to the messages topic.
   */
  submitMessages: (body: Uint8Array, format: SubmissionFormat) => Promise<SubmitOutcome>
  /** SPEC 8's block answer as JSON text, or null when no block is stored there. */
  renderBlock: (height: number | 'latest', withMessages: boolean) => Promise<string | null>
  getMessage: (id: Uint8Array) => { message: Message, height: number | null } | undefined
  status: () => StatusJson
  metrics: () => Promise<{ body: string, contentType: string }>
}

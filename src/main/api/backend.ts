// What the HTTP API needs from the node, so the server knows nothing of pools or networks.
import type { ServerResponse } from 'node:http'
import type { ProofJson, StatusJson } from '../../shared/api-json.js'
import type { SubmissionFormat } from '../../shared/submission-codec.js'
import type { SubmissionRefusalCode } from '../../shared/thread-contract.js'
import type { Message } from '../../shared/types.js'

/** Why a submission was refused; api-errors.ts maps each code to its status. */
export type SubmitErrorCode = SubmissionRefusalCode | 'OVERLOADED' | 'NO_PEERS'

export type SubmitOutcome =
  | { ok: true, ids: string[] }
  | { ok: false, code: SubmitErrorCode, message: string }

export type { ProofJson, StatusJson }

export type ProofOutcome =
  | { ok: true, proof: ProofJson }
  | { ok: false, code: 'MESSAGE_NOT_FOUND' | 'MESSAGE_NOT_INCLUDED' }

/** GET /v1/events: the node's one event feed (event-feed.ts). */
export interface EventStreams {
  /** Whether the node holds as many streams as it may (SPEC 8: 1,000). */
  readonly full: boolean
  /** Serves a stream: stored blocks from `from` on, then live ones; without `from`, live only. */
  attach: (response: ServerResponse, from: number | undefined) => void
}

/** A file of the explorer page, ready to send. */
export interface StaticAsset {
  body: Uint8Array
  contentType: string
  etag: string
}

export interface ApiBackend {
  /**
   * The raw body of POST /v1/messages, in `format`. Leader: durable in pending; peer: verified
   * and sent to at least one peer subscribed to the messages topic.
   */
  submitMessages: (body: Uint8Array, format: SubmissionFormat) => Promise<SubmitOutcome>
  /** SPEC 8's block answer as JSON text, or null when no block is stored there. */
  renderBlock: (height: number | 'latest', withMessages: boolean) => Promise<string | null>
  /** Stored blocks from `from` up, at most `limit`, as SPEC 8's JSON without messages (texts, in order). */
  renderBlocks: (from: number, limit: number) => Promise<string[]>
  getMessage: (id: Uint8Array) => Promise<{ message: Message, height: number | null } | undefined>
  proof: (id: Uint8Array) => Promise<ProofOutcome>
  events: EventStreams
  /** The explorer's files by name (`index.html`, ...); undefined when it is not built or has no such file. */
  explorerAsset: (name: string) => StaticAsset | undefined
  status: () => StatusJson
  metrics: () => Promise<{ body: string, contentType: string }>
}

// The messages between the benchmark and its load generator (a child process, so that its CPU
// is its own and can be shown to have headroom). Sent over Node's IPC channel with the
// 'advanced' serialization, so typed arrays cross as they are.
import type { SubmissionPath } from './messages.js'

/** Sign batches [from, to) in worker threads and keep their bodies for `paths`. */
export interface SignCommand {
  type: 'sign'
  id: number
  from: number
  to: number
  paths: SubmissionPath[]
  /** Send the ids back (32 bytes a message, batch after batch). */
  returnIds: boolean
  /** Sign on this many worker threads (default: one per core). */
  threads?: number
}

/**
 * Submit batches [from, to) in order. `closed`: `clients` requests always in flight, a batch
 * refused with 503 is sent again; `open`: one batch every 500 / rate seconds whatever the
 * answers (a paced, open-loop load), up to `clients` connections.
 */
export interface RunCommand {
  type: 'run'
  id: number
  url: string
  path: SubmissionPath
  from: number
  to: number
  mode: 'closed' | 'open'
  clients: number
  durationMs: number
  /** Messages per second (open mode). */
  rate?: number
  /** Forget each batch's bodies once it is answered (long runs). */
  release: boolean
}

/** Forget batches [from, to). */
export interface DropCommand {
  type: 'drop'
  id: number
  from: number
  to: number
}

export type GeneratorCommand = SignCommand | RunCommand | DropCommand

export interface SignedReply {
  type: 'signed'
  id: number
  seconds: number
  ids?: Uint8Array
}

export interface RunReply {
  type: 'ran'
  id: number
  /** When the first request was sent and when the last answer came, epoch ms (nowMs). */
  startedAt: number
  endedAt: number
  /** Per batch of [from, to): when it was answered 202 (NaN: never), and its last status (0: not sent, -1: failed). */
  ackAt: Float64Array
  status: Int16Array
  /** 503 answers (each batch so refused was sent again in closed mode). */
  refused: number
  /** Requests that failed without an answer, and 202 answers whose ids were not the batch's. */
  failures: number
  badAnswers: number
  /** A few examples of what went wrong. */
  problems: string[]
  /** The batches ran out before the time was up. */
  ranOut: boolean
  /** The generator's CPU over the run, % of one core (the whole process), and its main thread's event-loop utilisation (0..1). */
  cpuPct: number
  elu: number
}

export interface DroppedReply {
  type: 'dropped'
  id: number
}

export interface FailedReply {
  type: 'failed'
  id: number
  error: string
}

export type GeneratorReply = SignedReply | RunReply | DroppedReply | FailedReply

// POST /v1/messages for a batch of any size: split into requests the node takes (at most
// maxBlockMessages messages and 8 MiB each), sent in order, each retried with backoff while
// the node answers 503 or cannot be reached. Retrying is safe: SPEC 8 admits a message that
// is already pending or included as a success, and never includes it twice.
import { KimuraApiError, KimuraClientError, KimuraTransportError } from './errors.js'
import { messageId } from './hash.js'
import { toHex } from './hex.js'
import { encodedMessageBytes, encodeMessageBatch } from './msgpack.js'
import { backoffDelay, sleep, type BackoffOptions } from './retry.js'
import type { Transport } from './transport.js'
import type { Message, MessageJson } from './types.js'

/** `msgpack`: SPEC 5 wire form, the fast path; `json`: the JSON form. */
export type SubmitFormat = 'msgpack' | 'json'

export interface RetryOptions extends BackoffOptions {
  /** Retries of one request before its error is thrown; 8 unless given. */
  attempts?: number
}

export interface SubmitOptions {
  format?: SubmitFormat
  /** The most messages in one request: SPEC 4's maxBlockMessages (10,000) unless given. */
  maxBatchMessages?: number
  /** The largest request body: SPEC 8's 8 MiB unless given. */
  maxBodyBytes?: number
  /** How a 503 (OVERLOADED, POOL_FULL, NO_PEERS) or an unreachable node is retried; false: not at all. */
  retry?: RetryOptions | false
  signal?: AbortSignal
}

export const DEFAULT_MAX_BATCH_MESSAGES = 10_000
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024
const DEFAULT_ATTEMPTS = 8

interface Chunk {
  messages: Message[]
  ids: string[]
}

/**
 * Submits the messages in order and returns their ids in order, once the node admitted them
 * all (the leader: durable in its pending pool). When a request fails for good, the error's
 * `acceptedIds` lists the messages admitted before it.
 */
export async function submitMessages (transport: Transport, messages: readonly Message[], options: SubmitOptions = {}): Promise<string[]> {
  const format = options.format ?? 'msgpack'
  const ids = messages.map(m => toHex(messageId(m)))
  const accepted: string[] = []
  try {
    for (const chunk of split(messages, ids, format, options)) await post(transport, chunk, format, options, accepted)
  } catch (err) {
    if (err instanceof KimuraClientError) err.acceptedIds = accepted.slice()
    throw err
  }
  return accepted
}

/** Consecutive runs of messages within the count and body limits. */
function split (messages: readonly Message[], ids: readonly string[], format: SubmitFormat, options: SubmitOptions): Chunk[] {
  const maxCount = options.maxBatchMessages ?? DEFAULT_MAX_BATCH_MESSAGES
  // The envelope: a MessagePack array32 header, or JSON's brackets.
  const maxBytes = (options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES) - 5
  if (!Number.isSafeInteger(maxCount) || maxCount < 1) throw new RangeError(`maxBatchMessages is a positive integer, got ${maxCount}`)
  const chunks: Chunk[] = []
  let current: Chunk = { messages: [], ids: [] }
  let bytes = 0
  for (let i = 0; i < messages.length; i++) {
    // JSON: the object and its comma.
    const size = format === 'msgpack' ? encodedMessageBytes(messages[i]) : JSON.stringify(messageToJson(messages[i])).length + 1
    if (current.messages.length > 0 && (current.messages.length === maxCount || bytes + size > maxBytes)) {
      chunks.push(current)
      current = { messages: [], ids: [] }
      bytes = 0
    }
    current.messages.push(messages[i])
    current.ids.push(ids[i])
    bytes += size
  }
  if (current.messages.length > 0) chunks.push(current)
  return chunks
}

async function post (transport: Transport, chunk: Chunk, format: SubmitFormat, options: SubmitOptions, accepted: string[]): Promise<void> {
  const retry = options.retry === false ? { attempts: 0 } : options.retry ?? {}
  const attempts = retry.attempts ?? DEFAULT_ATTEMPTS
  const body = format === 'msgpack' ? encodeMessageBatch(chunk.messages) : `[${chunk.messages.map(m => JSON.stringify(messageToJson(m))).join(',')}]`
  for (let attempt = 0; ; attempt++) {
    try {
      const answer = await transport.json<{ ids?: unknown }>({
        method: 'POST',
        path: '/v1/messages',
        headers: { 'content-type': format === 'msgpack' ? 'application/msgpack' : 'application/json' },
        body,
        signal: options.signal
      })
      checkIds(answer.ids, chunk.ids)
      accepted.push(...chunk.ids)
      return
    } catch (err) {
      // A node with a smaller maxBlockMessages than asked for: halve until it takes them.
      if (err instanceof KimuraApiError && err.status === 413 && chunk.messages.length > 1) {
        const half = Math.ceil(chunk.messages.length / 2)
        await post(transport, { messages: chunk.messages.slice(0, half), ids: chunk.ids.slice(0, half) }, format, options, accepted)
        await post(transport, { messages: chunk.messages.slice(half), ids: chunk.ids.slice(half) }, format, options, accepted)
        return
      }
      if (attempt >= attempts || !retryable(err)) throw err
      const wait = backoffDelay(attempt, retry)
      await sleep(err instanceof KimuraApiError && err.retryAfterMs !== undefined ? Math.max(wait, err.retryAfterMs) : wait, options.signal)
    }
  }
}

/** 503 is the node's "later" (OVERLOADED, POOL_FULL, NO_PEERS); an unreachable node may come back. */
function retryable (err: unknown): boolean {
  if (err instanceof KimuraApiError) return err.status === 503
  return err instanceof KimuraTransportError && err.code !== 'BAD_RESPONSE'
}

function checkIds (answered: unknown, expected: readonly string[]): void {
  const ok = Array.isArray(answered) && answered.length === expected.length &&
    answered.every((id, i) => typeof id === 'string' && id.toLowerCase() === expected[i])
  if (!ok) throw new KimuraTransportError('BAD_RESPONSE', 'POST /v1/messages: the answer\'s ids are not the ids of the messages sent')
}

function messageToJson (m: Message): MessageJson {
  return { sender: toHex(m.sender), timestamp: m.timestamp, nonce: m.nonce, content: toHex(m.content), signature: toHex(m.signature) }
}

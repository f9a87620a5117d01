// A small client of a node's HTTP API (SPEC section 8) for multi-node tests: signed message
// submission, blocks, messages, metrics, and whole-chain reads for comparing nodes.
import { randomBytes } from 'node:crypto'
import { signMessage } from '../../src/shared/block.js'
import { toHex } from '../../src/shared/bytes.js'
import { encodeMessage, joinEncodedMessages } from '../../src/shared/codec.js'
import { messageId } from '../../src/shared/hash.js'
import { messageToJson, type BlockJson, type MessageJson } from '../../src/shared/json.js'
import { signingKeyFromSeed, type SigningKey } from '../../src/shared/keys.js'
import type { Message } from '../../src/shared/types.js'
import { waitFor } from './wait.js'

/** Anything with an API base URL (`http://127.0.0.1:PORT`), such as a NodeProcess. */
export interface ApiTarget {
  readonly api: string
}

export interface ApiAnswer<T = unknown> {
  status: number
  /** The parsed JSON body, or undefined when the body is not JSON. */
  body: T
  text: string
  contentType: string
}

export interface ErrorJson {
  error: { code: string, message: string }
}

export interface SubmitJson {
  ids: string[]
}

export interface MessageAnswerJson {
  message: MessageJson
  height: number | null
}

export async function request<T = unknown> (node: ApiTarget, path: string, init: RequestInit = {}): Promise<ApiAnswer<T>> {
  const res = await fetch(`${node.api}${path}`, init)
  const text = await res.text()
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    body = undefined
  }
  return { status: res.status, body: body as T, text, contentType: res.headers.get('content-type') ?? '' }
}

/** POSTs a raw body (a string is sent as is) to /v1/messages. */
export async function postMessages<T = SubmitJson | ErrorJson> (node: ApiTarget, body: string | Uint8Array, contentType = 'application/json'): Promise<ApiAnswer<T>> {
  return await request<T>(node, '/v1/messages', { method: 'POST', headers: { 'content-type': contentType }, body })
}

/** The binary submission body (SPEC 8): a MessagePack array of wire Messages. */
export function msgpackBatch (messages: readonly Message[]): Uint8Array {
  return joinEncodedMessages(messages.map(encodeMessage))
}

/** Submits signed messages through the binary path. */
export async function submitMsgpack (node: ApiTarget, messages: readonly Message[], contentType = 'application/msgpack'): Promise<ApiAnswer<SubmitJson & Partial<ErrorJson>>> {
  return await postMessages(node, msgpackBatch(messages), contentType)
}

/** Submits signed messages as a JSON array (one object when `single`). */
export async function submitMessages (node: ApiTarget, messages: readonly Message[], single = false): Promise<ApiAnswer<SubmitJson & Partial<ErrorJson>>> {
  const json = single ? messageToJson(messages[0]) : messages.map(messageToJson)
  return await postMessages(node, JSON.stringify(json))
}

/** Submits and insists on 202 with the ids in request order; returns the ids. */
export async function submitOk (node: ApiTarget, messages: readonly Message[]): Promise<string[]> {
  const answer = await submitMessages(node, messages)
  if (answer.status !== 202) throw new Error(`submit answered ${answer.status}: ${answer.text}`)
  const expected = messages.map(idOf)
  if (JSON.stringify(answer.body.ids) !== JSON.stringify(expected)) throw new Error(`submit answered ids ${answer.text}, expected ${JSON.stringify(expected)}`)
  return answer.body.ids
}

/**
 * Submits to a peer, retrying while it answers 503 NO_PEERS (its links, or its peers'
 * subscriptions, are not up yet), as a client of a peer is told to.
 */
export async function submitToPeer (node: ApiTarget, messages: readonly Message[], timeoutMs = 15_000): Promise<string[]> {
  let ids: string[] | undefined
  let last = ''
  await waitFor(async () => {
    const answer = await submitMessages(node, messages)
    last = `${answer.status} ${answer.text}`
    if (answer.status === 202) { ids = answer.body.ids; return true }
    if (answer.status === 503 && answer.body.error?.code === 'NO_PEERS') return false
    throw new Error(`peer submit answered ${last}`)
  }, timeoutMs, 'a peer to accept a submission', 100).catch((err: unknown) => { throw new Error(`${String(err)}; last answer: ${last}`) })
  return ids ?? []
}

export async function getBlock (node: ApiTarget, height: number | 'latest', withMessages = false): Promise<BlockJson | undefined> {
  const answer = await request<BlockJson>(node, `/v1/blocks/${height}${withMessages ? '?messages=1' : ''}`)
  if (answer.status === 404) return undefined
  if (answer.status !== 200) throw new Error(`GET /v1/blocks/${height} answered ${answer.status}: ${answer.text}`)
  return answer.body
}

export async function getMessage (node: ApiTarget, id: string): Promise<MessageAnswerJson | undefined> {
  const answer = await request<MessageAnswerJson>(node, `/v1/messages/${id}`)
  if (answer.status === 404) return undefined
  if (answer.status !== 200) throw new Error(`GET /v1/messages/${id} answered ${answer.status}: ${answer.text}`)
  return answer.body
}

export async function getMetrics (node: ApiTarget): Promise<string> {
  const answer = await request(node, '/metrics')
  if (answer.status !== 200) throw new Error(`GET /metrics answered ${answer.status}`)
  return answer.text
}

/**
 * The value of a Prometheus series, summed over every series of that name whose labels include
 * `labels`; undefined when there is none.
 */
export function metricValue (text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let sum: number | undefined
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line)
    if (match === null || match[1] !== name) continue
    const found = Object.fromEntries([...(match[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map(m => [m[1], m[2]]))
    if (!Object.entries(labels).every(([k, v]) => found[k] === v)) continue
    sum = (sum ?? 0) + Number(match[4])
  }
  return sum
}

/** The names of every series (metric families and their _bucket/_sum/_count lines) in a scrape. */
export function metricNames (text: string): Set<string> {
  const names = new Set<string>()
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line)
    if (match !== null && !line.startsWith('#')) names.add(match[1])
  }
  return names
}

/** Blocks 1..upTo of a node, in order; throws when one is missing. */
export async function readChain (node: ApiTarget, upTo: number, from = 1): Promise<BlockJson[]> {
  const blocks: BlockJson[] = []
  // A few requests at a time: the node serves them from its pool.
  const WINDOW = 8
  for (let h = from; h <= upTo; h += WINDOW) {
    const heights = Array.from({ length: Math.min(WINDOW, upTo - h + 1) }, (_, i) => h + i)
    const got = await Promise.all(heights.map(async height => await getBlock(node, height)))
    got.forEach((block, i) => {
      if (block === undefined) throw new Error(`${node.api} has no block at height ${heights[i]}`)
      blocks.push(block)
    })
  }
  return blocks
}

/** Problems in a chain read from genesis: heights not consecutive, or a prevHash not the previous hash. */
export function chainLinkErrors (blocks: readonly BlockJson[]): string[] {
  const errors: string[] = []
  for (let i = 1; i < blocks.length; i++) {
    const prev = blocks[i - 1]
    const block = blocks[i]
    if (block.header.height !== prev.header.height + 1) errors.push(`height ${block.header.height} follows ${prev.header.height}`)
    if (block.header.prevHash !== prev.hash) errors.push(`block ${block.header.height}'s prevHash is not block ${prev.header.height}'s hash`)
    if (block.header.timestamp < prev.header.timestamp) errors.push(`block ${block.header.height}'s timestamp goes back`)
  }
  return errors
}

/** How many times each message id appears across the blocks. */
export function idCounts (blocks: readonly BlockJson[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const block of blocks) for (const id of block.messageIds) counts.set(id, (counts.get(id) ?? 0) + 1)
  return counts
}

export function idOf (message: Message): string {
  return toHex(messageId(message))
}

/** A message sender with a fresh random key, signing messages with distinct nonces. */
export class Sender {
  readonly key: SigningKey
  private nonce = 0

  constructor (key?: SigningKey) {
    this.key = key ?? signingKeyFromSeed(randomBytes(32))
  }

  /** `n` signed messages with `contentBytes` bytes of text each (a label and the nonce). */
  messages (n: number, contentBytes = 24, label = 'msg'): Message[] {
    const out: Message[] = []
    for (let i = 0; i < n; i++) {
      const nonce = this.nonce++
      const text = `${label}-${nonce}-`.padEnd(contentBytes, '.').slice(0, Math.max(contentBytes, 1))
      out.push(signMessage(this.key, { timestamp: Date.now(), nonce, content: new TextEncoder().encode(text) }))
    }
    return out
  }

  /** One signed message with exactly this content. */
  message (content: Uint8Array): Message {
    return signMessage(this.key, { timestamp: Date.now(), nonce: this.nonce++, content })
  }
}

/**
 * POSTs a body to `path` with Node's fetch, with a content-length or, `chunked`, streamed
 * without one; `{ error }` when fetch fails instead of answering (a reset, EPIPE).
 */
export async function postWithFetch (node: ApiTarget, path: string, body: Uint8Array, chunked: boolean): Promise<ApiAnswer | { error: string }> {
  const CHUNK = 64 * 1024
  const stream = new ReadableStream<Uint8Array>({
    start (controller) {
      for (let offset = 0; offset < body.byteLength; offset += CHUNK) controller.enqueue(body.subarray(offset, offset + CHUNK))
      controller.close()
    }
  })
  try {
    return await request(node, path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chunked ? stream : body,
      ...(chunked ? { duplex: 'half' } : {})
    })
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : ''
    return { error: `${String(err)}${cause}` }
  }
}

/** p-quantile (0..1) of the values, nearest rank. */
export function quantile (values: readonly number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]
}

// A small HTTP server that answers as SPEC 8 says a node does, over an in-memory chain built
// with src/shared's block signing, for the client's unit tests. It can be told to misbehave:
// refuse submissions (503 and others), drop event streams, skip or repeat heights.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { buildSignedBlock, GENESIS_BLOCK, GENESIS_HASH } from '../../../src/shared/block.js'
import { fromHex, toHex } from '../../../src/shared/bytes.js'
import { blockToJson, messageToJson } from '../../../src/shared/json.js'
import type { SigningKey } from '../../../src/shared/keys.js'
import { DEFAULT_PARAMS } from '../../../src/shared/params.js'
import { parseSubmission, submissionFormat } from '../../../src/shared/submission-codec.js'
import type { HashedBlock, Message } from '../../../src/shared/types.js'
import { verifyMessage } from '../../../src/shared/validation.js'
import { leaderKey as vectorLeaderKey } from '../../helpers/fixtures.js'
import { MerkleTree } from './audit-path.js'

const MAX_BODY_BYTES = 8 * 1024 * 1024

export interface Fault {
  status: number
  code: string
  /** Seconds, sent as Retry-After. */
  retryAfter?: number
}

export interface EventConnection {
  lastEventId: string | undefined
  from: string | undefined
  /** Heights written to this connection, in order. */
  sent: number[]
}

export interface FakeNodeOptions {
  key?: SigningKey
  /** Stored blocks replayed per event stream before it closes (SPEC 8: 1,000). */
  replayLimit?: number
  /** Keep-alive comment period on event streams; 0: none. */
  keepAliveMs?: number
  lineEnding?: '\n' | '\r\n' | '\r'
  /** A `retry:` field written first on each event stream. */
  retryField?: number
}

export class FakeNode {
  readonly key: SigningKey
  readonly chain: HashedBlock[] = [{ block: GENESIS_BLOCK, hash: GENESIS_HASH, messageIds: [] }]
  readonly pending = new Map<string, Message>()
  /** Every POST /v1/messages that reached the submission rules: its format and message count. */
  readonly batches: Array<{ format: string, count: number }> = []
  readonly eventConnections: EventConnection[] = []
  /** Answers for the next POSTs, one each, before any rule runs. */
  submitFaults: Fault[] = []
  /** Answers for the next GET /v1/events, one each. */
  eventFaults: Fault[] = []
  /** For each next event connection: destroy its socket after this many events (undefined: never). */
  dropAfter: Array<number | undefined> = []
  /** Heights left out of the next stream that would carry them (a server bug the client must not pass on). */
  skipOnce = new Set<number>()
  /** Resume Last-Event-ID from that height itself instead of the one above it (a server bug). */
  inclusiveResume = false
  /** SPEC 8's maxBlockMessages for this node. */
  maxBatch = DEFAULT_PARAMS.maxBlockMessages
  /** Stop writing event streams (silence, not even keep-alive comments). */
  silent = false
  replayLimit: number
  private readonly keepAliveMs: number
  private readonly lineEnding: string
  private readonly retryField: number | undefined
  private readonly live = new Set<{ res: ServerResponse, connection: EventConnection, dropAfter: number | undefined }>()
  private server: Server | undefined
  private port = 0
  private timestamp = 1_764_000_000_000

  constructor (options: FakeNodeOptions = {}) {
    this.key = options.key ?? vectorLeaderKey
    this.replayLimit = options.replayLimit ?? 1000
    this.keepAliveMs = options.keepAliveMs ?? 0
    this.lineEnding = options.lineEnding ?? '\n'
    this.retryField = options.retryField
  }

  get url (): string {
    if (this.port === 0) throw new Error('not started')
    return `http://127.0.0.1:${this.port}`
  }

  get tip (): HashedBlock {
    return this.chain[this.chain.length - 1]
  }

  /** Listens on a port of its own; after a stop(), on the same port again (the chain kept). */
  async start (): Promise<void> {
    const server = createServer((req, res) => { this.handle(req, res).catch(err => { res.destroy(err as Error) }) })
    await new Promise<void>(resolve => server.listen(this.port, '127.0.0.1', resolve))
    this.server = server
    this.port = (server.address() as AddressInfo).port
  }

  async stop (): Promise<void> {
    const server = this.server
    if (server === undefined) return
    for (const sub of this.live) sub.res.destroy()
    this.live.clear()
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => { resolve() }))
    this.server = undefined
  }

  /** Builds and stores the next block from `messages` (the pending ones by default), and streams it. */
  produce (messages: Message[] = [...this.pending.values()]): HashedBlock {
    this.timestamp += 1000
    const built = buildSignedBlock(this.key, { height: this.chain.length, timestamp: this.timestamp, prevHash: this.tip.hash, messages })
    for (const id of built.messageIds) this.pending.delete(toHex(id))
    this.chain.push(built)
    for (const sub of [...this.live]) this.writeBlock(sub, built)
    return built
  }

  /** Cuts every open event stream (the sockets destroyed, as a network failure would). */
  dropEventStreams (): void {
    for (const sub of this.live) sub.res.destroy()
    this.live.clear()
  }

  /** Where a message is: its block height and index, or pending, or unknown. */
  find (idHex: string): { height: number, index: number } | 'pending' | undefined {
    for (const entry of this.chain) {
      const index = entry.messageIds.findIndex(id => toHex(id) === idHex)
      if (index >= 0) return { height: entry.block.header.height, index }
    }
    return this.pending.has(idHex) ? 'pending' : undefined
  }

  private async handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x')
    const path = url.pathname
    if (req.method === 'POST' && path === '/v1/messages') return await this.submit(req, res)
    if (req.method !== 'GET') return error(res, 405, 'METHOD_NOT_ALLOWED', 'no')
    if (path === '/v1/status') {
      return json(res, 200, {
        role: 'leader', peerId: '12D3KooWFake', listen: [], leaderKey: toHex(this.key.publicKey), height: this.tip.block.header.height, hash: toHex(this.tip.hash), peers: 0, pending: this.pending.size
      })
    }
    if (path === '/v1/events') return this.events(req, res, url)
    if (path === '/v1/blocks') {
      const from = url.searchParams.get('from') ?? ''
      const limit = Number(url.searchParams.get('limit') ?? '20')
      if (!/^\d{1,16}$/.test(from) || !Number.isInteger(limit) || limit < 1 || limit > 100) return error(res, 400, 'BAD_REQUEST', 'from, limit')
      return json(res, 200, { blocks: this.chain.slice(Number(from), Number(from) + limit).map(b => blockToJson(b.block, false)) })
    }
    let m = /^\/v1\/blocks\/(latest|\d{1,16})$/.exec(path)
    if (m !== null) {
      const entry = m[1] === 'latest' ? this.tip : this.chain[Number(m[1])]
      if (entry === undefined) return error(res, 404, 'BLOCK_NOT_FOUND', 'no block')
      return json(res, 200, blockToJson(entry.block, url.searchParams.get('messages') === '1'))
    }
    m = /^\/v1\/messages\/([^/]*)(\/proof)?$/.exec(path)
    if (m !== null) {
      const id = fromHex(m[1], 32)
      if (id === undefined) return error(res, 400, 'INVALID_ID', 'a message id is 64 hex characters')
      const idHex = toHex(id)
      const found = this.find(idHex)
      if (found === undefined) return error(res, 404, 'MESSAGE_NOT_FOUND', 'unknown')
      if (m[2] === undefined) {
        if (found === 'pending') return json(res, 200, { message: messageToJson(this.pending.get(idHex) as Message), height: null })
        return json(res, 200, { message: messageToJson(this.chain[found.height].block.messages[found.index]), height: found.height })
      }
      if (found === 'pending') return error(res, 404, 'MESSAGE_NOT_INCLUDED', 'pending')
      const entry = this.chain[found.height]
      return json(res, 200, {
        id: idHex,
        height: found.height,
        blockHash: toHex(entry.hash),
        messageRoot: toHex(entry.block.header.messageRoot),
        index: found.index,
        count: entry.messageIds.length,
        path: new MerkleTree(entry.messageIds).path(found.index).map(toHex)
      })
    }
    return error(res, 404, 'NOT_FOUND', `no route ${path}`)
  }

  private async submit (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of req) {
      size += (chunk as Buffer).length
      chunks.push(chunk as Buffer)
    }
    const fault = this.submitFaults.shift()
    if (fault !== undefined) return error(res, fault.status, fault.code, 'injected', fault.retryAfter)
    if (size > MAX_BODY_BYTES) return error(res, 413, 'BODY_TOO_LARGE', 'over 8 MiB')
    const format = submissionFormat(req.headers['content-type'])
    const parsed = parseSubmission(new Uint8Array(Buffer.concat(chunks)), format, { maxMessageBytes: DEFAULT_PARAMS.maxMessageBytes, maxBlockMessages: this.maxBatch })
    if (!parsed.ok) return error(res, parsed.code === 'BATCH_TOO_LARGE' ? 413 : 400, parsed.code, parsed.reason)
    const ids: string[] = []
    for (const message of parsed.value.messages) {
      const verdict = verifyMessage(message, DEFAULT_PARAMS)
      if (!verdict.ok) return error(res, 400, verdict.code, verdict.reason)
      ids.push(toHex(verdict.value))
    }
    this.batches.push({ format, count: ids.length })
    parsed.value.messages.forEach((message, i) => { if (this.find(ids[i]) === undefined) this.pending.set(ids[i], message) })
    json(res, 202, { ids })
  }

  private events (req: IncomingMessage, res: ServerResponse, url: URL): void {
    const fault = this.eventFaults.shift()
    if (fault !== undefined) return error(res, fault.status, fault.code, 'injected', fault.retryAfter)
    const lastEventId = req.headers['last-event-id'] as string | undefined
    const from = url.searchParams.get('from') ?? undefined
    const given = lastEventId ?? from
    if (given !== undefined && !/^\d{1,16}$/.test(given)) return error(res, 400, 'BAD_REQUEST', 'malformed Last-Event-ID or from')
    let next = lastEventId !== undefined ? Number(lastEventId) + (this.inclusiveResume ? 0 : 1) : from !== undefined ? Number(from) : this.chain.length
    const connection: EventConnection = { lastEventId, from, sent: [] }
    this.eventConnections.push(connection)
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
    res.flushHeaders()
    if (this.retryField !== undefined) res.write(`retry: ${this.retryField}${this.lineEnding}${this.lineEnding}`)
    const sub = { res, connection, dropAfter: this.dropAfter.shift() }
    let replayed = 0
    while (next < this.chain.length && !res.destroyed) {
      if (replayed === this.replayLimit) {
        res.end()
        return
      }
      this.writeBlock(sub, this.chain[next++])
      replayed++
    }
    if (res.destroyed) return
    this.live.add(sub)
    const keepAlive = this.keepAliveMs > 0 ? setInterval(() => { if (!this.silent) res.write(`: keep-alive${this.lineEnding}${this.lineEnding}`) }, this.keepAliveMs) : undefined
    res.on('close', () => {
      clearInterval(keepAlive)
      this.live.delete(sub)
    })
  }

  private writeBlock (sub: { res: ServerResponse, connection: EventConnection, dropAfter: number | undefined }, entry: HashedBlock): void {
    const height = entry.block.header.height
    if (this.silent || sub.res.destroyed) return
    if (this.skipOnce.delete(height)) return
    if (sub.dropAfter !== undefined && sub.connection.sent.length >= sub.dropAfter) {
      sub.res.destroy()
      this.live.delete(sub)
      return
    }
    const eol = this.lineEnding
    sub.res.write(`id: ${height}${eol}event: block${eol}data: ${JSON.stringify(blockToJson(entry.block, false))}${eol}${eol}`)
    sub.connection.sent.push(height)
  }
}

function json (res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

function error (res: ServerResponse, status: number, code: string, message: string, retryAfter?: number): void {
  res.writeHead(status, { 'content-type': 'application/json', ...(retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) }) })
  res.end(JSON.stringify({ error: { code, message } }))
}

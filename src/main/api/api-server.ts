// The HTTP API (SPEC section 8) on node:http. Every input is checked before use, every error
// answers {"error": {code, message}}, and no request can crash the node.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fromHex } from '../../shared/bytes.js'
import { errorCode, errorMessage } from '../../shared/errors.js'
import type { NetworkParams } from '../../shared/params.js'
import type { Logger } from '../logger.js'
import type { ApiAddress } from '../config.js'
import { messageFromJson, messageToJson } from '../../shared/json.js'
import type { ApiBackend } from './backend.js'
import type { Message } from '../../shared/types.js'

/** SPEC 8: a request body holds at most 8 MiB. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024

class HttpError extends Error {
  constructor (readonly status: number, readonly code: string, message: string) { super(message) }
}

export interface ApiServerModules {
  backend: ApiBackend
  logger: Logger
  onRequest?: (route: string, status: number) => void
}

export class ApiServer {
  private server: Server | undefined

  constructor (private readonly address: ApiAddress, private readonly params: NetworkParams, private readonly modules: ApiServerModules) {}

  /** The bound address (port 0 resolves to the one the OS chose). */
  get boundAddress (): ApiAddress | undefined {
    const info = this.server?.address() as AddressInfo | null | undefined
    return info == null ? undefined : { host: info.address, port: info.port }
  }

  async start (): Promise<void> {
    if (this.server !== undefined) return
    const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 }, (req, res) => { void this.handle(req, res) })
    server.on('clientError', (_err, socket) => { if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n') })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.address.port, this.address.host, () => { server.off('error', reject); resolve() })
    })
    this.server = server
  }

  async stop (): Promise<void> {
    const server = this.server
    if (server === undefined) return
    this.server = undefined
    const closed = new Promise<void>(resolve => server.close(() => { resolve() }))
    server.closeIdleConnections()
    // Requests in flight get a moment to finish; then their connections go too.
    const force = setTimeout(() => server.closeAllConnections(), 2000)
    await closed
    clearTimeout(force)
  }

  private async handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = parseRequestUrl(req.url)
    const parts = url.pathname.split('/').filter(p => p !== '')
    const route = routeLabel(parts)
    try {
      const answer = await this.route(req, url, parts)
      if (answer.raw !== undefined) this.send(res, answer.status, answer.raw.body, answer.raw.contentType)
      else this.send(res, answer.status, JSON.stringify(answer.body), 'application/json')
      this.modules.onRequest?.(route, answer.status)
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500
      const code = err instanceof HttpError ? err.code : 'INTERNAL'
      const message = err instanceof HttpError ? err.message : 'internal error'
      if (!(err instanceof HttpError)) this.modules.logger.error({ err: errorMessage(err), code: errorCode(err), path: url.pathname }, 'API request failed')
      if (!res.headersSent) this.send(res, status, JSON.stringify({ error: { code, message } }), 'application/json', status === 413)
      else res.destroy()
      if (status === 413) discardBody(req)
      this.modules.onRequest?.(route, status)
    }
  }

  private send (res: ServerResponse, status: number, body: string, contentType: string, close = false): void {
    res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), ...(close ? { connection: 'close' } : {}) })
    res.end(body)
  }

  private async route (req: IncomingMessage, url: URL, parts: string[]): Promise<{ status: number, body?: unknown, raw?: { body: string, contentType: string } }> {
    const { backend } = this.modules
    const method = req.method ?? 'GET'
    const expect = (m: string): void => { if (method !== m) throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed here; use ${m}`) }
    if (url.pathname === '/metrics') {
      expect('GET')
      const metrics = await backend.metrics()
      return { status: 200, raw: { body: metrics.body, contentType: metrics.contentType } }
    }
    if (parts[0] !== 'v1') throw new HttpError(404, 'NOT_FOUND', `no route ${url.pathname}`)
    if (parts[1] === 'messages' && parts.length === 2) {
      expect('POST')
      return await this.submit(req)
    }
    if (parts[1] === 'messages' && parts.length === 3) {
      expect('GET')
      const id = fromHex(parts[2], 32)
      if (id === undefined) throw new HttpError(400, 'INVALID_ID', 'a message id is 64 hex characters')
      const found = backend.getMessage(id)
      if (found === undefined) throw new HttpError(404, 'MESSAGE_NOT_FOUND', `no message ${parts[2]}`)
      return { status: 200, body: { message: messageToJson(found.message), height: found.height } }
    }
    if (parts[1] === 'blocks' && parts.length === 3) {
      expect('GET')
      const height = parts[2] === 'latest' ? 'latest' : parseHeight(parts[2])
      const withMessages = ['1', 'true'].includes(url.searchParams.get('messages') ?? '')
      const json = await backend.renderBlock(height, withMessages)
      if (json === null) throw new HttpError(404, 'BLOCK_NOT_FOUND', `no block at height ${height}`)
      return { status: 200, raw: { body: json, contentType: 'application/json' } }
    }
    if (parts[1] === 'status' && parts.length === 2) {
      expect('GET')
      return { status: 200, body: backend.status() }
    }
    throw new HttpError(404, 'NOT_FOUND', `no route ${url.pathname}`)
  }

  private async submit (req: IncomingMessage): Promise<{ status: number, body: unknown }> {
    const text = await readBody(req)
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      throw new HttpError(400, 'MALFORMED_JSON', 'the body is not valid JSON')
    }
    const items = Array.isArray(value) ? value : [value]
    if (items.length === 0) throw new HttpError(400, 'EMPTY_BATCH', 'the batch holds no message')
    if (items.length > this.params.maxBlockMessages) throw new HttpError(413, 'BATCH_TOO_LARGE', `a batch holds at most ${this.params.maxBlockMessages} messages`)
    const messages: Message[] = []
    for (let i = 0; i < items.length; i++) {
      const parsed = messageFromJson(items[i], this.params, Array.isArray(value) ? `[${i}]` : 'message')
      if (!parsed.ok) throw new HttpError(400, parsed.code, parsed.reason)
      messages.push(parsed.value)
    }
    const outcome = await this.modules.backend.submitMessages(messages)
    if (!outcome.ok) throw new HttpError(outcome.status, outcome.code, outcome.message)
    return { status: 202, body: { ids: outcome.ids } }
  }
}

/** The request's URL; a target that does not parse becomes one no route matches (404). */
function parseRequestUrl (target: string | undefined): URL {
  try {
    return new URL(target ?? '/', 'http://localhost')
  } catch {
    return new URL('http://localhost/invalid-request-target')
  }
}

/** A bounded metric label for a path: its route pattern, never the raw path. */
function routeLabel (parts: string[]): string {
  if (parts.length === 1 && parts[0] === 'metrics') return 'metrics'
  if (parts[0] !== 'v1') return 'unknown'
  if (parts[1] === 'messages') return parts.length === 2 ? 'messages' : 'messages/:id'
  if (parts[1] === 'blocks' && parts.length === 3) return parts[2] === 'latest' ? 'blocks/latest' : 'blocks/:height'
  if (parts[1] === 'status' && parts.length === 2) return 'status'
  return 'unknown'
}

function parseHeight (text: string): number {
  const height = Number(text)
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(height)) throw new HttpError(400, 'INVALID_HEIGHT', 'a height is a non-negative safe integer')
  return height
}

/**
 * Reads and drops the rest of a refused body, so that a client still sending it gets to read
 * the 413 instead of a reset (EPIPE); bounded in bytes and time, then the socket is closed.
 */
const DISCARD_MAX_BYTES = 2 * MAX_BODY_BYTES
const DISCARD_MAX_MS = 5_000

function discardBody (req: IncomingMessage): void {
  let discarded = 0
  const close = (): void => { req.socket.destroy() }
  const timer = setTimeout(close, DISCARD_MAX_MS)
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.byteLength
    if (discarded > DISCARD_MAX_BYTES) close()
  })
  req.once('end', () => { clearTimeout(timer) })
  req.once('close', () => { clearTimeout(timer) })
  req.resume()
}

async function readBody (req: IncomingMessage): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > MAX_BODY_BYTES) throw new HttpError(413, 'BODY_TOO_LARGE', `a request body holds at most ${MAX_BODY_BYTES} bytes`)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    const buf = chunk as Buffer
    size += buf.byteLength
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'BODY_TOO_LARGE', `a request body holds at most ${MAX_BODY_BYTES} bytes`)
    chunks.push(buf)
  }
  return Buffer.concat(chunks).toString('utf8')
}

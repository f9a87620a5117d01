// A raw reader of GET /v1/events for tests: node:http, so a test sees the status, the headers,
// every record and comment, and whether the server ended the stream; it can also stop reading.
import { request, type IncomingMessage } from 'node:http'
import { waitFor } from '../../helpers/wait.js'

export interface SseRecord {
  id?: string
  event?: string
  data: string
}

export class SseConnection {
  readonly records: SseRecord[] = []
  comments = 0
  /** The server ended the response (a clean close after its last record). */
  ended = false
  /** The connection went away, cleanly or not. */
  closed = false
  /** The body of a non-200 answer. */
  body = ''
  private rest = ''

  private constructor (readonly response: IncomingMessage) {
    response.setEncoding('utf8')
    response.on('data', (chunk: string) => { this.onData(chunk) })
    response.on('end', () => { this.ended = true })
    response.on('close', () => { this.closed = true })
    response.on('error', () => { this.closed = true })
    // A paused response emits nothing when its connection goes: the socket does.
    response.socket.once('close', () => { this.closed = true })
  }

  get status (): number {
    return this.response.statusCode ?? 0
  }

  /** Opens `GET {api}{path}` and resolves with the answer's head. */
  static async open (api: string, path = '/v1/events', headers: Record<string, string> = {}): Promise<SseConnection> {
    return await new Promise((resolve, reject) => {
      const req = request(`${api}${path}`, { headers: { accept: 'text/event-stream', ...headers }, agent: false }, res => { resolve(new SseConnection(res)) })
      req.on('error', reject)
      req.end()
    })
  }

  /** The block records' heights, from their `id` lines. */
  heights (): number[] {
    return this.records.filter(r => r.event === 'block').map(r => Number(r.id))
  }

  async waitFor (condition: (c: SseConnection) => boolean, timeoutMs = 20_000, what = 'the event stream'): Promise<void> {
    await waitFor(() => condition(this), timeoutMs, what, 10)
  }

  /** Stops reading: the socket's buffers fill and the server's unsent bytes grow. */
  pause (): void {
    this.response.pause()
  }

  close (): void {
    this.response.destroy()
  }

  private onData (chunk: string): void {
    if (this.status !== 200) {
      this.body += chunk
      return
    }
    const parts = (this.rest + chunk).split('\n\n')
    this.rest = parts.pop() ?? ''
    for (const part of parts) {
      const record: SseRecord = { data: '' }
      let isComment = true
      for (const line of part.split('\n')) {
        if (line.startsWith(':')) continue
        isComment = false
        const colon = line.indexOf(':')
        const field = colon < 0 ? line : line.slice(0, colon)
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
        if (field === 'id') record.id = value
        else if (field === 'event') record.event = value
        else if (field === 'data') record.data = record.data === '' ? value : `${record.data}\n${value}`
      }
      if (isComment) this.comments++
      else if (record.event !== undefined) this.records.push(record)
    }
  }
}

// A server-sent events parser (the WHATWG HTML "event stream" rules), fed text as it arrives:
// lines end in CRLF, LF or CR, possibly split across chunks; `:` starts a comment; a blank line
// dispatches the event built so far; `id` persists from one event to the next; `retry` sets the
// reconnection delay. Written by hand so that it runs over any fetch body, in Node and browsers.

export interface SseEvent {
  /** The `event` field, `message` when there was none. */
  type: string
  /** The `data` lines, joined with LF. */
  data: string
  /** The last `id` seen on the stream, this event's or an earlier one's. */
  lastEventId: string
}

/** The largest event (or line) the parser holds: more is a stream that is not SPEC 8's. */
const DEFAULT_MAX_EVENT_CHARS = 64 * 1024 * 1024

export class SseParser {
  lastEventId = ''
  /** The server's `retry` field, in ms, once it sent one. */
  retryMs: number | undefined
  private rest = ''
  private skipLineFeed = false
  private data = ''
  private hasData = false
  private type = ''

  constructor (private readonly maxEventChars = DEFAULT_MAX_EVENT_CHARS) {}

  /** Reads a chunk of the stream's text; returns the events it completed, in order. */
  push (chunk: string): SseEvent[] {
    const events: SseEvent[] = []
    let start = 0
    if (this.skipLineFeed && chunk.length > 0) {
      this.skipLineFeed = false
      if (chunk.charCodeAt(0) === 10) start = 1
    }
    for (let i = start; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i)
      if (c !== 10 && c !== 13) continue
      const line = this.rest + chunk.slice(start, i)
      this.rest = ''
      this.line(line, events)
      if (c === 13) {
        if (i + 1 === chunk.length) this.skipLineFeed = true
        else if (chunk.charCodeAt(i + 1) === 10) i++
      }
      start = i + 1
    }
    this.rest += chunk.slice(start)
    if (this.rest.length + this.data.length > this.maxEventChars) throw new RangeError(`an event stream event over ${this.maxEventChars} characters`)
    return events
  }

  private line (line: string, events: SseEvent[]): void {
    if (line === '') {
      this.dispatch(events)
      return
    }
    if (line.charCodeAt(0) === 58) return // ':' a comment
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    let value = colon < 0 ? '' : line.slice(colon + 1)
    if (value.charCodeAt(0) === 32) value = value.slice(1)
    switch (field) {
      case 'event':
        this.type = value
        break
      case 'data':
        this.data = this.hasData ? `${this.data}\n${value}` : value
        this.hasData = true
        break
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value
        break
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value)
        break
      default:
        // Unknown fields are ignored.
    }
  }

  private dispatch (events: SseEvent[]): void {
    if (this.hasData) events.push({ type: this.type === '' ? 'message' : this.type, data: this.data, lastEventId: this.lastEventId })
    this.data = ''
    this.hasData = false
    this.type = ''
  }
}

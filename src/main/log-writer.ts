// Where log lines go: stdout, written asynchronously from a bounded buffer. A destination that
// fails (a full disk, a closed pipe) or stalls (a pipe nobody reads) must cost the node nothing:
// lines beyond the buffer are dropped, a write error drops lines for a while before writing is
// tried again, and nothing here throws or blocks (pino's own async destination retries a
// failing synchronous flush forever at exit, which would hang a node on a full disk).
import { write, writeSync } from 'node:fs'

export interface LogWriterOptions {
  fd: number
  /** Bytes buffered at most while the destination is slow; lines beyond it are dropped. */
  maxBufferedBytes: number
  /** After a write error, lines are dropped for this long, then writing is tried again. */
  retryMs: number
  /** Told once per outage, when writing starts failing. */
  onFailure?: (err: NodeJS.ErrnoException) => void
}

export class LogWriter {
  private queue: string[] = []
  private queuedBytes = 0
  private writing = false
  private pausedUntil = 0
  private failing = false
  /** Lines dropped since the destination last took a write. */
  dropped = 0

  constructor (private readonly options: LogWriterOptions) {}

  /** Queues a line (or any text) for stdout; never throws, never blocks. */
  write (text: string): void {
    const bytes = Buffer.byteLength(text)
    if (Date.now() < this.pausedUntil || this.queuedBytes + bytes > this.options.maxBufferedBytes) {
      this.dropped++
      return
    }
    this.queue.push(text)
    this.queuedBytes += bytes
    if (!this.writing) this.writeNext()
  }

  /** Writes what is queued, once and synchronously, best effort: for the moment before exit. */
  flushSync (): void {
    if (this.failing || this.queue.length === 0) return
    try {
      writeSync(this.options.fd, this.queue.join(''))
    } catch {
      // Lost: exiting must not wait on a destination that cannot take them.
    }
    this.queue = []
    this.queuedBytes = 0
  }

  private writeNext (): void {
    const chunk = this.queue.join('')
    this.queue = []
    this.queuedBytes = 0
    this.writing = true
    const data = Buffer.from(chunk)
    write(this.options.fd, data, 0, data.byteLength, null, (err, written) => {
      this.writing = false
      if (err !== null) {
        if (!this.failing) this.options.onFailure?.(err)
        this.failing = true
        this.pausedUntil = Date.now() + this.options.retryMs
        this.dropped++
        return
      }
      this.failing = false
      // A short write leaves the rest at the front of the queue.
      if (written < data.byteLength) {
        const rest = data.subarray(written).toString()
        this.queue.unshift(rest)
        this.queuedBytes += Buffer.byteLength(rest)
      }
      if (this.queue.length > 0) this.writeNext()
    })
  }
}

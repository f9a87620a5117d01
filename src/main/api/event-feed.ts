// GET /v1/events (SPEC 8): one feed for every stream. The importer and the producer tell it
// when the stored tip moves; it renders each new block's JSON once (only when a stream is
// live), encodes its record once, and writes those same bytes to every live stream. A stream
// that asks for stored blocks first replays them from the store (rendered blocks are cached by
// the pool), paced by its own socket, and joins the live set in the same tick as it reaches
// the last block broadcast: no block is missed or repeated at the handover. Live writes never
// wait for a client: one with more than 8 MiB unsent is dropped, so no subscriber can slow
// the node.
import type { ServerResponse } from 'node:http'
import { errorCode, errorMessage } from '../../shared/errors.js'
import type { Logger } from '../logger.js'

export interface EventFeedSource {
  /** The stored tip's height, as this thread sees it. */
  tipHeight: () => number
  /** A stored block as SPEC 8's JSON without messages; null when none is stored there. */
  renderBlock: (height: number) => Promise<string | null>
}

export interface EventFeedOptions {
  /** SPEC 8: a node holds at most 1,000 streams. */
  maxStreams: number
  /** SPEC 8: a client with more than 8 MiB unsent is dropped. */
  maxUnsentBytes: number
  /** SPEC 8: at most 1,000 stored blocks replayed per connection. */
  maxReplay: number
  /** A comment is written this often (SPEC 8: at least every 15 s). */
  keepAliveMs: number
  /** A replay waits for the socket to drain above this many unsent bytes. */
  replayHighWater: number
  /** Replays rendering at once (each stream renders one block at a time). */
  replayConcurrency: number
}

export const DEFAULT_EVENT_FEED_OPTIONS: EventFeedOptions = {
  maxStreams: 1000,
  maxUnsentBytes: 8 * 1024 * 1024,
  maxReplay: 1000,
  keepAliveMs: 10_000,
  replayHighWater: 1024 * 1024,
  replayConcurrency: 2
}

/** The wait before a render refused by a busy pool (OVERLOADED) is tried again. */
const RENDER_RETRY_MS = 50
const KEEP_ALIVE = ': keep-alive\n\n'
/** The reconnection delay a browser's EventSource (and kimura/client) waits after a drop. */
const PREAMBLE = 'retry: 1000\n\n'

/** An event-stream record of one block (SPEC 8): `id`, `event` and one `data` line (JSON has no newline). */
export function blockRecord (height: number, json: string): string {
  return `id: ${height}\nevent: block\ndata: ${json}\n\n`
}

export class EventFeed {
  private readonly streams = new Set<EventStream>()
  private readonly live = new Set<EventStream>()
  /** The last height handed to the live set (every stream joins live above it). */
  private published = -1
  private pumping = false
  private pumpAgain = false
  private running = false
  private keepAlive: NodeJS.Timeout | undefined
  private replaySlots: number
  private readonly replayWaiters: Array<() => void> = []

  constructor (
    private readonly source: EventFeedSource,
    private readonly logger: Logger,
    readonly options: EventFeedOptions = DEFAULT_EVENT_FEED_OPTIONS
  ) {
    this.replaySlots = options.replayConcurrency
  }

  get streamCount (): number {
    return this.streams.size
  }

  /** Whether another stream would exceed maxStreams (the API answers 503). */
  get full (): boolean {
    return this.streams.size >= this.options.maxStreams
  }

  start (): void {
    if (this.running) return
    this.running = true
    this.published = this.source.tipHeight()
    this.keepAlive = setInterval(() => {
      for (const stream of this.streams) stream.write(KEEP_ALIVE)
    }, this.options.keepAliveMs)
    this.keepAlive.unref()
  }

  /** Ends every stream and takes no more. */
  stop (): void {
    if (!this.running) return
    this.running = false
    clearInterval(this.keepAlive)
    for (const stream of [...this.streams]) stream.end()
  }

  /** The stored tip moved (a block was imported or produced): broadcast what is new. */
  notify (): void {
    if (!this.running) return
    if (this.pumping) {
      this.pumpAgain = true
      return
    }
    this.pumping = true
    void this.pump().finally(() => { this.pumping = false })
  }

  /**
   * Serves a stream on `response`: stored blocks from `from` on, then live ones; without `from`,
   * live blocks only. The caller checked `full` first, in the same tick.
   */
  attach (response: ServerResponse, from: number | undefined): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no'
    })
    const stream = new EventStream(response, this.options.maxUnsentBytes, reason => { this.remove(stream, reason) })
    if (!this.running) {
      stream.end()
      return
    }
    this.streams.add(stream)
    stream.write(PREAMBLE)
    if (from === undefined || from > this.published) this.goLive(stream, from ?? this.published + 1)
    else void this.replay(stream, from)
  }

  private remove (stream: EventStream, reason: 'closed' | 'dropped'): void {
    this.streams.delete(stream)
    this.live.delete(stream)
    if (reason === 'dropped') this.logger.info({ unsent: stream.unsent, streams: this.streams.size }, 'an event stream fell more than 8 MiB behind: dropped')
  }

  private goLive (stream: EventStream, next: number): void {
    stream.next = next
    this.live.add(stream)
  }

  private async pump (): Promise<void> {
    do {
      this.pumpAgain = false
      while (this.running && this.published < this.source.tipHeight()) {
        const height = this.published + 1
        if (this.live.size === 0) {
          // Nobody to write to: nothing is rendered. A stream that joins later replays it.
          this.published = height
          continue
        }
        let json: string | null
        try {
          json = await this.render(height)
        } catch (err) {
          this.logger.warn({ height, code: errorCode(err), err: errorMessage(err) }, 'the event feed could not render a block; it retries on the next block')
          return
        }
        if (json === null) return
        // Encoded once: every stream is handed the same bytes (no per-stream copy or encoding).
        const record = Buffer.from(blockRecord(height, json))
        this.published = height
        for (const stream of this.live) {
          if (height < stream.next) continue
          stream.next = height + 1
          stream.write(record)
        }
      }
    } while (this.pumpAgain && this.running)
  }

  /** Stored blocks from `from` up to the last one broadcast, then live; closes after maxReplay. */
  private async replay (stream: EventStream, from: number): Promise<void> {
    let next = from
    let replayed = 0
    try {
      for (;;) {
        if (stream.closed) return
        // In the tick that finds the replay caught up with the feed, the stream joins live.
        if (next > this.published) {
          this.goLive(stream, next)
          return
        }
        if (replayed >= this.options.maxReplay) {
          stream.end()
          return
        }
        const json = await this.replayRender(next)
        if (stream.closed) return
        if (json === null) {
          stream.end()
          return
        }
        stream.write(blockRecord(next, json))
        next++
        replayed++
        if (stream.unsent > this.options.replayHighWater) await stream.drained()
      }
    } catch (err) {
      this.logger.warn({ height: next, code: errorCode(err), err: errorMessage(err) }, 'an event stream\'s replay failed: closed')
      stream.end()
    }
  }

  /** A replay's render, at most replayConcurrency at once across streams. */
  private async replayRender (height: number): Promise<string | null> {
    while (this.replaySlots === 0) await new Promise<void>(resolve => { this.replayWaiters.push(resolve) })
    this.replaySlots--
    try {
      return await this.render(height)
    } finally {
      this.replaySlots++
      this.replayWaiters.shift()?.()
    }
  }

  /** A render, tried again while the pool refuses reads (its bounded queue is full). */
  private async render (height: number): Promise<string | null> {
    for (;;) {
      try {
        return await this.source.renderBlock(height)
      } catch (err) {
        if (errorCode(err) !== 'ERR_POOL_OVERLOADED' || !this.running) throw err
        await new Promise(resolve => setTimeout(resolve, RENDER_RETRY_MS))
      }
    }
  }
}

/** One client's stream: writes that never wait, and the drop past maxUnsent. */
class EventStream {
  /** The next height this stream is owed (live streams). */
  next = 0
  closed = false

  constructor (
    private readonly response: ServerResponse,
    private readonly maxUnsent: number,
    private readonly onGone: (reason: 'closed' | 'dropped') => void
  ) {
    response.once('close', () => { this.gone('closed') })
  }

  /** Bytes written and not yet handed to the kernel. */
  get unsent (): number {
    return this.response.writableLength
  }

  write (text: string | Buffer): void {
    if (this.closed) return
    this.response.write(text)
    if (this.response.writableLength > this.maxUnsent) {
      this.gone('dropped')
      this.response.destroy()
    }
  }

  end (): void {
    if (this.closed) return
    this.gone('closed')
    this.response.end()
  }

  /** Resolves when the socket has taken what was written, or the stream is gone. */
  async drained (): Promise<void> {
    if (this.closed) return
    await new Promise<void>(resolve => {
      const done = (): void => {
        this.response.off('drain', done)
        this.response.off('close', done)
        resolve()
      }
      this.response.once('drain', done)
      this.response.once('close', done)
    })
  }

  private gone (reason: 'closed' | 'dropped'): void {
    if (this.closed) return
    this.closed = true
    this.onGone(reason)
  }
}

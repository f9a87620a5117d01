// GET /v1/events as an async iterator of blocks, in height order, each exactly once. The
// stream is resumed with Last-Event-ID after a drop, a silence past the keep-alive interval,
// or the server's close after a replay (SPEC 8: at most 1,000 stored blocks per connection).
// A replayed block already delivered is skipped; a gap (a height missing) is never passed on:
// the iterator reconnects from the last height it delivered instead.
import { KimuraApiError, KimuraClientError, KimuraTransportError } from './errors.js'
import { backoffDelay, sleep, type BackoffOptions } from './retry.js'
import { SseParser, type SseEvent } from './sse.js'
import { aborted, type Transport } from './transport.js'
import type { BlockJson } from './types.js'

export interface EventsOptions {
  /** The first height to deliver (stored blocks replay from it); without it, blocks stored from now on. */
  from?: number
  /** Ends the iteration (the iterator throws the signal's reason). Breaking out of `for await` also ends it. */
  signal?: AbortSignal
  /** A stream silent this long, without even a keep-alive comment, is reconnected; 45 s (three of SPEC 8's 15 s) unless given. */
  idleTimeoutMs?: number
  /** The waits between failed connections; the first is the server's `retry` field, when it sends one, unless initialDelayMs is given. */
  reconnect?: BackoffOptions
  /** Told of each reconnection before its wait. */
  onReconnect?: (info: ReconnectInfo) => void
}

export interface ReconnectInfo {
  /** Why: the server ended the stream (as after a replay), or an error broke it. */
  reason: 'end' | 'error'
  /** What broke it: the node unreachable or the stream cut (UNREACHABLE), silent too long (REQUEST_TIMEOUT), a height skipped (BAD_RESPONSE), an error answer (KimuraApiError). */
  error?: KimuraClientError
  /** Failed connections in a row (0 after a clean end). */
  failures: number
  delayMs: number
  /** The last height delivered, from which the stream resumes. */
  lastHeight: number | undefined
}

const DEFAULT_IDLE_TIMEOUT_MS = 45_000

/** The stream skipped a height: reconnect from the last one delivered. */
class StreamGap extends Error {}
/** No bytes for idleTimeoutMs. */
class StreamIdle extends Error {}

export async function * followEvents (transport: Transport, options: EventsOptions = {}): AsyncGenerator<BlockJson, void, undefined> {
  const { from, signal } = options
  if (from !== undefined && (!Number.isSafeInteger(from) || from < 0)) throw new RangeError(`\`from\` is a non-negative safe integer, got ${from}`)
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS
  /** The next height to deliver; undefined until the first block of a live-only stream. */
  let expected = from
  let lastHeight: number | undefined
  let failures = 0
  let serverRetryMs: number | undefined
  for (;;) {
    if (signal?.aborted === true) throw signal.reason
    const controller = new AbortController()
    const onAbort = (): void => { controller.abort(signal?.reason) }
    signal?.addEventListener('abort', onAbort, { once: true })
    let idle: ReturnType<typeof setTimeout> | undefined
    const armIdle = (): void => {
      clearTimeout(idle)
      idle = setTimeout(() => { controller.abort(new StreamIdle(`no data for ${idleTimeoutMs} ms`)) }, idleTimeoutMs)
    }
    let delivered = 0
    let broken: KimuraClientError | undefined
    try {
      const response = await transport.open({
        path: '/v1/events',
        headers: { accept: 'text/event-stream', ...(lastHeight === undefined ? {} : { 'last-event-id': String(lastHeight) }) },
        query: lastHeight === undefined && from !== undefined ? { from } : undefined,
        signal: controller.signal
      })
      const contentType = response.headers.get('content-type') ?? ''
      if (!/^text\/event-stream\b/i.test(contentType) || response.body === null) {
        throw new KimuraTransportError('BAD_RESPONSE', `GET /v1/events answered ${JSON.stringify(contentType)}, not an event stream`)
      }
      const reader = (response.body as ReadableStream<Uint8Array>).getReader()
      const decoder = new TextDecoder()
      const parser = new SseParser()
      armIdle()
      try {
        for (;;) {
          const { done, value } = await reader.read()
          if (done) break
          armIdle()
          let events: SseEvent[]
          try {
            events = parser.push(decoder.decode(value, { stream: true }))
          } catch (err) {
            throw new KimuraTransportError('BAD_RESPONSE', `GET /v1/events: ${err instanceof Error ? err.message : String(err)}`)
          }
          serverRetryMs = parser.retryMs ?? serverRetryMs
          for (const event of events) {
            if (event.type !== 'block') continue
            const block = blockOf(event)
            const height = block.header.height
            if (expected !== undefined && height < expected) continue
            if (expected !== undefined && height > expected) throw new StreamGap(`the stream went from ${expected - 1} to ${height}`)
            // The consumer's time with the block is not the stream's silence.
            clearTimeout(idle)
            yield block
            armIdle()
            delivered++
            lastHeight = height
            expected = height + 1
            failures = 0
          }
        }
      } finally {
        reader.cancel().catch(() => {})
      }
    } catch (err) {
      if (aborted(signal)) throw signal?.reason
      if (isFatal(err)) throw err
      broken = describe(err, controller.signal.reason)
    } finally {
      clearTimeout(idle)
      controller.abort()
      signal?.removeEventListener('abort', onAbort)
    }
    // A clean end after blocks is the replay limit: resume at once. Anything else waits.
    const clean = broken === undefined && delivered > 0
    const delayMs = clean ? 0 : backoffDelay(failures++, { ...(serverRetryMs === undefined ? {} : { initialDelayMs: serverRetryMs }), ...options.reconnect })
    options.onReconnect?.({ reason: broken === undefined ? 'end' : 'error', ...(broken === undefined ? {} : { error: broken }), failures, delayMs, lastHeight })
    if (delayMs > 0) await sleep(delayMs, signal)
  }
}

/** A `block` event's block, checked against its `id` (the height). */
function blockOf (event: SseEvent): BlockJson {
  let block: unknown
  try {
    block = JSON.parse(event.data)
  } catch {
    throw new KimuraTransportError('BAD_RESPONSE', `GET /v1/events: a block event whose data is not JSON (id ${event.lastEventId})`)
  }
  const height = (block as { header?: { height?: unknown } } | null)?.header?.height
  if (typeof height !== 'number' || !Number.isSafeInteger(height) || height < 0 || event.lastEventId !== String(height)) {
    throw new KimuraTransportError('BAD_RESPONSE', `GET /v1/events: a block event with id ${JSON.stringify(event.lastEventId)} and header height ${String(height)}`)
  }
  return block as BlockJson
}

/** What broke a stream that is to be resumed, as a KimuraClientError. */
function describe (err: unknown, abortReason: unknown): KimuraClientError {
  if (abortReason instanceof StreamIdle) return new KimuraTransportError('REQUEST_TIMEOUT', `GET /v1/events: ${abortReason.message}`)
  if (err instanceof StreamGap) return new KimuraTransportError('BAD_RESPONSE', `GET /v1/events: ${err.message}`)
  if (err instanceof KimuraClientError) return err
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : err instanceof Error ? err.message : String(err)
  return new KimuraTransportError('UNREACHABLE', `GET /v1/events: the stream broke off: ${cause}`, { cause: err })
}

/** Errors that reconnecting cannot mend: a refused request (4xx) or a stream that is not SPEC 8's. */
function isFatal (err: unknown): boolean {
  if (err instanceof KimuraApiError) return err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429
  return err instanceof KimuraTransportError && err.code === 'BAD_RESPONSE'
}

// The block sync protocol /kimura/sync/1.0.0 (SPEC 5): a request for a range of heights,
// answered with the stored blocks in order.
//
// Wire format, one request per stream:
//   request  (client → server): exactly 12 bytes, u64be(from) || u32be(count), then the client
//            closes its writable end; the server answers once it has seen that close. from >= 1
//            (genesis is never sent) and a safe integer, count >= 1. Any other length or value
//            is malformed, and a request not complete within REQUEST_READ_TIMEOUT_MS is
//            abandoned: the server resets the stream.
//   response (server → client): zero or more frames, each an unsigned-varint length followed by
//            that many bytes of one encoded Block (SPEC 5), for heights from, from+1, ... in
//            order; then the server closes the stream. No frame means the server has no block
//            at `from` (the client is caught up). The server sends at most
//            MAX_RESPONSE_BLOCKS blocks and stops adding blocks once MAX_RESPONSE_BYTES is
//            reached (but always sends at least one block if it has one).
import { decode, encode, type LengthDecoderFunction } from 'it-length-prefixed'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { Logger } from 'pino'
import { writeU64BE } from '../../shared/bytes.js'
import { KimuraError, errorMessage } from '../../shared/errors.js'
import type { SyncLimits, SyncTicket } from './sync-limits.js'
import type { BlockSource } from './types.js'

export const SYNC_PROTOCOL = '/kimura/sync/1.0.0'
export const SYNC_REQUEST_BYTES = 12

/**
 * Blocks per response: 512 small blocks import in well under a second, so one response
 * never holds the server's stream (or the client's importer) for long.
 */
export const MAX_RESPONSE_BLOCKS = 512
/**
 * Bytes per response: two maximum-size blocks (4 MiB each). It bounds what the server holds
 * in memory per stream (x syncMaxStreamsPerPeer x peers) and what a client buffers per request.
 */
export const MAX_RESPONSE_BYTES = 8 * 1024 * 1024
/** How long the server waits for the request (12 bytes and the close) before it resets the stream. */
export const REQUEST_READ_TIMEOUT_MS = 5_000
/** libp2p-level cap on sync streams per connection; SyncLimits applies the tighter per-peer one. */
export const MAX_SYNC_STREAMS_PER_CONNECTION = 8
/**
 * A response whose reader has not taken the bytes already sent within this long is cut off
 * (the stream is reset): a reader that never reads cannot pin the blocks it asked for.
 */
export const SYNC_WRITE_STALL_MS = 5_000
/** The longest one response may take from request to close, however steadily it is read. */
export const SYNC_RESPONSE_DEADLINE_MS = 60_000

export interface SyncRequest {
  from: number
  count: number
}

export function encodeSyncRequest (request: SyncRequest): Uint8Array {
  const bytes = new Uint8Array(SYNC_REQUEST_BYTES)
  const view = new DataView(bytes.buffer)
  writeU64BE(view, 0, request.from)
  view.setUint32(8, request.count)
  return bytes
}

/** Parses a request frame; undefined when it is malformed. */
export function decodeSyncRequest (bytes: Uint8Array): SyncRequest | undefined {
  if (bytes.byteLength !== SYNC_REQUEST_BYTES) return undefined
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const high = view.getUint32(0)
  // Above 2^53 - 1 is invalid input (SPEC notation): the high word holds at most 21 bits.
  if (high > 0x1f_ffff) return undefined
  const from = high * 0x1_0000_0000 + view.getUint32(4)
  const count = view.getUint32(8)
  if (from < 1 || count < 1) return undefined
  return { from, count }
}

export interface SyncServerInit {
  source: BlockSource
  limits: SyncLimits
  logger: Logger
}

/** The stream handler that serves sync requests from the local store. */
export function createSyncHandler (init: SyncServerInit): (stream: Stream, connection: Connection) => Promise<void> {
  const { source, limits, logger } = init
  return async (stream, connection) => {
    const peer = connection.remotePeer.toString()
    const ticket = limits.admit(peer, Date.now(), () => { stream.abort(new KimuraError('ERR_SYNC', 'sync response evicted: its reader stopped reading')) })
    if (typeof ticket === 'string') {
      logger.debug({ peer, reason: ticket }, 'sync request refused')
      stream.abort(new KimuraError('ERR_SYNC', `sync request refused: ${ticket}`))
      return
    }
    try {
      const request = await readRequest(stream)
      if (request === undefined) {
        logger.debug({ peer }, 'malformed sync request')
        stream.abort(new KimuraError('ERR_SYNC', 'malformed sync request'))
        return
      }
      const sent = await sendBlocks(stream, source, request, ticket)
      logger.debug({ peer, from: request.from, count: request.count, sent }, 'sync request served')
    } catch (err) {
      logger.debug({ peer, err: errorMessage(err) }, 'sync stream failed')
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    } finally {
      ticket.release()
    }
  }
}

/** Reads the request up to the client's close; undefined for fewer or more bytes, or a bad value. */
async function readRequest (stream: Stream): Promise<SyncRequest | undefined> {
  const buffer = new Uint8Array(SYNC_REQUEST_BYTES)
  let length = 0
  const timer = setTimeout(() => { stream.abort(new KimuraError('ERR_SYNC', 'timed out waiting for the sync request')) }, REQUEST_READ_TIMEOUT_MS)
  try {
    // Waiting for the close makes "exactly 12 bytes" independent of how the bytes were chunked.
    for await (const chunk of stream) {
      const bytes = chunk.subarray()
      if (length + bytes.byteLength > SYNC_REQUEST_BYTES) return undefined
      buffer.set(bytes, length)
      length += bytes.byteLength
    }
  } finally {
    clearTimeout(timer)
  }
  if (stream.status !== 'open') throw new KimuraError('ERR_SYNC', `sync stream ${stream.status} before the request arrived`)
  return decodeSyncRequest(buffer.subarray(0, length))
}

/**
 * Sends the blocks one at a time, each read from the store only once the server's byte budget
 * has room for it, so what a response holds in memory is bounded across all streams. A reader
 * that stops reading is cut off after SYNC_WRITE_STALL_MS; when the budget is full the
 * response ends early (the client asks again from where it stopped), or, before any block,
 * the stream is reset.
 */
async function sendBlocks (stream: Stream, source: BlockSource, request: SyncRequest, ticket: SyncTicket): Promise<number> {
  const limit = Math.min(request.count, MAX_RESPONSE_BLOCKS)
  const deadline = AbortSignal.timeout(SYNC_RESPONSE_DEADLINE_MS)
  let bytes = 0
  let sent = 0
  while (sent < limit) {
    const [block] = source.getEncodedBlocks(request.from + sent, 1, MAX_RESPONSE_BYTES)
    if (block === undefined) break
    if (sent > 0 && bytes + block.byteLength > MAX_RESPONSE_BYTES) break
    if (!ticket.reserve(block.byteLength)) {
      if (sent === 0) throw new KimuraError('ERR_SYNC', 'sync server busy: response budget full')
      break
    }
    bytes += block.byteLength
    sent++
    if (!stream.send(encode.single(block))) {
      ticket.stalledSince = Date.now()
      await stream.onDrain({ signal: AbortSignal.any([deadline, AbortSignal.timeout(SYNC_WRITE_STALL_MS)]) })
      ticket.stalledSince = undefined
    }
  }
  await stream.close({ signal: deadline })
  return sent
}

/**
 * A frame length as the unsigned-varint spec writes it: minimal, at most 8 bytes. The library's
 * default reader takes 0x81 0x00 for 1 and then reads the 0x00 as data; this one refuses it.
 * A RangeError means "incomplete", as it-length-prefixed expects.
 */
const minimalVarint: LengthDecoderFunction = Object.assign((data: Parameters<LengthDecoderFunction>[0]): number => {
  let value = 0
  for (let i = 0; i < Math.min(data.byteLength, 8); i++) {
    const byte = data.get(i)
    value += (byte & 0x7f) * 2 ** (7 * i)
    if (byte < 0x80) {
      if (byte === 0 && i > 0) throw new KimuraError('ERR_SYNC', 'sync response: a frame length that is not minimally encoded')
      minimalVarint.bytes = i + 1
      return value
    }
  }
  throw new RangeError('incomplete frame length')
}, { bytes: 0 })

/** What requestBlocks needs from libp2p. */
export interface SyncDialer {
  dialProtocol (peer: PeerId, protocols: string, options?: { signal?: AbortSignal }): Promise<Stream>
}

export interface SyncRequestOptions {
  /** Largest frame accepted: the network's maxBlockBytes. */
  maxBlockBytes: number
  timeoutMs: number
  signal?: AbortSignal
}

/**
 * Asks `peer` for blocks from..from+count-1 and resolves with the encoded blocks, in order
 * (fewer than asked when the peer has fewer; none when it has no block at `from`). Rejects
 * with ERR_SYNC on a dial failure, a reset, a timeout, an oversized frame or extra blocks.
 */
export async function requestBlocks (dialer: SyncDialer, peer: PeerId, request: SyncRequest, options: SyncRequestOptions): Promise<Uint8Array[]> {
  const signals = [AbortSignal.timeout(options.timeoutMs)]
  if (options.signal !== undefined) signals.push(options.signal)
  const signal = AbortSignal.any(signals)
  const limit = Math.min(request.count, MAX_RESPONSE_BLOCKS)
  let stream: Stream | undefined
  const onAbort = (): void => { stream?.abort(new KimuraError('ERR_SYNC', 'sync request aborted or timed out')) }
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    stream = await dialer.dialProtocol(peer, SYNC_PROTOCOL, { signal })
    stream.send(encodeSyncRequest(request))
    await stream.close({ signal })
    const blocks: Uint8Array[] = []
    // An honest server stays within both caps (one block may exceed the byte cap on its own).
    const maxTotalBytes = Math.max(MAX_RESPONSE_BYTES, options.maxBlockBytes)
    let totalBytes = 0
    // it-length-prefixed ends quietly when the stream closes after a length and before its data.
    let inFrame = false
    const frames = decode(stream, {
      maxDataLength: options.maxBlockBytes,
      lengthDecoder: minimalVarint,
      onLength: () => { inFrame = true },
      onData: () => { inFrame = false }
    })
    for await (const frame of frames) {
      if (blocks.length >= limit) throw new KimuraError('ERR_SYNC', `peer sent more than the ${limit} blocks asked for`)
      totalBytes += frame.byteLength
      if (totalBytes > maxTotalBytes) throw new KimuraError('ERR_SYNC', `peer sent more than ${maxTotalBytes} bytes in one response`)
      blocks.push(frame.subarray())
    }
    // A reset ends the iteration without an error on some paths: only a clean close is a full answer.
    if (signal.aborted) throw new KimuraError('ERR_SYNC', 'sync request aborted or timed out')
    if (stream.status === 'aborted' || stream.status === 'reset') throw new KimuraError('ERR_SYNC', `sync stream ${stream.status}`)
    if (inFrame) throw new KimuraError('ERR_SYNC', 'sync response ends inside a frame')
    return blocks
  } catch (err) {
    stream?.abort(err instanceof Error ? err : new Error(String(err)))
    if (err instanceof KimuraError) throw err
    const reason = signal.aborted ? 'sync request aborted or timed out' : `sync request failed: ${errorMessage(err)}`
    throw new KimuraError('ERR_SYNC', reason, { peer: peer.toString(), from: request.from }, { cause: err })
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

// The client side of /kimura/sync/1.0.0: requestBlocks reading varint-framed blocks from a
// stream (a fake one here, fed arbitrary chunks), then each frame through decodeBlock, as the
// sync client composes them. The frames it returns must be exactly what a strict reading of
// the stream finds; anything else must be an ERR_SYNC rejection, never another error.
import fc from 'fast-check'
import type { PeerId, Stream } from '@libp2p/interface'
import { MAX_RESPONSE_BLOCKS, MAX_RESPONSE_BYTES, requestBlocks } from '../../../src/main/network/sync-protocol.js'
import { decodeBlock, encodeBlock } from '../../../src/shared/codec.js'
import { KimuraError } from '../../../src/shared/errors.js'
import { Finding, agreesWithReference, check, sameValue, show } from '../lib/checks.js'
import { byteMutated, concat } from '../lib/mutations.js'
import { referenceBlock } from '../lib/reference.js'
import { signedBlockEncoding } from '../lib/signed.js'
import { defineTarget } from '../lib/target.js'
import { blockValue, bytes } from '../lib/values.js'
import { checkAcceptedBlock } from './block.js'

export interface ResponseInput {
  /** The response stream as the client receives it, chunk by chunk. */
  chunks: Uint8Array[]
  /** Blocks asked for. */
  count: number
  maxBlockBytes: number
  /** Frames of BIG_FRAME zero bytes sent first (built here, so saved inputs stay small). */
  bigFrames: number
  /** How the stream ends: closed, reset, or its reader failing with an Error or a non-Error. */
  end: 'close' | 'reset' | 'error' | 'string'
  /** Whether the dial succeeds, or fails with an Error or with a thrown non-Error. */
  dial: 'ok' | 'error' | 'string'
  /** The caller aborts before chunk `abortAt` is delivered (chunks.length: after the last). */
  abortAt?: number
}

const BIG_FRAME = 4 * 1024 * 1024 + 1
const bigPayload = new Uint8Array(BIG_FRAME)

/** Unsigned LEB128 of n, padded with `pad` redundant continuation bytes (a non-minimal encoding). */
function varint (n: number, pad = 0): Uint8Array {
  const out: number[] = []
  let v = n
  do {
    out.push(v % 128)
    v = Math.floor(v / 128)
  } while (v > 0)
  for (let i = 0; i < pad; i++) out.push(0)
  for (let i = 0; i < out.length - 1; i++) out[i] |= 0x80
  return Uint8Array.from(out)
}

interface FrameSpec { payload: Uint8Array, lengthDelta: number, pad: number }

const payload = fc.oneof(
  { arbitrary: signedBlockEncoding, weight: 3 },
  { arbitrary: blockValue.map(encodeBlock), weight: 2 },
  { arbitrary: byteMutated(signedBlockEncoding), weight: 2 },
  { arbitrary: bytes(0, 40), weight: 1 }
)

const frameSpec: fc.Arbitrary<FrameSpec> = fc.record({
  payload,
  lengthDelta: fc.oneof({ arbitrary: fc.constant(0), weight: 12 }, { arbitrary: fc.integer({ min: -3, max: 3 }), weight: 1 }),
  pad: fc.oneof({ arbitrary: fc.constant(0), weight: 15 }, { arbitrary: fc.integer({ min: 1, max: 9 }), weight: 1 })
})

function frameBytes (f: FrameSpec): Uint8Array {
  return concat([varint(Math.max(0, f.payload.byteLength + f.lengthDelta), f.pad), f.payload])
}

/** Cuts `stream` at the given points (each modulo its length). */
function chunked (stream: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map(c => c % (stream.byteLength + 1)))].sort((a, b) => a - b)
  const out: Uint8Array[] = []
  let start = 0
  for (const p of points) { if (p > start) out.push(stream.subarray(start, p)); start = Math.max(start, p) }
  if (start < stream.byteLength) out.push(stream.subarray(start))
  return out
}

const streamBytes = fc.oneof(
  { arbitrary: fc.tuple(fc.array(frameSpec, { maxLength: 5 }), fc.option(bytes(1, 6), { nil: undefined, freq: 6 }))
    .map(([frames, tail]) => concat([...frames.map(frameBytes), ...(tail === undefined ? [] : [tail])])), weight: 6 },
  { arbitrary: byteMutated(fc.array(frameSpec, { minLength: 1, maxLength: 3 }).map(frames => concat(frames.map(frameBytes)))), weight: 3 },
  { arbitrary: bytes(0, 30), weight: 1 }
)

export const responseInput: fc.Arbitrary<ResponseInput> = fc.record({
  chunks: fc.tuple(streamBytes, fc.array(fc.nat(), { maxLength: 4 })).map(([s, cuts]) => chunked(s, cuts)),
  count: fc.oneof(fc.constantFrom(1, 2, 3, 512, 513), fc.integer({ min: 1, max: 0xffff_ffff })),
  maxBlockBytes: fc.oneof({ arbitrary: fc.constant(4 * 1024 * 1024), weight: 4 }, { arbitrary: fc.constantFrom(0, 1, 100, 400, BIG_FRAME, BIG_FRAME, 8 * 1024 * 1024 + 2), weight: 1 }),
  bigFrames: fc.oneof({ arbitrary: fc.constant(0), weight: 200 }, { arbitrary: fc.integer({ min: 1, max: 3 }), weight: 1 }),
  end: fc.oneof({ arbitrary: fc.constant('close' as const), weight: 20 }, { arbitrary: fc.constantFrom('reset' as const, 'error' as const, 'string' as const), weight: 1 }),
  dial: fc.oneof({ arbitrary: fc.constant('ok' as const), weight: 30 }, { arbitrary: fc.constantFrom('error' as const, 'string' as const), weight: 1 }),
  abortAt: fc.option(fc.nat({ max: 6 }), { nil: undefined, freq: 20 })
}, { requiredKeys: ['chunks', 'count', 'maxBlockBytes', 'bigFrames', 'end', 'dial'] })

/**
 * The strict reading of a response: minimal unsigned varints (multiformats unsigned-varint),
 * each frame within maxBlockBytes, at most the blocks asked for (and 512), within the byte
 * cap, ending on a frame boundary with a clean close.
 */
function referenceFrames (stream: Uint8Array, input: ResponseInput): { ok: true, frames: Uint8Array[] } | { ok: false, reason: string } {
  const limit = Math.min(input.count, MAX_RESPONSE_BLOCKS)
  const maxTotal = Math.max(MAX_RESPONSE_BYTES, input.maxBlockBytes)
  const frames: Uint8Array[] = []
  let total = 0
  let pos = 0
  while (pos < stream.byteLength) {
    let length = 0
    let scale = 1
    let i = 0
    for (; ; i++) {
      if (pos + i >= stream.byteLength) return { ok: false, reason: 'truncated length' }
      if (i >= 8) return { ok: false, reason: 'length longer than 8 bytes' }
      const b = stream[pos + i]
      length += (b & 0x7f) * scale
      scale *= 128
      if ((b & 0x80) === 0) {
        if (b === 0 && i > 0) return { ok: false, reason: 'non-minimal varint' }
        break
      }
    }
    pos += i + 1
    if (length > input.maxBlockBytes) return { ok: false, reason: 'frame over maxBlockBytes' }
    if (pos + length > stream.byteLength) return { ok: false, reason: 'truncated frame' }
    if (frames.length >= limit) return { ok: false, reason: 'more frames than asked for' }
    total += length
    if (total > maxTotal) return { ok: false, reason: 'over the byte cap' }
    frames.push(stream.subarray(pos, pos + length))
    pos += length
  }
  if (input.end !== 'close') return { ok: false, reason: `stream ended by ${input.end}` }
  return { ok: true, frames }
}

/** What the caller's side allows: a dial that worked, and no abort before the stream ended. */
function callerRefusal (input: ResponseInput, chunkCount: number): string | undefined {
  if (input.dial !== 'ok') return 'the dial failed'
  if (input.abortAt !== undefined && input.abortAt <= chunkCount) return 'the caller aborted'
  return undefined
}

/**
 * Just what requestBlocks uses of a libp2p Stream: send, close, abort, status, iteration.
 * `beforeChunk(i)` runs before chunk i is delivered (i = chunks.length: after the last).
 */
class FakeStream {
  status: 'open' | 'closed' | 'aborted' | 'reset' = 'open'
  constructor (private readonly chunks: Uint8Array[], private readonly end: ResponseInput['end'], private readonly beforeChunk: (i: number) => void) {}
  send (): boolean { return true }
  async close (): Promise<void> {}
  abort (): void { this.status = 'aborted' }
  async * [Symbol.asyncIterator] (): AsyncGenerator<Uint8Array> {
    for (let i = 0; i <= this.chunks.length; i++) {
      this.beforeChunk(i)
      if (this.status !== 'open' || i === this.chunks.length) break
      // Chunks arrive asynchronously, as from a socket.
      yield await Promise.resolve(this.chunks[i])
    }
    if (this.status !== 'open') return
    if (this.end === 'error') throw new Error('stream read failed')
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- what a careless library may throw
    if (this.end === 'string') throw 'stream broke'
    this.status = this.end === 'reset' ? 'reset' : 'closed'
  }
}

const peer = { toString: () => 'fuzz-peer' } as unknown as PeerId

export const target = defineTarget({
  name: 'sync-response',
  about: 'requestBlocks framing (sync client) on a fake stream, then decodeBlock per frame: agreement with a strict reading',
  files: ['src/main/network/sync-protocol.ts', 'src/shared/codec.ts'],
  input: responseInput,
  runs: 60_000,
  quickRuns: 600,
  async: true,
  async check (input) {
    const big = Array.from({ length: input.bigFrames }, () => [varint(BIG_FRAME), bigPayload]).flat()
    const chunks = [...big, ...input.chunks]
    const caller = new AbortController()
    const stream = new FakeStream(chunks, input.end, i => { if (i === input.abortAt) caller.abort() })
    const dialer = {
      dialProtocol: async (): Promise<Stream> => {
        await Promise.resolve()
        if (input.dial === 'error') throw new Error('connection refused')
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- what a careless library may throw
        if (input.dial === 'string') throw 'dial failed'
        return stream as unknown as Stream
      }
    }
    let frames: Uint8Array[] | undefined
    let error: unknown
    try {
      frames = await requestBlocks(dialer, peer, { from: 1, count: input.count }, { maxBlockBytes: input.maxBlockBytes, timeoutMs: 10_000, signal: caller.signal })
    } catch (err) {
      error = err
    }
    if (error !== undefined && !(error instanceof KimuraError && error.code === 'ERR_SYNC')) {
      throw new Finding(`requestBlocks rejected with something other than ERR_SYNC: ${error instanceof Error ? `${error.name}: ${error.message}` : show(error)}`)
    }
    const refusal = callerRefusal(input, chunks.length)
    const expected = refusal === undefined ? referenceFrames(concat(chunks), input) : { ok: false as const, reason: refusal }
    if (frames !== undefined && !expected.ok) throw new Finding(`requestBlocks returned ${frames.length} frames from a response a strict reading refuses (${expected.reason})`)
    if (frames === undefined && expected.ok) throw new Finding(`requestBlocks refused a valid response of ${expected.frames.length} frames: ${error instanceof Error ? error.message : show(error)}`)
    if (frames === undefined || !expected.ok) return
    check(sameValue(frames, expected.frames), () => `requestBlocks returned other frames: ${show(frames)}`)
    for (const frame of frames) {
      if (frame.byteLength === BIG_FRAME) continue
      const raw: Uint8Array[] = []
      const decoded = decodeBlock(frame, raw)
      agreesWithReference(decoded, referenceBlock(frame), 'decodeBlock of a sync frame')
      if (decoded.ok) checkAcceptedBlock(decoded.value, frame, raw)
    }
  }
})

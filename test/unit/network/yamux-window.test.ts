import '../../../src/shared/polyfill.js'
import type { Logger } from '@libp2p/interface'
import { StreamState, YamuxStream } from '@libp2p/yamux/stream'
import test from 'ava'
import { Uint8ArrayList } from 'uint8arraylist'
import { installYamuxWindowRule } from '../../../src/main/network/yamux-window.js'

// @libp2p/yamux 8's frame types and flags (frame.ts, not exported): Data 0, WindowUpdate 1; ACK 2.
const DATA = 0
const WINDOW_UPDATE = 1
const ACK = 2
const WINDOW = 256 * 1024

const noop = (): void => {}
const log: Logger = Object.assign(noop, { error: noop, trace: noop, enabled: false, newScope: () => log })

interface SentFrame { type: number, flag: number, length: number }

/** An inbound stream as the muxer makes it when a SYN arrives, recording the frames it sends. */
function inboundStream (): { stream: YamuxStream, sent: SentFrame[] } {
  const sent: SentFrame[] = []
  const stream = new YamuxStream({
    id: 'test-1',
    streamId: 1,
    log,
    direction: 'inbound',
    state: StreamState.SYNReceived,
    getRTT: () => -1,
    sendFrame: header => { sent.push({ type: header.type, flag: header.flag, length: header.length }); return true }
  })
  return { stream, sent }
}

function receive (stream: YamuxStream, bytes: number): void {
  stream.handleData({ header: { type: DATA, flag: 0, streamID: 1, length: bytes }, data: new Uint8ArrayList(new Uint8Array(bytes)) })
}

test('a stream grants window once half of it is read, not after every frame, and its sender never runs short', t => {
  t.true(installYamuxWindowRule())
  t.true(installYamuxWindowRule(), 'installing twice is harmless')
  const { stream, sent } = inboundStream()
  // The sender's credit: the initial window, plus what updates grant, less what it sent.
  let credit = WINDOW
  let leastCredit = WINDOW
  let updates = 0
  const frame = 1000
  for (let i = 0; i < 600; i++) {
    credit -= frame
    receive(stream, frame)
    for (const f of sent.splice(0)) {
      if (f.type === WINDOW_UPDATE) { credit += f.length; updates++ }
      if (i === 0) t.is(f.flag, ACK, 'the first update opens the stream (ACK) at once')
    }
    leastCredit = Math.min(leastCredit, credit)
  }
  // 600 KB read in 1 KB frames: @libp2p/yamux alone sends 600 updates; one per half window is 5.
  t.true(updates >= 4 && updates <= 6, `${updates} window updates for 600 frames`)
  t.true(leastCredit >= WINDOW / 2 - frame, `the sender kept at least half a window of credit (least ${leastCredit})`)
  t.true(credit > WINDOW / 2 - frame && credit <= WINDOW, `credit ends within the window (${credit})`)
})

test('counting the updates: one per half window read', t => {
  installYamuxWindowRule()
  const { stream, sent } = inboundStream()
  receive(stream, 10)
  t.deepEqual(sent.splice(0).map(f => f.flag), [ACK])
  for (let i = 0; i < 127; i++) receive(stream, 1024)
  t.is(sent.length, 0, '127 KiB more read: the sender still has more than half of the window')
  receive(stream, 1024)
  t.is(sent.length, 1, 'past half of the window read: one update')
  t.deepEqual(sent[0], { type: WINDOW_UPDATE, flag: 0, length: 128 * 1024 }, 'it grants back everything read since the ACK')
})

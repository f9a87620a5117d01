import test from 'ava'
import { encode } from 'it-length-prefixed'
import { pino } from 'pino'
import { gossipsubStreamModule, installGossipFrameGathering } from '../../../src/main/network/gossip-frames.js'

interface RawStream {
  writeStatus: string
  sent: Uint8Array[]
  closed: boolean
  send: (data: Uint8Array | { subarray: () => Uint8Array }) => boolean
  close: () => Promise<void>
  addEventListener: () => void
}
interface Outbound { push: (data: Uint8Array) => void, close: () => Promise<void> }
type OutboundClass = new (raw: RawStream, onError: (err: Error) => void, opts: object) => Outbound

/** A raw stream that records what gossipsub's OutboundStream sends on it. */
function rawStream (): RawStream {
  const raw: RawStream = {
    writeStatus: 'writable',
    sent: [],
    closed: false,
    send (data) {
      if (this.writeStatus !== 'writable') throw new Error(`Cannot write to a stream that is ${this.writeStatus}`)
      this.sent.push(data instanceof Uint8Array ? data : data.subarray())
      return true
    },
    close () { this.closed = true; return Promise.resolve() },
    addEventListener () {}
  }
  return raw
}

/** gossipsub's own OutboundStream class, loaded as the library loads it. */
async function outboundStreamClass (): Promise<OutboundClass> {
  const mod = await import(gossipsubStreamModule()) as { OutboundStream: OutboundClass }
  return mod.OutboundStream
}

const rpc = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill)
const afterTurn = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

test('the RPCs a gossip stream is given in one turn go out in one write, byte for byte in order', async t => {
  t.true(await installGossipFrameGathering(pino({ level: 'silent' })))
  const OutboundStream = await outboundStreamClass()
  const raw = rawStream()
  const stream = new OutboundStream(raw, () => {}, {})
  const rpcs = [rpc(300, 1), rpc(5, 2), rpc(200, 3)]
  for (const r of rpcs) stream.push(r)
  t.is(raw.sent.length, 0, 'nothing is written within the turn')
  await afterTurn()
  t.is(raw.sent.length, 1, 'one write for three RPCs')
  const expected = Buffer.concat(rpcs.map(r => encode.single(r).subarray()))
  t.deepEqual(Buffer.from(raw.sent[0] ?? new Uint8Array()), expected)
  stream.push(rpc(7, 4))
  await afterTurn()
  t.is(raw.sent.length, 2, 'the next turn writes again')
})

test('a gossip stream sends what waits before it closes, and a closing stream still refuses at once', async t => {
  t.true(await installGossipFrameGathering(pino({ level: 'silent' })))
  const OutboundStream = await outboundStreamClass()
  const raw = rawStream()
  const stream = new OutboundStream(raw, () => {}, {})
  stream.push(rpc(10, 9))
  await stream.close()
  t.is(raw.sent.length, 1, 'the waiting RPC was written before close')
  t.true(raw.closed)
  raw.writeStatus = 'closing'
  t.throws(() => { stream.push(rpc(10, 8)) }, { message: /closing/ }, 'gossipsub learns at once that the stream is closing')
})

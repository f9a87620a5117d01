// kimura/client's events() against real node processes: every block once and in order, when
// the connection is cut again and again (resumed with Last-Event-ID) and across the server's
// close after a replay of 1,000 stored blocks.
import '../../../src/shared/polyfill.js'
import test from 'ava'
import { KimuraClient, type BlockJson, type ReconnectInfo } from '../../../src/client/index.js'
import { startLeader } from '../../helpers/node-process.js'
import { CuttingProxy } from './cutting-proxy.js'

async function read (client: KimuraClient, count: number, from: number, onReconnect?: (info: ReconnectInfo) => void): Promise<BlockJson[]> {
  const blocks: BlockJson[] = []
  const controller = new AbortController()
  const timer = setTimeout(() => { controller.abort(new Error(`only ${blocks.length} of ${count} blocks in 150 s`)) }, 150_000)
  try {
    for await (const block of client.events({ from, signal: controller.signal, reconnect: { initialDelayMs: 20, maxDelayMs: 200 }, ...(onReconnect === undefined ? {} : { onReconnect }) })) {
      blocks.push(block)
      if (blocks.length === count) break
    }
  } finally {
    clearTimeout(timer)
  }
  return blocks
}

const heightsOf = (blocks: BlockJson[]): number[] => blocks.map(b => b.header.height)
const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i)

test('connections cut every 700 ms: the stream resumes with Last-Event-ID, nothing missed or repeated', async t => {
  t.timeout(120_000)
  const leader = await startLeader(t, 50)
  await leader.waitForHeight(20)
  const proxy = new CuttingProxy(leader.apiPort as number, 700)
  await proxy.start(t)
  const reconnects: ReconnectInfo[] = []
  const blocks = await read(new KimuraClient(proxy.url), 120, 1, info => reconnects.push(info))
  t.deepEqual(heightsOf(blocks), range(1, 120))
  const direct = new KimuraClient(leader.api)
  for (const block of [blocks[0], blocks[59], blocks[119]]) t.deepEqual(block, await direct.block(block.header.height))
  const resumed = proxy.lastEventIds().slice(1)
  t.true(resumed.length >= 2, `${proxy.requests.length} connections`)
  t.log(`${proxy.requests.length} connections; Last-Event-ID: ${resumed.join(', ')}`)
  // Each resumption names the last block delivered before it (none before the first block: ?from again).
  t.deepEqual(resumed, reconnects.map(r => r.lastHeight === undefined ? undefined : String(r.lastHeight)))
})

test('a replay of more than 1,000 stored blocks: the server closes after 1,000, the client resumes at once', async t => {
  t.timeout(240_000)
  const leader = await startLeader(t, 10)
  await leader.waitForHeight(1_100, 180_000)
  const reconnects: ReconnectInfo[] = []
  const blocks = await read(new KimuraClient(leader.api), 1_100, 1, info => reconnects.push(info))
  t.deepEqual(heightsOf(blocks), range(1, 1_100))
  t.true(reconnects.length >= 1)
  t.is(reconnects[0].reason, 'end')
  t.is(reconnects[0].lastHeight, 1_000)
  t.is(reconnects[0].delayMs, 0)
})

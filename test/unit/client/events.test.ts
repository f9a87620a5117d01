// events(): every block once, in order, across drops, the replay limit's close, silences and
// a server that skips or repeats heights; resumed with Last-Event-ID; against a fake node.
import '../../../src/shared/polyfill.js'
import test, { type ExecutionContext } from 'ava'
import { KimuraApiError, KimuraClient, KimuraTransportError, type BlockJson, type EventsOptions, type ReconnectInfo } from '../../../src/client/index.js'
import { makeMessages } from '../../helpers/fixtures.js'
import { waitFor } from '../../helpers/wait.js'
import { FakeNode, type FakeNodeOptions } from './fake-node.js'

async function startNode (t: ExecutionContext, options: FakeNodeOptions = {}, blocks = 0): Promise<FakeNode> {
  const node = new FakeNode(options)
  await node.start()
  t.teardown(async () => { await node.stop() })
  for (let i = 0; i < blocks; i++) node.produce(makeMessages(i % 3, { nonceStart: i * 10 }))
  return node
}

const FAST = { reconnect: { initialDelayMs: 5, maxDelayMs: 20 } }

/** Reads `count` blocks from the client's event stream; `each` runs after every block. */
async function collect (client: KimuraClient, count: number, options: EventsOptions = {}, each?: (block: BlockJson) => void): Promise<BlockJson[]> {
  const out: BlockJson[] = []
  const controller = new AbortController()
  const timer = setTimeout(() => { controller.abort(new Error(`only ${out.length} of ${count} blocks in 60 s`)) }, 60_000)
  try {
    for await (const block of client.events({ ...FAST, ...options, signal: controller.signal })) {
      out.push(block)
      each?.(block)
      if (out.length === count) break
    }
  } finally {
    clearTimeout(timer)
  }
  return out
}

const heights = (blocks: BlockJson[]): number[] => blocks.map(b => b.header.height)
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)

test('from: stored blocks replay in order, then live ones follow, each the GET /v1/blocks body', async t => {
  const node = await startNode(t, {}, 5)
  const client = new KimuraClient(node.url)
  const blocks = await collect(client, 8, { from: 2 }, block => {
    if (block.header.height >= 5 && node.tip.block.header.height < 9) node.produce(makeMessages(2, { nonceStart: 1000 + block.header.height * 2 }))
  })
  t.deepEqual(heights(blocks), range(2, 9))
  t.deepEqual(blocks[1], await client.block(3))
  t.is(node.eventConnections[0].from, '2')
})

test('from 0 starts at genesis; without from only blocks stored from now on come', async t => {
  const node = await startNode(t, {}, 3)
  const client = new KimuraClient(node.url)
  t.deepEqual(heights(await collect(client, 2, { from: 0 })), [0, 1])
  const live = collect(client, 2)
  await waitFor(() => node.eventConnections.length === 2, 30_000, 'the live stream to connect')
  node.produce()
  node.produce()
  t.deepEqual(heights(await live), [4, 5])
})

test('a stream cut after blocks were delivered resumes with Last-Event-ID: nothing missed, nothing repeated', async t => {
  const node = await startNode(t, {}, 5)
  const reconnects: ReconnectInfo[] = []
  const blocks = await collect(new KimuraClient(node.url), 30, { from: 1, onReconnect: info => reconnects.push(info) }, block => {
    const height = block.header.height
    if (height === 3 || height === 12 || height === 20) node.dropEventStreams()
    if (height >= 5 && node.tip.block.header.height < 30) setTimeout(() => node.produce(), 5)
  })
  t.deepEqual(heights(blocks), range(1, 30))
  t.is(reconnects.length, 3)
  t.true(reconnects.every(r => r.reason === 'error' && r.error instanceof KimuraTransportError && r.error.code === 'UNREACHABLE'))
  // Each new connection asked for the blocks after the last one delivered.
  t.deepEqual(node.eventConnections.map(c => c.lastEventId), [undefined, ...reconnects.map(r => String(r.lastHeight))])
})

test('streams cut while the server writes (buffered blocks lost in flight): every block still once, in order', async t => {
  const node = await startNode(t, {}, 20)
  node.dropAfter = [3, 4, 1]
  const reconnects: ReconnectInfo[] = []
  const blocks = await collect(new KimuraClient(node.url), 20, { from: 1, onReconnect: info => reconnects.push(info) })
  t.deepEqual(heights(blocks), range(1, 20))
  t.is(node.eventConnections.length, 4)
  // Whatever reached the client before each cut, the next connection asked for what follows it.
  node.eventConnections.slice(1).forEach((c, i) => {
    const last = reconnects[i].lastHeight
    t.deepEqual([c.lastEventId, c.from], last === undefined ? [undefined, '1'] : [String(last), undefined])
  })
})

test('the replay limit: the server closes after it, the client resumes at once, and goes live at the tip', async t => {
  const node = await startNode(t, { replayLimit: 7 }, 30)
  const reconnects: ReconnectInfo[] = []
  const blocks = await collect(new KimuraClient(node.url), 33, { from: 1, onReconnect: info => reconnects.push(info) }, block => {
    if (block.header.height >= 30) node.produce()
  })
  t.deepEqual(heights(blocks), range(1, 33))
  t.deepEqual(node.eventConnections.map(c => c.lastEventId), [undefined, '7', '14', '21', '28'])
  t.deepEqual(reconnects.map(r => [r.reason, r.delayMs]), [['end', 0], ['end', 0], ['end', 0], ['end', 0]])
})

test('a server that repeats a height (inclusive resume) or skips one: each block still once, in order', async t => {
  const node = await startNode(t, {}, 12)
  node.inclusiveResume = true
  node.dropAfter = [4, 3]
  node.skipOnce = new Set([10])
  const blocks = await collect(new KimuraClient(node.url), 12, { from: 1 })
  t.deepEqual(heights(blocks), range(1, 12))
  // The gap at 10 made the client reconnect from 9 rather than pass 11 on.
  t.true(node.eventConnections.some(c => c.lastEventId === '9'), JSON.stringify(node.eventConnections.map(c => c.lastEventId)))
})

test('keep-alive comments keep a quiet stream; silence past the idle timeout reconnects from the last height', async t => {
  // Comments every 20 ms against an idle timeout of 3 s: only a silence can trip it.
  const node = await startNode(t, { keepAliveMs: 20 }, 2)
  const client = new KimuraClient(node.url)
  const reconnects: ReconnectInfo[] = []
  const controller = new AbortController()
  const seen: number[] = []
  const reading = (async () => {
    for await (const block of client.events({ ...FAST, from: 1, idleTimeoutMs: 3000, signal: controller.signal, onReconnect: info => reconnects.push(info) })) seen.push(block.header.height)
  })()
  await waitFor(() => seen.length === 2, 30_000, 'the replay')
  // 4 s without a block, longer than the idle timeout: the comments keep the stream.
  await new Promise(resolve => setTimeout(resolve, 4000))
  t.is(reconnects.length, 0)
  t.is(node.eventConnections.length, 1)
  node.silent = true
  await waitFor(() => reconnects.length > 0, 30_000, 'the idle reconnection')
  node.silent = false
  t.is(reconnects[0].lastHeight, 2)
  t.is(reconnects[0].error?.code, 'REQUEST_TIMEOUT')
  await waitFor(() => node.eventConnections.length >= 2, 30_000, 'the new connection')
  t.is(node.eventConnections[1].lastEventId, '2')
  node.produce()
  await waitFor(() => seen.length === 3, 30_000, 'the live block')
  t.deepEqual(seen, [1, 2, 3])
  controller.abort(new Error('done'))
  await t.throwsAsync(reading, { message: 'done' })
})

test('the server\'s retry field is the first wait after a failure, unless the caller set one', async t => {
  /** The wait before resuming a stream cut at its last block (2 stored, 4 more made meanwhile). */
  const waitAfterCut = async (reconnect: EventsOptions['reconnect']): Promise<number | undefined> => {
    const node = await startNode(t, { retryField: 400 }, 2)
    const waits: number[] = []
    const cutAt2 = (block: BlockJson): void => {
      if (block.header.height !== 2) return
      node.dropEventStreams()
      for (let i = 0; i < 4; i++) node.produce()
    }
    t.deepEqual(heights(await collect(new KimuraClient(node.url), 6, { from: 1, reconnect, onReconnect: info => waits.push(info.delayMs) }, cutAt2)), range(1, 6))
    return waits[0]
  }
  const serverWait = await waitAfterCut({})
  t.true(serverWait !== undefined && serverWait >= 200 && serverWait <= 400, `waited ${serverWait} ms`)
  const ownWait = await waitAfterCut({ initialDelayMs: 10 })
  t.true(ownWait !== undefined && ownWait <= 10, `waited ${ownWait} ms`)
})

test('CRLF and CR line endings', async t => {
  for (const lineEnding of ['\r\n', '\r'] as const) {
    const node = await startNode(t, { lineEnding, keepAliveMs: 20 }, 4)
    t.deepEqual(heights(await collect(new KimuraClient(node.url), 4, { from: 1 })), range(1, 4))
  }
})

test('503 (too many streams) and an unreachable node are retried; a 400 is thrown with its code', async t => {
  const node = await startNode(t, {}, 3)
  node.eventFaults = [{ status: 503, code: 'OVERLOADED' }, { status: 503, code: 'OVERLOADED' }]
  const reconnects: ReconnectInfo[] = []
  t.deepEqual(heights(await collect(new KimuraClient(node.url), 3, { from: 1, onReconnect: info => reconnects.push(info) })), [1, 2, 3])
  t.deepEqual(reconnects.map(r => r.failures), [1, 2])
  t.true(reconnects[0].error instanceof KimuraApiError)

  node.eventFaults = [{ status: 400, code: 'BAD_REQUEST' }]
  const error = await t.throwsAsync(collect(new KimuraClient(node.url), 1, { from: 1 }))
  t.true(error instanceof KimuraApiError)
  if (error instanceof KimuraApiError) t.deepEqual([error.status, error.code], [400, 'BAD_REQUEST'])

})

test('a node that goes away and comes back: the stream resumes where it was', async t => {
  const node = await startNode(t, {}, 3)
  const reconnects: ReconnectInfo[] = []
  const blocks = await collect(new KimuraClient(node.url), 6, { from: 1, onReconnect: info => reconnects.push(info) }, block => {
    if (block.header.height === 3) {
      void node.stop().then(async () => {
        await waitFor(() => reconnects.length >= 2, 30_000, 'failed reconnections')
        node.produce()
        node.produce()
        node.produce()
        await node.start()
      })
    }
  })
  t.deepEqual(heights(blocks), range(1, 6))
  t.true(reconnects.length >= 2)
  t.true(reconnects.every(r => r.reason === 'error' && r.error instanceof KimuraTransportError && r.error.code === 'UNREACHABLE' && r.lastHeight === 3))
  t.is(node.eventConnections.at(-1)?.lastEventId, '3')
})

test('breaking out of the loop closes the stream; a bad from is a RangeError', async t => {
  const node = await startNode(t, {}, 3)
  const client = new KimuraClient(node.url)
  t.deepEqual(heights(await collect(client, 1, { from: 1 })), [1])
  await waitFor(() => node.eventConnections.length === 1, 30_000, 'one connection')
  node.produce()
  t.is(node.eventConnections.length, 1)
  await t.throwsAsync(async () => { await client.events({ from: -1 }).next() }, { instanceOf: RangeError })
})

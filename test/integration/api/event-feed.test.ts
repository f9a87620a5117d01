// The event feed (src/main/api/event-feed.ts) on a real HTTP server and real sockets, with
// blocks made up by the test (1 MiB each when a test needs the bytes): a reader that stops
// reading is dropped past 8 MiB unsent while the others get every block; a replay is paced by
// its reader instead; streams joining while blocks arrive miss and repeat nothing.
import test, { type ExecutionContext } from 'ava'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pino } from 'pino'
import { DEFAULT_EVENT_FEED_OPTIONS, EventFeed, type EventFeedOptions } from '../../../src/main/api/event-feed.js'
import { waitFor } from '../../helpers/wait.js'
import { SseConnection } from './sse-reader.js'

interface Chain {
  tip: number
  feed: EventFeed
  api: string
  /** Stores `n` more blocks and tells the feed, one block per tick. */
  grow: (n: number) => Promise<void>
}

async function startFeed (t: ExecutionContext, blockBytes: number, options: Partial<EventFeedOptions> = {}): Promise<Chain> {
  const chain = { tip: 0 } as Chain
  const pad = 'x'.repeat(blockBytes)
  chain.feed = new EventFeed({
    tipHeight: () => chain.tip,
    renderBlock: async height => await Promise.resolve(height <= chain.tip ? `{"header":{"height":${height}},"pad":"${pad}"}` : null)
  }, pino({ level: 'silent' }), { ...DEFAULT_EVENT_FEED_OPTIONS, ...options })
  chain.feed.start()
  const server: Server = createServer((req, res) => {
    const from = new URL(req.url ?? '/', 'http://x').searchParams.get('from')
    chain.feed.attach(res, from === null ? undefined : Number(from))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  chain.api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  chain.grow = async n => {
    for (let i = 0; i < n; i++) {
      chain.tip++
      chain.feed.notify()
      await new Promise(resolve => setImmediate(resolve))
    }
  }
  t.teardown(async () => {
    chain.feed.stop()
    server.closeAllConnections()
    await new Promise(resolve => server.close(resolve))
  })
  return chain
}

async function open (t: ExecutionContext, chain: Chain, path = '/'): Promise<SseConnection> {
  const connection = await SseConnection.open(chain.api, path)
  t.teardown(() => { connection.close() })
  return connection
}

test('a reader that stops reading is dropped past 8 MiB unsent; the others get every block', async t => {
  const chain = await startFeed(t, 1024 * 1024)
  const slow = await open(t, chain)
  const fast = await open(t, chain)
  await waitFor(() => chain.feed.streamCount === 2, 5_000, 'two streams')
  slow.pause()
  for (let i = 0; i < 40 && chain.feed.streamCount === 2; i++) {
    await chain.grow(1)
    await fast.waitFor(s => s.heights().length === chain.tip, 10_000, `block ${chain.tip} on the fast stream`)
  }
  t.is(chain.feed.streamCount, 1, 'the slow stream was dropped')
  // What the kernel holds besides the 8 MiB: the drop came after 8 and well before 40 blocks.
  t.true(chain.tip > 8 && chain.tip < 40, `dropped after ${chain.tip} blocks of 1 MiB`)
  // A paused socket sees nothing; reading again, the slow reader finds its connection cut.
  slow.response.resume()
  await slow.waitFor(s => s.closed, 10_000, 'the slow stream to see the drop')
  t.false(slow.ended, 'dropped, not ended cleanly')
  const got = slow.heights()
  t.true(got.length < chain.tip)
  t.deepEqual(got, Array.from({ length: got.length }, (_, i) => i + 1), 'what it got is a prefix, in order')
  await chain.grow(3)
  await fast.waitFor(s => s.heights().length === chain.tip)
  t.deepEqual(fast.heights(), Array.from({ length: chain.tip }, (_, i) => i + 1))
})

test('a replay waits for its reader instead: a paused reader of 40 MiB of stored blocks is not dropped', async t => {
  const chain = await startFeed(t, 1024 * 1024)
  await chain.grow(40)
  const reader = await open(t, chain, '/?from=1')
  reader.pause()
  await new Promise(resolve => setTimeout(resolve, 500))
  t.false(reader.closed)
  t.is(chain.feed.streamCount, 1)
  reader.response.resume()
  await reader.waitFor(s => s.heights().length === 40, 20_000)
  t.deepEqual(reader.heights(), Array.from({ length: 40 }, (_, i) => i + 1))
})

test('streams that join while blocks arrive each get every block from their start, once', async t => {
  const chain = await startFeed(t, 64)
  await chain.grow(50)
  const streams: Array<{ from: number, connection: SseConnection }> = []
  for (let i = 0; i < 40; i++) {
    const from = Math.floor(Math.random() * (chain.tip + 5))
    streams.push({ from, connection: await open(t, chain, `/?from=${from}`) })
    await chain.grow(1 + Math.floor(Math.random() * 3))
  }
  await chain.grow(5)
  for (const { from, connection } of streams) {
    await connection.waitFor(s => s.heights().length === chain.tip - from + 1, 10_000, `stream from ${from}`)
    t.deepEqual(connection.heights(), Array.from({ length: chain.tip - from + 1 }, (_, i) => from + i), `from ${from}`)
  }
})

test('at most maxReplay stored blocks per connection, then the end; idle streams get comments', async t => {
  const chain = await startFeed(t, 16, { maxReplay: 30, keepAliveMs: 100 })
  await chain.grow(50)
  const replay = await open(t, chain, '/?from=1')
  await replay.waitFor(s => s.ended)
  t.deepEqual(replay.heights(), Array.from({ length: 30 }, (_, i) => i + 1))
  // A replay that reaches the tip within the limit goes on live.
  const near = await open(t, chain, '/?from=31')
  await near.waitFor(s => s.heights().length === 20)
  await chain.grow(2)
  await near.waitFor(s => s.heights().length === 22)
  t.false(near.ended)
  const idle = await open(t, chain)
  await idle.waitFor(s => s.comments >= 3, 5_000, 'keep-alive comments')
  t.pass()
})

test('the feed holds at most maxStreams: full is what the API answers 503 for; a closed stream frees its place', async t => {
  const chain = await startFeed(t, 16, { maxStreams: 5 })
  const connections = await Promise.all(Array.from({ length: 5 }, async () => await open(t, chain)))
  await waitFor(() => chain.feed.streamCount === 5, 5_000, 'five streams')
  t.true(chain.feed.full)
  connections[0].close()
  await waitFor(() => !chain.feed.full, 5_000, 'a place to free')
  t.is(chain.feed.streamCount, 4)
})

// GET /v1/events (SPEC 8) against real leader processes: every block in height order, each
// once, the data being the block's JSON; replay from ?from or Last-Event-ID with nothing missed
// or repeated at the handover to live blocks; 400 when malformed.
import test, { type ExecutionContext } from 'ava'
import type { BlockJson } from '../../../src/shared/json.js'
import { getBlock, request, Sender, submitOk, type ErrorJson } from '../../helpers/api-client.js'
import { startLeader, startPeer, type NodeProcess } from '../../helpers/node-process.js'
import { SseConnection } from './sse-reader.js'

function consecutive (heights: number[], from: number): boolean {
  return heights.every((h, i) => h === from + i)
}

async function open (t: ExecutionContext, node: NodeProcess, path = '/v1/events', headers: Record<string, string> = {}): Promise<SseConnection> {
  const connection = await SseConnection.open(node.api, path, headers)
  t.teardown(() => { connection.close() })
  return connection
}

test('live blocks in height order, each once, its data the block JSON; on a peer too', async t => {
  const leader = await startLeader(t, 100)
  const peer = await startPeer(t, leader)
  const sender = new Sender()
  const onLeader = await open(t, leader)
  const onPeer = await open(t, peer)
  t.is(onLeader.status, 200)
  t.regex(String(onLeader.response.headers['content-type']), /^text\/event-stream/)
  const start = await leader.height()
  // Blocks with messages too (three batches: one block or several, depending on timing).
  const submitted: string[] = []
  for (let i = 0; i < 3; i++) submitted.push(...await submitOk(leader, sender.messages(5)))
  await leader.waitForHeight(start + 15)
  const until = await leader.height()
  for (const stream of [onLeader, onPeer]) {
    await stream.waitFor(s => s.heights().includes(until), 20_000, `height ${until} on the stream`)
    const heights = stream.heights()
    t.true(consecutive(heights, heights[0]), `consecutive: ${heights.join(',')}`)
    t.true(heights[0] <= start + 1)
    for (const record of stream.records.slice(0, 5)) {
      const block = JSON.parse(record.data) as BlockJson
      t.is(record.id, String(block.header.height))
      t.deepEqual(block, await getBlock(stream === onLeader ? leader : peer, block.header.height))
    }
  }
  for (const stream of [onLeader, onPeer]) {
    const streamed = new Set(stream.records.flatMap(r => (JSON.parse(r.data) as BlockJson).messageIds))
    t.deepEqual(submitted.filter(id => !streamed.has(id)), [], 'every submitted message came through in a streamed block')
  }
})

test('?from replays stored blocks then hands over to live ones; Last-Event-ID resumes and wins over from', async t => {
  const leader = await startLeader(t, 50)
  await leader.waitForHeight(40)
  const fromOne = await open(t, leader, '/v1/events?from=1')
  const tipThen = await leader.height()
  await fromOne.waitFor(s => s.heights().length >= tipThen + 20, 20_000, 'the replay and 20 live blocks')
  t.true(consecutive(fromOne.heights(), 1), 'replay then live: no gap, no repeat')

  // A client that drops and resumes from the last id it saw.
  const first = await open(t, leader, '/v1/events?from=10')
  await first.waitFor(s => s.heights().length >= 5)
  first.close()
  const last = first.heights()[first.heights().length - 1]
  await leader.waitForHeight(last + 10)
  const resumed = await open(t, leader, '/v1/events?from=0', { 'last-event-id': String(last) })
  await resumed.waitFor(s => s.heights().length >= 20)
  t.is(resumed.heights()[0], last + 1, 'Last-Event-ID wins over from')
  t.true(consecutive([...first.heights(), ...resumed.heights()], 10), 'nothing missed or repeated across the reconnect')

  const genesis = await open(t, leader, '/v1/events?from=0')
  await genesis.waitFor(s => s.heights().length >= 1)
  t.is(genesis.heights()[0], 0, 'from=0 starts at genesis')

  const future = await leader.height() + 5
  const ahead = await open(t, leader, `/v1/events?from=${future}`)
  await ahead.waitFor(s => s.heights().length >= 2)
  t.is(ahead.heights()[0], future, 'a from above the tip waits for that height')

  for (const [path, headers] of [
    ['/v1/events?from=-1', {}],
    ['/v1/events?from=x', {}],
    ['/v1/events?from=1', { 'last-event-id': 'abc' }],
    ['/v1/events', { 'last-event-id': '1.5' }]
  ] as Array<[string, Record<string, string>]>) {
    const answer = await request<ErrorJson>(leader, path, { headers })
    t.is(answer.status, 400, `${path} ${JSON.stringify(headers)}`)
    t.is(answer.body.error.code, 'INVALID_HEIGHT')
  }
})

test('a replay sends at most 1,000 stored blocks, then the stream closes; Last-Event-ID goes on from there', async t => {
  t.timeout(150_000)
  const leader = await startLeader(t, 10)
  await leader.waitForHeight(1_050, 120_000)
  const replay = await open(t, leader, '/v1/events?from=1')
  await replay.waitFor(s => s.ended, 30_000, 'the server to end the stream')
  t.deepEqual(replay.heights(), Array.from({ length: 1_000 }, (_, i) => i + 1), 'blocks 1 to 1,000, then the end')
  const next = await open(t, leader, '/v1/events', { 'last-event-id': '1000' })
  await next.waitFor(s => s.heights().length >= 60, 30_000)
  t.true(consecutive(next.heights(), 1_001))
})

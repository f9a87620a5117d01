// SPEC 8's 1,000 streams, opened for real against a leader process: the 1,001st is 503
// TOO_MANY_STREAMS, every open stream still gets the live blocks, and a closed one frees a place.
import test from 'ava'
import { request, type ErrorJson } from '../../helpers/api-client.js'
import { startLeader } from '../../helpers/node-process.js'
import { waitFor } from '../../helpers/wait.js'
import { SseConnection } from './sse-reader.js'

test('1,000 event streams at most: the next is 503 TOO_MANY_STREAMS until one closes', async t => {
  t.timeout(120_000)
  const leader = await startLeader(t, 200)
  const streams: SseConnection[] = []
  t.teardown(() => { for (const s of streams) s.close() })
  // In waves, so the listen backlog never overflows.
  while (streams.length < 1_000) {
    const wave = await Promise.all(Array.from({ length: 50 }, async () => await SseConnection.open(leader.api)))
    streams.push(...wave)
  }
  t.true(streams.every(s => s.status === 200))
  const refused = await request<ErrorJson>(leader, '/v1/events')
  t.is(refused.status, 503)
  t.is(refused.body.error.code, 'TOO_MANY_STREAMS')

  const height = await leader.height()
  await waitFor(() => streams.every(s => s.heights().some(h => h > height + 1)), 30_000, 'a live block on all 1,000 streams')
  t.pass('every stream got the live blocks')

  streams.splice(0, 3).forEach(s => { s.close() })
  let reopened: SseConnection | undefined
  await waitFor(async () => {
    const attempt = await SseConnection.open(leader.api)
    if (attempt.status === 200) { reopened = attempt; return true }
    attempt.close()
    return false
  }, 10_000, 'a freed place')
  if (reopened !== undefined) streams.push(reopened)
  t.is(reopened?.status, 200)
})

import '../../../src/shared/polyfill.js'
import test from 'ava'
import { STALLED_STREAM_EVICT_MS, SyncLimits, SyncTicket, type SyncLimitsInit } from '../../../src/main/network/sync-limits.js'

const noEvict = (): void => {}

function limits (over: Partial<SyncLimitsInit> = {}): SyncLimits {
  return new SyncLimits({ maxStreamsPerPeer: 2, maxStreamsTotal: 100, requestsPerSecond: 100, burst: 100, maxBytesInFlight: 1000, ...over })
}

function ticket (l: SyncLimits, peer: string, now = 0, evict = noEvict): SyncTicket {
  const admitted = l.admit(peer, now, evict)
  if (typeof admitted === 'string') throw new Error(`expected a ticket, got ${admitted}`)
  return admitted
}

test('at most maxStreamsPerPeer streams per peer; release frees a slot', t => {
  const l = limits()
  const first = ticket(l, 'a')
  ticket(l, 'a')
  t.is(l.admit('a', 0, noEvict), 'too-many-streams')
  t.true(l.admit('b', 0, noEvict) instanceof SyncTicket, 'limits are per peer')
  first.release()
  first.release()
  t.true(l.admit('a', 0, noEvict) instanceof SyncTicket, 'a release frees one slot, once')
  t.is(l.admit('a', 0, noEvict), 'too-many-streams')
})

test('at most maxStreamsTotal streams across all peers, whatever their ids', t => {
  const l = limits({ maxStreamsTotal: 3 })
  const tickets = [ticket(l, 'p1'), ticket(l, 'p2'), ticket(l, 'p3')]
  t.is(l.admit('p4', 0, noEvict), 'server-busy')
  tickets[0].release()
  t.true(l.admit('p4', 0, noEvict) instanceof SyncTicket)
})

test('when every slot is taken, a stream stalled on its reader long enough is evicted for a new one', t => {
  const l = limits({ maxStreamsTotal: 2 })
  const evicted: string[] = []
  const a = ticket(l, 'a', 0, () => evicted.push('a'))
  ticket(l, 'b', 0, () => evicted.push('b'))
  a.stalledSince = 100
  t.is(l.admit('c', 100 + STALLED_STREAM_EVICT_MS - 1, noEvict), 'server-busy', 'not stalled long enough yet')
  t.deepEqual(evicted, [])
  t.true(l.admit('c', 100 + STALLED_STREAM_EVICT_MS, noEvict) instanceof SyncTicket)
  t.deepEqual(evicted, ['a'], 'the stalled stream, not the one still reading')
  t.true(a.released)
  t.false(a.reserve(1), 'an evicted stream may hold nothing more')
})

test('response bytes are bounded across all streams; a stream holding nothing may take one block when nothing is held', t => {
  const l = limits({ maxBytesInFlight: 1000 })
  const a = ticket(l, 'a')
  const b = ticket(l, 'b')
  t.true(a.reserve(600))
  t.true(a.reserve(400))
  t.false(b.reserve(1), 'the budget is full')
  a.release()
  t.true(b.reserve(5000), 'a block larger than the whole budget is still served when nothing else is held')
  t.false(ticket(l, 'c').reserve(1))
  b.release()
  t.true(ticket(l, 'c').reserve(1000))
})

test('the token bucket allows a burst, then refills from the clock', t => {
  const l = limits({ maxStreamsPerPeer: 100, requestsPerSecond: 2, burst: 3 })
  const take = (now: number): string => {
    const verdict = l.admit('p', now, noEvict)
    if (typeof verdict === 'string') return verdict
    verdict.release()
    return 'ok'
  }
  t.deepEqual([take(0), take(0), take(0), take(0)], ['ok', 'ok', 'ok', 'rate-limited'])
  t.is(take(499), 'rate-limited', 'under one token after 499 ms at 2/s')
  t.is(take(500), 'ok')
  t.is(take(10_000), 'ok', 'refill is capped at the burst')
  t.deepEqual([take(10_000), take(10_000), take(10_000)], ['ok', 'ok', 'rate-limited'])
  t.is(take(5_000), 'rate-limited', 'a clock stepping back refills nothing')
})

test('a refused stream (too many) costs no token', t => {
  const l = limits({ maxStreamsPerPeer: 1, requestsPerSecond: 0.001, burst: 2 })
  const first = ticket(l, 'p')
  t.is(l.admit('p', 0, noEvict), 'too-many-streams')
  first.release()
  ticket(l, 'p').release()
  t.is(l.admit('p', 0, noEvict), 'rate-limited')
})

test('tracking many peers stays bounded and keeps working', t => {
  const l = limits({ maxStreamsPerPeer: 1, requestsPerSecond: 1, burst: 1 })
  for (let i = 0; i < 5000; i++) ticket(l, `peer-${i}`, i).release()
  t.is(l.admit('peer-4999', 4999, noEvict), 'rate-limited')
})

test('evictions are rate-limited across all peers, so reopening streams cannot churn the store', t => {
  const l = limits({ maxStreamsTotal: 1 })
  let now = 10_000
  let evicted = 0
  const stall = (x: SyncTicket): void => { x.stalledSince = now - STALLED_STREAM_EVICT_MS }
  let current = ticket(l, 'first', now, () => { evicted++ })
  let admitted = 0
  for (let i = 0; i < 100; i++) {
    stall(current)
    const next = l.admit(`p${i}`, now, () => { evicted++ })
    if (next instanceof SyncTicket) { current = next; admitted++ }
  }
  t.true(admitted >= 1 && admitted <= 8, `a burst of at most 8 evictions at once, got ${admitted}`)
  now += 1000
  stall(current)
  t.true(l.admit('later', now, () => { evicted++ }) instanceof SyncTicket, 'the bucket refills with time')
  t.is(evicted, admitted + 1)
})

import '../../../src/shared/polyfill.js'
import test from 'ava'
import { SyncLimits } from '../../../src/main/network/sync-limits.js'

test('at most maxStreamsPerPeer streams per peer; release frees a slot', t => {
  const limits = new SyncLimits({ maxStreamsPerPeer: 2, requestsPerSecond: 100, burst: 100 })
  t.is(limits.admit('a', 0), 'ok')
  t.is(limits.admit('a', 0), 'ok')
  t.is(limits.admit('a', 0), 'too-many-streams')
  t.is(limits.admit('b', 0), 'ok', 'limits are per peer')
  limits.release('a')
  t.is(limits.activeStreams('a'), 1)
  t.is(limits.admit('a', 0), 'ok')
})

test('the token bucket allows a burst, then refills from the clock', t => {
  const limits = new SyncLimits({ maxStreamsPerPeer: 100, requestsPerSecond: 2, burst: 3 })
  const take = (now: number): string => {
    const verdict = limits.admit('p', now)
    if (verdict === 'ok') limits.release('p')
    return verdict
  }
  t.deepEqual([take(0), take(0), take(0), take(0)], ['ok', 'ok', 'ok', 'rate-limited'])
  t.is(take(499), 'rate-limited', 'under one token after 499 ms at 2/s')
  t.is(take(500), 'ok')
  t.is(take(10_000), 'ok', 'refill is capped at the burst')
  t.deepEqual([take(10_000), take(10_000), take(10_000)], ['ok', 'ok', 'rate-limited'])
  t.is(take(5_000), 'rate-limited', 'a clock stepping back refills nothing')
})

test('a refused stream (too many) costs no token', t => {
  const limits = new SyncLimits({ maxStreamsPerPeer: 1, requestsPerSecond: 0.001, burst: 2 })
  t.is(limits.admit('p', 0), 'ok')
  t.is(limits.admit('p', 0), 'too-many-streams')
  limits.release('p')
  t.is(limits.admit('p', 0), 'ok')
  limits.release('p')
  t.is(limits.admit('p', 0), 'rate-limited')
})

test('tracking many peers stays bounded and keeps working', t => {
  const limits = new SyncLimits({ maxStreamsPerPeer: 1, requestsPerSecond: 1, burst: 1 })
  for (let i = 0; i < 5000; i++) {
    t.is(limits.admit(`peer-${i}`, i), 'ok')
    limits.release(`peer-${i}`)
  }
  t.is(limits.admit('peer-4999', 4999), 'rate-limited')
})

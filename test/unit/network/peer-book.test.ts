import test from 'ava'
import { NEAR_BEST_BLOCKS, PeerBook } from '../../../src/main/network/peer-book.js'

const connected = (): boolean => true

function book (salt: string, tips: Record<string, number>): PeerBook {
  const b = new PeerBook(salt)
  for (const [peer, height] of Object.entries(tips)) b.setTip(peer, { height, hash: String(height) })
  return b
}

const tips = { leader: 100, a: 100, b: 99, c: 100 - NEAR_BEST_BLOCKS, far: 90, behind: 40 }

test('sync sources near the best tip are ordered differently on each node, so that lagging nodes do not all sync from the leader', t => {
  const near = ['a', 'b', 'c', 'leader']
  const firsts = new Map<string, number>()
  for (let i = 0; i < 200; i++) {
    const order = book(`node-${i}`, tips).aheadOf(50, connected)
    t.deepEqual(order.slice(0, 4).sort(), near, 'the near ones first')
    t.deepEqual(order.slice(4), ['far'], 'then the others by height; a peer not ahead is not a source')
    firsts.set(order[0] ?? '', (firsts.get(order[0] ?? '') ?? 0) + 1)
  }
  t.is(firsts.size, 4, 'each near peer is some node\'s first choice')
  for (const [peer, count] of firsts) t.true(count >= 20, `${peer} first on ${count} of 200 nodes`)
  const one = book('node-7', tips)
  t.deepEqual(one.aheadOf(50, connected), one.aheadOf(50, connected), 'one node keeps its order')
})

test('failures outrank height: a near peer that failed comes after a far one that did not', t => {
  const b = book('x', { leader: 100, far: 90 })
  t.deepEqual(b.aheadOf(10, connected), ['leader', 'far'])
  b.reportSyncFailure('leader')
  t.deepEqual(b.aheadOf(10, connected), ['far', 'leader'])
  b.reportSyncSuccess('leader')
  t.deepEqual(b.aheadOf(10, connected), ['leader', 'far'])
  t.deepEqual(b.aheadOf(10, peer => peer !== 'leader'), ['far'], 'only connected peers')
})

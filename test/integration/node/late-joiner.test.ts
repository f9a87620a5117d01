// A late joiner (issue #6, SPEC section 5): a peer started after 100 blocks catches up over
// /kimura/sync/1.0.0, then follows gossip like the others.
import '../../../src/shared/polyfill.js'
import test from 'ava'
import { chainLinkErrors, getMessage, getMetrics, metricValue, readChain, Sender, submitOk } from '../../helpers/api-client.js'
import { startCluster, startPeer } from '../../helpers/node-process.js'
import { waitFor } from '../../helpers/wait.js'

test.serial('a peer started after 100 blocks catches up by sync, then follows gossip', async t => {
  // 100 blocks in 20 s; one early peer shows gossip and sync together. Following gossip means
  // storing each block before the next one comes: at 50 ms a loaded 2-core host could not, and
  // the late joiner then caught up by sync instead, failing for the wrong reason.
  const INTERVAL = 200
  const { leader, peers: [early] } = await startCluster(t, { peers: 1, blockIntervalMs: INTERVAL, logLevel: 'info' })
  const sender = new Sender()
  const ids: string[] = []
  while ((await leader.height()) < 100) {
    ids.push(...await submitOk(leader, sender.messages(5, 24, 'early')))
    await new Promise(resolve => setTimeout(resolve, 100))
  }

  const started = Date.now()
  const late = await startPeer(t, leader, { name: 'late', logLevel: 'info' })
  const apiUp = Date.now() - started
  const target = await leader.height()
  await late.waitForHeight(target, 30_000)
  const caughtUp = Date.now() - started
  t.log(`late joiner: API up in ${apiUp} ms, caught up to height ${target} in ${caughtUp} ms (${Math.round(target / (caughtUp / 1000))} blocks/s)`)

  // It follows gossip from here: later blocks arrive by gossip, within a few intervals each.
  const lateMetrics = await getMetrics(late)
  const gossipBefore = metricValue(lateMetrics, 'kimura_blocks_received_total', { source: 'gossip' }) ?? 0
  const syncBefore = metricValue(lateMetrics, 'kimura_blocks_received_total', { source: 'sync' }) ?? 0
  t.log(`late joiner after catch-up: ${syncBefore} blocks by sync, ${gossipBefore} by gossip`)
  t.true(syncBefore >= target - 20, `only ${syncBefore} of ${target} blocks came by sync`)
  ids.push(...await submitOk(leader, sender.messages(5, 24, 'after-join')))
  const followTo = (await leader.height()) + 20
  await late.waitForHeight(followTo, 30_000)
  const gossipAfter = metricValue(await getMetrics(late), 'kimura_blocks_received_total', { source: 'gossip' }) ?? 0
  t.log(`${gossipAfter - gossipBefore} of the next ${followTo - target} blocks arrived by gossip`)
  t.true(gossipAfter - gossipBefore >= (followTo - target) / 2, 'the late joiner does not follow gossip')

  // Every message in a block on the late joiner, and its chain identical to the others'.
  await waitFor(async () => (await getMessage(late, ids[ids.length - 1]))?.height != null, 15_000, 'the last message on the late joiner', 50)
  const top = Math.min(await leader.height(), await early.height(), await late.height())
  const [leaderChain, earlyChain, lateChain] = await Promise.all([leader, early, late].map(async n => await readChain(n, top)))
  t.deepEqual(chainLinkErrors(lateChain), [])
  t.deepEqual(lateChain.map(b => b.hash), leaderChain.map(b => b.hash), 'the late joiner differs from the leader')
  t.deepEqual(earlyChain.map(b => b.hash), leaderChain.map(b => b.hash), 'the early peer differs from the leader')
  const onChain = new Set(lateChain.flatMap(b => b.messageIds))
  t.deepEqual(ids.filter(id => !onChain.has(id)), [], 'messages missing on the late joiner')
})

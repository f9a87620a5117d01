// Graceful shutdown and restart (issues #5 and #6, SPEC sections 6 and 7): SIGTERM exits 0
// within a few seconds, a restart on the same --db resumes the stored chain, and a cluster
// whose leader and peer restart mid-run keeps one identical chain.
import '../../../src/shared/polyfill.js'
import test from 'ava'
import {
  chainLinkErrors, getMessage, idCounts, readChain, Sender, submitOk, submitToPeer
} from '../../helpers/api-client.js'
import { startCluster, startLeader, waitForLeaderLink, type NodeProcess } from '../../helpers/node-process.js'
import { waitFor } from '../../helpers/wait.js'

/** A graceful stop must not take longer than this (SPEC 7: production stops, writes finish, exit 0). */
const STOP_LIMIT_MS = 5000

async function waitAllIncluded (node: NodeProcess, ids: readonly string[], timeoutMs = 20_000): Promise<void> {
  await waitFor(async () => {
    const found = await Promise.all(ids.map(async id => await getMessage(node, id)))
    return found.every(f => f?.height != null)
  }, timeoutMs, `${ids.length} messages in blocks on ${node.name}`, 100)
}

test.serial('SIGTERM stops a leader with exit 0, and a restart on the same --db resumes its chain', async t => {
  const leader = await startLeader(t, { blockIntervalMs: 300, logLevel: 'info' })
  const sender = new Sender()
  const early = await submitOk(leader, sender.messages(5, 24, 'early'))
  await waitAllIncluded(leader, early)
  await leader.waitForHeight(5)
  // Acknowledged just before the signal: durable, so included after the restart if not before.
  const late = await submitOk(leader, sender.messages(5, 24, 'late'))
  const before = await readChain(leader, await leader.height())
  const statusBefore = await leader.status()

  const stop = await leader.stopTimed('SIGTERM')
  t.log(`leader: SIGTERM to exit ${Math.round(stop.ms)} ms, code ${stop.code}, height ${before.length} or more`)
  t.is(stop.code, 0)
  t.true(stop.ms < STOP_LIMIT_MS, `the leader took ${Math.round(stop.ms)} ms to stop`)
  t.regex(leader.output, /"msg":"stopped"/)

  await leader.start()
  const resumed = await leader.status()
  t.true(resumed.height >= before.length, `the restarted leader is at height ${resumed.height}, below ${before.length}`)
  t.is(resumed.leaderKey, statusBefore.leaderKey, 'the restarted leader signs with the same key')
  t.is(resumed.peerId, statusBefore.peerId, 'the restarted leader keeps its peer id')
  await leader.waitForHeight(resumed.height + 3)
  await waitAllIncluded(leader, late)

  const after = await readChain(leader, await leader.height())
  t.deepEqual(after.slice(0, before.length).map(b => b.hash), before.map(b => b.hash), 'blocks stored before the restart changed')
  t.deepEqual(chainLinkErrors(after), [], 'the chain does not continue from the stored tip')
  const counts = idCounts(after)
  t.deepEqual([...early, ...late].filter(id => counts.get(id) !== 1), [], 'messages not included exactly once')
})

test.serial('graceful restarts of the leader and of a peer mid-run: the chain continues on every node, identical', async t => {
  const { leader, peers } = await startCluster(t, { peers: 2, blockIntervalMs: 300, logLevel: 'info' })
  const [peer1, peer2] = peers
  const nodes = [leader, ...peers]
  const sender = new Sender()
  const ids: string[] = []
  ids.push(...await submitOk(leader, sender.messages(10, 24, 'before')))
  ids.push(...await submitToPeer(peer1, sender.messages(5, 24, 'peer-before')))
  await waitAllIncluded(peer2, ids)

  // The leader: SIGTERM, restart, peers reconnect and follow.
  const leaderHeight = await leader.height()
  const leaderStop = await leader.stopTimed('SIGTERM')
  t.is(leaderStop.code, 0)
  t.true(leaderStop.ms < STOP_LIMIT_MS, `the leader took ${Math.round(leaderStop.ms)} ms to stop`)
  const leaderDown = Date.now()
  await leader.start()
  const resumedAt = (await leader.status()).height
  t.true(resumedAt >= leaderHeight)
  ids.push(...await submitOk(leader, sender.messages(10, 24, 'after-leader-restart')))
  await Promise.all(peers.map(async peer => { await peer.waitForHeight(resumedAt + 2, 20_000) }))
  t.log(`leader: stopped in ${Math.round(leaderStop.ms)} ms; both peers past the restarted leader's first blocks ${Date.now() - leaderDown} ms after the stop`)

  // A peer: SIGTERM while the chain goes on, restart, catch up.
  const peerHeight = await peer1.height()
  const peerBefore = await readChain(peer1, peerHeight)
  const peerStop = await peer1.stopTimed('SIGTERM')
  t.is(peerStop.code, 0)
  t.true(peerStop.ms < STOP_LIMIT_MS, `the peer took ${Math.round(peerStop.ms)} ms to stop`)
  ids.push(...await submitToPeer(peer2, sender.messages(5, 24, 'while-peer-down')))
  await leader.waitForHeight(peerHeight + 5)
  const peerBack = Date.now()
  await peer1.start()
  t.true((await peer1.height()) >= peerHeight, 'the restarted peer lost stored blocks')
  t.deepEqual((await readChain(peer1, peerHeight)).map(b => b.hash), peerBefore.map(b => b.hash), 'the peer\'s blocks changed across its restart')
  const target = await leader.height()
  await peer1.waitForHeight(target, 20_000)
  t.log(`peer: stopped in ${Math.round(peerStop.ms)} ms; caught up to height ${target} ${Date.now() - peerBack} ms after its restart`)
  await waitForLeaderLink(peer1)
  ids.push(...await submitToPeer(peer1, sender.messages(5, 24, 'after-peer-restart')))

  // Every node, identical up to a common height past every message.
  await Promise.all(nodes.map(async node => { await waitAllIncluded(node, ids) }))
  const top = Math.min(...await Promise.all(nodes.map(async n => await n.height())))
  const chains = await Promise.all(nodes.map(async n => await readChain(n, top)))
  t.deepEqual(chainLinkErrors(chains[0]), [])
  for (const [i, chain] of chains.slice(1).entries()) t.deepEqual(chain.map(b => b.hash), chains[0].map(b => b.hash), `${peers[i].name} differs from the leader`)
  const counts = idCounts(chains[0])
  t.deepEqual(ids.filter(id => counts.get(id) !== 1), [], 'messages not included exactly once')
  t.log(`${ids.length} messages, chains identical up to height ${top}`)
})

// The mesh (SPEC 5, issue 11), with real node processes: a node with no route to the leader
// follows through its peers; a leader restored from an older copy of its data syncs from its
// peers before it produces (no fork); two different leader-signed blocks at one height are
// kept as evidence, counted, and stop the node that sees them from following.
import '../../../src/shared/polyfill.js'
import { cpSync, existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { getBlock, getMetrics, metricValue, Sender, submitOk, submitToPeer } from '../../helpers/api-client.js'
import { createNodeProcess, startLeader, startPeer, tempDir, type NodeProcess } from '../../helpers/node-process.js'
import { waitFor } from '../../helpers/wait.js'

const INTERVAL_MS = 300

/** A peer that knows only `via` (--peers), not the leader. */
async function startPeerVia (t: Parameters<typeof startLeader>[0], via: NodeProcess, leaderKey: string, name: string): Promise<NodeProcess> {
  const node = createNodeProcess(t, { leader: false, blockIntervalMs: INTERVAL_MS, leaderKey, name, extraArgs: ['--peers', (await via.status()).listen[0]] })
  await node.start()
  return node
}

async function sameBlockAt (a: NodeProcess, b: NodeProcess, height: number): Promise<boolean> {
  const [x, y] = await Promise.all([getBlock(a, height), getBlock(b, height)])
  return x !== undefined && x.hash === y?.hash
}

test('a peer with no route to the leader follows the chain through another peer, and its submissions reach the leader', async t => {
  const leader = await startLeader(t, INTERVAL_MS)
  const { leaderKey } = await leader.status()
  const relay = await startPeer(t, leader, { name: 'relay' })
  const far = await startPeerVia(t, relay, leaderKey, 'far')
  const target = (await leader.height()) + 3
  await far.waitForHeight(target, 20_000)
  t.true(await sameBlockAt(leader, far, target))
  t.false((await far.status()).listen.length === 0)

  const ids = await submitToPeer(far, new Sender().messages(3))
  await waitFor(async () => (await Promise.all(ids.map(async id => (await fetch(`${leader.api}/v1/messages/${id}`)).status))).every(s => s === 200), 15_000, 'the far peer\'s messages to reach the leader')
  t.pass()
})

test('a leader restarted from an older copy of its data syncs from its peers before it produces: the chain does not fork', async t => {
  const leader = await startLeader(t, INTERVAL_MS)
  const { leaderKey } = await leader.status()
  const peer = await startPeer(t, leader, { name: 'peer' })
  await peer.waitForHeight(3, 20_000)
  // A backup of the leader's data directory, taken while it is stopped.
  await leader.stop()
  const backup = tempDir(t, 'kimura-backup-')
  cpSync(leader.spec.dataDir, backup, { recursive: true })
  const backupHeight = (await peer.status()).height
  await leader.start()
  await submitOk(leader, new Sender().messages(5))
  await peer.waitForHeight(backupHeight + 10, 20_000)
  await leader.stop()
  const peerHeight = (await peer.status()).height

  // Restore the backup (same key, same peer key) and start it with --peers naming the peer.
  const restored = createNodeProcess(t, { leader: true, blockIntervalMs: INTERVAL_MS, dataDir: backup, name: 'restored', extraArgs: ['--peers', (await peer.status()).listen[0]] })
  await restored.start()
  await waitFor(async () => (await restored.status()).height > peerHeight, 20_000, 'the restored leader to pass the peer\'s height')
  t.regex(restored.output, /this leader is behind its peers/)
  // Its first own block extends the peer's chain: the peer stores it and nobody equivocated.
  const next = peerHeight + 1
  await peer.waitForHeight(next, 20_000)
  t.true(await sameBlockAt(restored, peer, peerHeight), 'the restored leader holds the blocks it had missed')
  t.true(await sameBlockAt(restored, peer, next))
  t.is(metricValue(await getMetrics(peer), 'kimura_equivocations_total') ?? 0, 0)
  t.true(leaderKey === (await restored.status()).leaderKey)
})

test('two leader-signed blocks at one height: the node that sees both keeps the evidence, counts it, logs it at fatal and stops following', async t => {
  const leader = await startLeader(t, INTERVAL_MS)
  const { leaderKey } = await leader.status()
  const peer = await startPeer(t, leader, { name: 'peer' })
  await peer.waitForHeight(2, 20_000)
  await leader.stop()
  const copy = tempDir(t, 'kimura-fork-')
  cpSync(leader.spec.dataDir, copy, { recursive: true })
  await leader.start()
  await peer.waitForHeight((await leader.height()) + 3, 20_000)
  // The copy, started alone with the same key, builds its own blocks on the old tip: a fork.
  const fork = createNodeProcess(t, { leader: true, blockIntervalMs: INTERVAL_MS, dataDir: copy, name: 'fork' })
  await fork.start()
  await fork.waitForHeight((await peer.status()).height, 20_000)

  // A new node that knows both chains' nodes sees two signed blocks at one height.
  const witness = createNodeProcess(t, { leader: false, blockIntervalMs: INTERVAL_MS, leaderKey, name: 'witness', extraArgs: ['--peers', `${(await peer.status()).listen[0]},${(await fork.status()).listen[0]}`] })
  await witness.start()
  // The witness must first sync one chain, then hear a block of the other: on a loaded machine
  // (the whole suite on 2 cores) that took more than 20 s once.
  await waitFor(async () => (metricValue(await getMetrics(witness), 'kimura_equivocations_total') ?? 0) >= 1, 45_000, 'the witness to count an equivocation')
  t.regex(witness.output, /"level":60[^\n]*leader equivocation/)
  const evidence = join(witness.spec.dataDir, 'equivocation.json')
  t.true(existsSync(evidence))
  const kept = JSON.parse(readFileSync(evidence, 'utf8')) as { height: number, ours: { hash: string }, theirs: { hash: string } }
  t.not(kept.ours.hash, kept.theirs.hash)
  // It stopped following: its height no longer grows while the chain does.
  const halted = (await witness.status()).height
  await peer.waitForHeight((await peer.height()) + 5, 20_000)
  t.is((await witness.status()).height, halted)

  // A restart does not resume following while the evidence is on disk.
  await witness.stop()
  await witness.start()
  await waitFor(() => /evidence of equivocation at height/.test(witness.output), 10_000, 'the restarted witness to report the evidence')
  t.is((await witness.status()).height, halted)
})

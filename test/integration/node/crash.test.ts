// Crashes (issue #6, SPEC section 6): `kill -9` of the leader during a stream of submissions
// loses no acknowledged message and includes none twice; a killed peer restarts on its --db
// and catches up.
import '../../../src/shared/polyfill.js'
import test from 'ava'
import {
  chainLinkErrors, getMessage, idCounts, readChain, Sender, submitMessages
} from '../../helpers/api-client.js'
import { startCluster, type NodeProcess } from '../../helpers/node-process.js'
import { waitFor } from '../../helpers/wait.js'

/** Submits small batches to the leader in a loop, recording every id answered 202. */
class SubmissionStream {
  readonly acknowledged: string[] = []
  failures = 0
  refusals = 0
  private running = true
  private readonly done: Promise<void>

  constructor (private readonly node: NodeProcess, private readonly sender: Sender, batchSize: number, pauseMs: number) {
    this.done = this.loop(batchSize, pauseMs)
  }

  private async loop (batchSize: number, pauseMs: number): Promise<void> {
    while (this.running) {
      try {
        const answer = await submitMessages(this.node, this.sender.messages(batchSize, 24, 'stream'))
        if (answer.status === 202) this.acknowledged.push(...answer.body.ids)
        else this.refusals++
      } catch {
        // The leader is down (connection refused or reset): no promise was made.
        this.failures++
      }
      await new Promise(resolve => setTimeout(resolve, pauseMs))
    }
  }

  async stop (): Promise<void> {
    this.running = false
    await this.done
  }
}

test.serial('kill -9 of the leader, three times during a stream of submissions: every acknowledged message is included exactly once', async t => {
  const { leader, peers } = await startCluster(t, { peers: 2, blockIntervalMs: 300, logLevel: 'info' })
  const nodes = [leader, ...peers]
  const stream = new SubmissionStream(leader, new Sender(), 5, 30)
  t.teardown(async () => { await stream.stop() })

  const restartMs: number[] = []
  for (let round = 1; round <= 3; round++) {
    const acknowledgedBefore = stream.acknowledged.length
    // Let the stream run for a while, at a random moment relative to block production.
    await waitFor(() => stream.acknowledged.length >= acknowledgedBefore + 40, 20_000, 'the stream to get acknowledgements')
    await new Promise(resolve => setTimeout(resolve, Math.floor(Math.random() * 300)))
    await leader.kill()
    t.is(leader.exitSignal, 'SIGKILL')
    const killedAt = Date.now()
    await leader.start()
    restartMs.push(Date.now() - killedAt)
  }
  // After the last restart, the stream runs on until the leader has acknowledged more.
  const afterLast = stream.acknowledged.length
  await waitFor(() => stream.acknowledged.length >= afterLast + 40, 20_000, 'acknowledgements after the last restart')
  await stream.stop()
  const acknowledged = stream.acknowledged
  t.log(`${acknowledged.length} messages acknowledged (202), ${stream.failures} submissions failed on a dead leader, ${stream.refusals} refused; leader back ${restartMs.join(', ')} ms after each kill`)
  t.is(stream.refusals, 0, 'the leader refused valid submissions')
  t.is(new Set(acknowledged).size, acknowledged.length)

  // Every acknowledged message ends up in a block.
  const included = Date.now()
  await waitFor(async () => {
    for (const id of acknowledged.slice(-20)) if ((await getMessage(leader, id))?.height == null) return false
    return true
  }, 30_000, 'the last acknowledged messages in blocks', 100)
  const top = await leader.height()
  await Promise.all(peers.map(async peer => { await peer.waitForHeight(top, 30_000) }))
  t.log(`peers at the leader's height ${top} ${Date.now() - included} ms after the last message was included`)

  const chains = await Promise.all(nodes.map(async node => await readChain(node, top)))
  t.deepEqual(chainLinkErrors(chains[0]), [], 'the leader\'s chain does not link')
  for (const [i, chain] of chains.slice(1).entries()) t.deepEqual(chain.map(b => b.hash), chains[0].map(b => b.hash), `${peers[i].name} differs from the leader`)
  const counts = idCounts(chains[0])
  const lost = acknowledged.filter(id => counts.get(id) === undefined)
  const twice = [...counts].filter(([, n]) => n > 1)
  t.log(`chain: ${top} blocks, ${counts.size} messages; ${lost.length} acknowledged messages lost, ${twice.length} included more than once`)
  t.deepEqual(lost, [], 'acknowledged messages missing from the chain after kill -9')
  t.deepEqual(twice, [], 'messages included more than once')
})

test.serial('kill -9 of a peer: it restarts on its --db and catches up', async t => {
  const { leader, peers: [peer] } = await startCluster(t, { peers: 1, blockIntervalMs: 200, logLevel: 'info' })
  await peer.waitForHeight(10)
  const before = await readChain(peer, await peer.height())
  await peer.kill()
  t.is(peer.exitSignal, 'SIGKILL')
  // The chain goes on without it.
  await leader.waitForHeight(before.length + 15)

  const restarted = Date.now()
  await peer.start()
  const apiUp = Date.now() - restarted
  const resumedAt = await peer.height()
  t.true(resumedAt >= before.length, `the peer restarted at height ${resumedAt}, below the ${before.length} it held`)
  const target = await leader.height()
  await peer.waitForHeight(target, 20_000)
  const caughtUp = Date.now() - restarted
  // And it follows gossip again: the next blocks arrive as they are produced.
  await peer.waitForHeight(target + 3, 5_000)
  t.log(`peer back: API up in ${apiUp} ms at height ${resumedAt}; caught up to ${target} in ${caughtUp} ms after the restart`)

  const top = await peer.height()
  const [peerChain, leaderChain] = await Promise.all([readChain(peer, top), readChain(leader, top)])
  t.deepEqual(peerChain.slice(0, before.length).map(b => b.hash), before.map(b => b.hash), 'blocks stored before the crash changed')
  t.deepEqual(peerChain.map(b => b.hash), leaderChain.map(b => b.hash))
  t.deepEqual(chainLinkErrors(peerChain), [])
})

// One signature before any other work (issue 9, SPEC 5): a rogue publishes forged blocks of
// 10,000 messages (one validly signed message repeated, the right parent, the leader's key as
// proposer, a random header signature), a few a second, from a new peer id every 3 blocks.
// The peer under attack keeps following its leader, and its pool does no work for them: no
// hashBlock or verifyMessages task runs, and each forgery costs one signature check.
import '../../../src/shared/polyfill.js'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { GossipSub } from '@libp2p/gossipsub'
import { identify, type Identify } from '@libp2p/identify'
import type { Libp2p } from '@libp2p/interface'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import test from 'ava'
import { createLibp2p } from 'libp2p'
import { BLOCKS_TOPIC, createGossipsub } from '../../../src/main/network/gossip.js'
import { signMessage } from '../../../src/shared/block.js'
import { fromHex } from '../../../src/shared/bytes.js'
import { encodeBlock } from '../../../src/shared/codec.js'
import { merkleRoot, messageId } from '../../../src/shared/hash.js'
import { signingKeyFromSeed } from '../../../src/shared/keys.js'
import { DEFAULT_PARAMS } from '../../../src/shared/params.js'
import { getBlock, getMetrics, metricValue } from '../../helpers/api-client.js'
import { startCluster, type NodeProcess } from '../../helpers/node-process.js'
import { waitFor } from '../../helpers/wait.js'

const FORGED_BLOCKS = 12
const PER_PEER_ID = 3
const BLOCK_GAP_MS = 400

/** utime + stime of a process, in seconds. */
function cpuSeconds (pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

async function taskCount (node: NodeProcess, task: string): Promise<number> {
  return metricValue(await getMetrics(node), 'kimura_worker_task_seconds_count', { task }) ?? 0
}

/** A rogue gossip node, a fresh peer id, connected to `target` and subscribed to blocks. */
async function rogueNode (target: NodeProcess): Promise<Libp2p<{ identify: Identify, pubsub: GossipSub }>> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), pubsub: createGossipsub({ maxBlockBytes: DEFAULT_PARAMS.maxBlockBytes, appScore: () => 0, publishesBlocks: false }) }
  })
  await node.start()
  node.services.pubsub.subscribe(BLOCKS_TOPIC)
  await node.dial(multiaddr((await target.status()).listen[0]))
  await waitFor(() => node.services.pubsub.getSubscribers(BLOCKS_TOPIC).length > 0, 15_000, 'the target to subscribe', 50)
  return node
}

test('forged 10,000-message blocks with a bad header signature cost the peer one check each: its pool stays idle and it keeps following', async t => {
  t.timeout(180_000)
  const { leader, peers: [peer] } = await startCluster(t, { peers: 1, blockIntervalMs: 500, logLevel: 'info' })
  const leaderKey = fromHex((await leader.status()).leaderKey, 32)
  if (leaderKey === undefined) throw new Error('no leader key')
  const pid = peer.proc?.pid
  if (pid === undefined) throw new Error('no peer pid')
  const repeated = signMessage(signingKeyFromSeed(randomBytes(32)), { timestamp: Date.now(), nonce: 1, content: new Uint8Array(100) })
  const messages = Array.from({ length: DEFAULT_PARAMS.maxBlockMessages }, () => repeated)
  const root = merkleRoot(messages.map(messageId))

  await peer.waitForHeight(2, 20_000)
  const before = { hashBlock: await taskCount(peer, 'hashBlock'), verifyMessages: await taskCount(peer, 'verifyMessages'), cpu: cpuSeconds(pid), at: performance.now() }
  const rejectedBefore = metricValue(await getMetrics(peer), 'kimura_blocks_rejected_total', { code: 'BLOCK_BAD_SIGNATURE' }) ?? 0

  let sent = 0
  let rogue = await rogueNode(peer)
  t.teardown(async () => { await rogue.stop() })
  for (let i = 0; i < FORGED_BLOCKS; i++) {
    if (i > 0 && i % PER_PEER_ID === 0) {
      await rogue.stop()
      rogue = await rogueNode(peer)
    }
    const tip = await getBlock(peer, 'latest')
    if (tip === undefined) throw new Error('no tip')
    const block = encodeBlock({
      header: { height: tip.header.height + 1, timestamp: Date.now(), prevHash: fromHex(tip.hash, 32) ?? new Uint8Array(32), messageRoot: root, proposer: leaderKey, signature: randomBytes(64) },
      messages
    })
    const recipients = (await rogue.services.pubsub.publish(BLOCKS_TOPIC, block)).recipients.length
    if (recipients > 0) sent++
    await new Promise(resolve => setTimeout(resolve, BLOCK_GAP_MS))
  }
  await new Promise(resolve => setTimeout(resolve, 1500))
  const after = { hashBlock: await taskCount(peer, 'hashBlock'), verifyMessages: await taskCount(peer, 'verifyMessages'), cpu: cpuSeconds(pid), at: performance.now() }
  const rejected = (metricValue(await getMetrics(peer), 'kimura_blocks_rejected_total', { code: 'BLOCK_BAD_SIGNATURE' }) ?? 0) - rejectedBefore
  const cpuShare = (after.cpu - before.cpu) / ((after.at - before.at) / 1000)
  t.log(`${sent} forged blocks of ${messages.length} messages delivered from ${Math.ceil(FORGED_BLOCKS / PER_PEER_ID)} peer ids; ${rejected} rejected for BLOCK_BAD_SIGNATURE; peer pool tasks during the attack: hashBlock +${after.hashBlock - before.hashBlock}, verifyMessages +${after.verifyMessages - before.verifyMessages}; peer CPU ${(100 * cpuShare).toFixed(1)} % of a core`)

  t.true(sent >= FORGED_BLOCKS - 2, 'the forgeries reached the peer')
  t.true(rejected >= 1, 'the peer rejected forgeries for their header signature')
  t.is(after.hashBlock - before.hashBlock, 0, 'no forged block reached the pool')
  t.is(after.verifyMessages - before.verifyMessages, 0, 'no message signature of a forged block was checked')
  // Still following: the peer holds the leader's tip (give it two intervals).
  const leaderHeight = await leader.height()
  await peer.waitForHeight(leaderHeight, 5_000)
  const [ours, theirs] = await Promise.all([getBlock(leader, leaderHeight), getBlock(peer, leaderHeight)])
  t.is(theirs?.hash, ours?.hash)
})

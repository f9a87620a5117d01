import '../../../src/shared/polyfill.js'
import { stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import { KimuraError } from '../../../src/shared/errors.js'
import { Network } from '../../../src/main/network/network.js'
import { PEER_KEY_FILE } from '../../../src/main/network/peer-key.js'
import { claimPort, releasePort } from '../../helpers/test-ports.js'
import { waitFor } from '../../helpers/wait.js'
import { LEADER_KEY, MemoryChain } from './memory-chain.js'
import { RecordingHandler, createNode, portOf, reachSubscribers, silentLogger, tempDir, waitForLeader } from './nodes.js'

test.serial('the peer id persists across a restart with the same data dir; the key file is 0600', async t => {
  const dataDir = await tempDir(t)
  const first = await createNode(t, { dataDir })
  const peerId = first.network.peerId
  t.true(first.network.getMultiaddrs().every(a => a.endsWith(`/p2p/${peerId}`)))
  await first.network.stop()
  await first.network.stop()
  t.deepEqual(first.network.getMultiaddrs(), [])

  const mode = (await stat(join(dataDir, PEER_KEY_FILE))).mode & 0o777
  t.is(mode, 0o600)

  const second = await createNode(t, { dataDir })
  t.is(second.network.peerId, peerId)
  const other = await createNode(t)
  t.not(other.network.peerId, peerId)
})

test.serial('start twice is one start; a failed start stops what it started', async t => {
  const node = await createNode(t, { noStart: true })
  await Promise.all([node.network.start(), node.network.start()])
  await node.network.start()
  t.is(node.network.getMultiaddrs().length, 1)

  // A stop during a start waits for it, then stops; the node can start again afterwards.
  await node.network.stop()
  const starting = node.network.start()
  await node.network.stop()
  await starting
  t.deepEqual(node.network.getMultiaddrs(), [])
  await node.network.start()
  t.is(node.network.getMultiaddrs().length, 1)

  // The same port twice: the second node cannot listen, so its start fails and leaves nothing open.
  const clash = await createNode(t, { noStart: true, listen: [`/ip4/127.0.0.1/tcp/${portOf(node.network)}`] })
  const err = await t.throwsAsync(clash.network.start(), { instanceOf: KimuraError, message: /EADDRINUSE|address already in use/i })
  t.is(err?.code, 'ERR_NETWORK_START')
  t.deepEqual(clash.network.getMultiaddrs(), [])
  await clash.network.stop()
})

test.serial('a corrupt peer key and a leader address without a peer id are typed errors', async t => {
  const dataDir = await tempDir(t)
  // Private (0600), so that what is refused is the content, not the file's mode.
  await writeFile(join(dataDir, PEER_KEY_FILE), new Uint8Array([1, 2, 3]), { mode: 0o600 })
  const node = await createNode(t, { dataDir, noStart: true })
  const err = await t.throwsAsync(node.network.start(), { instanceOf: KimuraError, message: /not a libp2p private key/ })
  t.is(err?.code, 'ERR_KEY_FILE')

  const bad = t.throws(() => new Network({ dataDir, listen: [], maxBlockBytes: 1024, leaderKey: LEADER_KEY.publicKey, leaderAddr: '/ip4/127.0.0.1/tcp/1' },
    { logger: silentLogger, gossipHandler: new RecordingHandler(), blockSource: new MemoryChain(), statusAnswer: () => new MemoryChain().statusAnswer() }), { instanceOf: KimuraError, message: /\/p2p\/<peer id>/ })
  t.is(bad?.code, 'ERR_INVALID_CONFIG')
})

test.serial('a peer redials the leader after the leader stops and restarts on the same port and data dir', async t => {
  const leaderDir = await tempDir(t)
  // Below the ephemeral range (claimPort): no connection takes it while the leader is down.
  const port = await claimPort()
  t.teardown(() => { releasePort(port) })
  const leader = await createNode(t, { dataDir: leaderDir, listen: [`/ip4/127.0.0.1/tcp/${port}`] })
  const leaderAddr = leader.network.getMultiaddrs()[0]
  const peer = await createNode(t, { leaderAddr })
  await waitForLeader(peer)
  // Both directions work: the leader's publishes reach the peer, the peer's reach the leader.
  await reachSubscribers(leader, 'messages', 1)
  await reachSubscribers(peer, 'messages', 1)

  await leader.network.stop()
  await waitFor(() => peer.network.connectedPeerCount() === 0, 10_000, 'the peer to notice the leader is gone')
  t.is(await peer.network.publishMessage(new Uint8Array([8])), 0, 'a publish without the leader reaches nobody')

  // The same port again, as an operator restarts a node on its configured address.
  const restarted = await createNode(t, { dataDir: leaderDir, listen: [`/ip4/127.0.0.1/tcp/${port}`] })
  t.is(restarted.network.getMultiaddrs()[0], leaderAddr)
  await waitForLeader(peer, 2, 15_000)
  t.is(peer.leaderConnections.count, 2, 'leader:connected once per connection')
  await waitFor(() => peer.network.connectedPeerCount() === 1, 10_000, 'the peer connected to the restarted leader')
  // Each side learns the other's subscriptions on its own stream: both directions are awaited.
  await reachSubscribers(restarted, 'messages', 1)
  await reachSubscribers(peer, 'messages', 1)
  t.is(await peer.network.publishMessage(new Uint8Array([9])), 1)
  await waitFor(() => restarted.handler.messages.some(m => m.data[0] === 9), 10_000, 'the restarted leader to receive the message')
})

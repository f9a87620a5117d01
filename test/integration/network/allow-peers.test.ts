// --allow-peers through the connection gater: a peer id outside the set is closed right after
// the handshake, so it can open no stream (no gossip, no sync), while an allowed peer connects
// and follows as usual.
import '../../../src/shared/polyfill.js'
import test from 'ava'
import { buildChain } from './memory-chain.js'
import { createNode, reachSubscribers, tempDir, waitForLeader } from './nodes.js'
import { waitFor } from '../../helpers/wait.js'

/** A node's peer id, made by starting and stopping it once on `dataDir` (the key persists). */
async function peerIdFor (t: Parameters<typeof createNode>[0], dataDir: string): Promise<string> {
  const node = await createNode(t, { dataDir })
  const id = node.network.peerId
  await node.network.stop()
  return id
}

test.serial('a leader with --allow-peers serves the allowed peer and closes every other one before any stream', async t => {
  const allowedDir = await tempDir(t)
  const allowedId = await peerIdFor(t, allowedDir)
  const served: number[] = []
  const chain = buildChain(5)
  const leader = await createNode(t, {
    allowPeers: [allowedId],
    blockSource: {
      // Sync requests in this test start at height 1; every status answer also reads the tip
      // block (height 5) through this source, and the allowed peer may ask for a status again.
      getEncodedBlocks: (from, count) => { if (from === 1) served.push(from); return chain.slice(from - 1, from - 1 + count) },
      tipHeight: () => chain.length
    }
  })
  const leaderAddr = leader.network.getMultiaddrs()[0]

  const allowed = await createNode(t, { dataDir: allowedDir, leaderAddr })
  await waitForLeader(allowed)
  await reachSubscribers(leader, 'blocks', 1)
  t.is((await allowed.network.requestBlocks(leader.network.peerId, 1, 5)).length, 5, 'the allowed peer syncs')

  const outsider = await createNode(t, { leaderAddr })
  const outsiderId = outsider.network.peerId
  const servedBefore = served.length
  // It keeps redialing; every attempt is refused after the Noise handshake.
  await new Promise(resolve => setTimeout(resolve, 1500))
  t.is(outsider.leaderConnections.count, 0, 'the outsider never got a connection it could use')
  // The outsider's own side may list a connection for the moment between its handshake and the
  // leader's close; the leader's side never holds one (the gater runs before it is created).
  t.is(leader.network.connectedPeerCount(), 1, 'the leader is connected to the allowed peer only')
  t.false(leader.network.syncPeers(-1).includes(outsiderId), 'the leader holds no connection to it')
  const err = await t.throwsAsync(outsider.network.requestBlocks(leader.network.peerId, 1, 5))
  t.is((err as { code?: string } | undefined)?.code, 'ERR_SYNC')
  t.is(served.length, servedBefore, 'no sync stream of the outsider reached the store')
  t.is(await outsider.network.publishBlock(new Uint8Array([1, 2, 3])), 0, 'nothing it publishes reaches the leader')

  // The allowed peer is unaffected.
  await waitFor(() => allowed.network.connectedPeerCount() === 1, 5_000, 'the allowed peer still connected')
})

import '../../../src/shared/polyfill.js'
import { noise } from '@libp2p/noise'
import { peerIdFromString } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import type { Libp2p, Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import test, { type ExecutionContext } from 'ava'
import { createLibp2p } from 'libp2p'
import { bytesEqual } from '../../../src/shared/bytes.js'
import { SyncClient } from '../../../src/main/network/sync-client.js'
import { MAX_RESPONSE_BLOCKS, MAX_RESPONSE_BYTES, SYNC_PROTOCOL, encodeSyncRequest, requestBlocks } from '../../../src/main/network/sync-protocol.js'
import type { BlockSource, SyncNetwork } from '../../../src/main/network/types.js'
import { waitFor } from '../../helpers/wait.js'
import { MemoryChain, buildChain } from './memory-chain.js'
import { createNode, silentLogger, waitForLeader, type TestNode } from './nodes.js'

const CHAIN = buildChain(1000)

async function chainOf (count: number): Promise<MemoryChain> {
  const chain = new MemoryChain()
  const result = await chain.importBlocks(CHAIN.slice(0, count))
  if (result.error !== undefined) throw new Error(result.error.reason)
  return chain
}

/** A bare libp2p node (no gossip, no identify) connected to `server`, to speak the sync protocol raw. */
async function rawClient (t: ExecutionContext, server: TestNode): Promise<Libp2p> {
  const node = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
  t.teardown(async () => { await node.stop() })
  await node.dial(multiaddr(server.network.getMultiaddrs()[0]))
  return node
}

/** Reads a stream to its end; returns how many bytes came and whether the stream was reset. */
async function readAll (s: Stream): Promise<{ bytes: number, reset: boolean }> {
  let bytes = 0
  try {
    for await (const chunk of s) bytes += chunk.byteLength
  } catch {
    return { bytes, reset: true }
  }
  return { bytes, reset: s.status === 'reset' || s.status === 'aborted' }
}

/** Sends raw bytes as a sync request on a new stream; returns what came back and whether the stream was reset. */
async function exchange (client: Libp2p, server: TestNode, request: Uint8Array): Promise<{ bytes: number, reset: boolean }> {
  const s = await client.dialProtocol(peerIdFromString(server.network.peerId), SYNC_PROTOCOL)
  try {
    s.send(request)
    await s.close()
  } catch {
    return { bytes: 0, reset: true }
  }
  return await readAll(s)
}

/** A SyncNetwork over `network` that records every request the client sends. */
function recordingNetwork (network: TestNode['network']): { spy: SyncNetwork, requests: Array<{ peer: string, from: number, count: number }> } {
  const requests: Array<{ peer: string, from: number, count: number }> = []
  const spy: SyncNetwork = {
    syncPeers: (height: number) => network.syncPeers(height),
    highestPeerTip: () => network.highestPeerTip(),
    reportSyncFailure: peer => { network.reportSyncFailure(peer) },
    reportSyncSuccess: peer => { network.reportSyncSuccess(peer) },
    refreshStatuses: async () => { await network.refreshStatuses() },
    requestBlocks: async (peer: string, from: number, count: number, signal?: AbortSignal) => {
      requests.push({ peer, from, count })
      return await network.requestBlocks(peer, from, count, signal)
    },
    on: network.on.bind(network),
    off: network.off.bind(network)
  }
  return { spy, requests }
}

test.serial('a node that joins 1,000 blocks late catches up through SyncClient, pipelined', async t => {
  const leader = await createNode(t, { chain: await chainOf(CHAIN.length) })
  const peer = await createNode(t, { leaderAddr: leader.network.getMultiaddrs()[0] })
  // Connected before the client starts: its first round is the only one until the test asks.
  await waitForLeader(peer)
  const { spy, requests } = recordingNetwork(peer.network)
  const client = new SyncClient({ network: spy, importer: peer.chain, logger: silentLogger })
  t.teardown(async () => { await client.stop() })
  client.start()

  await waitFor(() => peer.chain.tipHeight() === CHAIN.length, 30_000, 'the peer to import the chain')
  t.true(peer.chain.blocks.every((b, i) => bytesEqual(b, CHAIN[i])))
  // 512 + 488, both from the leader: the second request was sent before the first batch was
  // imported, and none went past the tip the leader's status proved (1,000).
  t.deepEqual(requests.map(r => [r.from, r.count]), [[1, 512], [513, 512]])
  t.true(requests.every(r => r.peer === leader.network.peerId), 'a request went to another peer than the leader')
  t.is(peer.chain.importCalls, 2)

  // Caught up: a new request finds nothing to do.
  const again = await client.requestSync()
  t.like(again, { status: 'no-peers', imported: 0, from: 1001, to: 1000 }, 'no connected peer is ahead any more')
})

test.serial('a peer that sends an invalid block stops the sync round; nothing retries on its own', async t => {
  // The server's store holds, at height 3, a leader-signed block of another fork: its status
  // verifies, but the block does not extend block 2.
  await new Promise(resolve => setTimeout(resolve, 5))
  const forged = buildChain(3)
  const source: BlockSource = {
    tipHeight: () => 3,
    getEncodedBlocks: (from, count) => [CHAIN[0], CHAIN[1], forged[2]].slice(from - 1, from - 1 + count)
  }
  const leader = await createNode(t, { blockSource: source })
  const peer = await createNode(t, { leaderAddr: leader.network.getMultiaddrs()[0] })
  await waitForLeader(peer)
  const { spy, requests } = recordingNetwork(peer.network)
  // A retry after a failed round would come 50 ms later: soon enough to be seen below.
  const client = new SyncClient({ network: spy, importer: peer.chain, logger: silentLogger }, { retryMinMs: 50, retryMaxMs: 50 })
  t.teardown(async () => { await client.stop() })
  client.start()
  // Blocks 1 and 2 are stored; block 3 was built on another fork and does not extend block 2.
  await waitFor(() => peer.chain.tipHeight() === 2, 10_000, 'the first round to import blocks 1 and 2')
  t.is(requests[0]?.from, 1)
  t.true(peer.chain.blocks.every((b, i) => bytesEqual(b, CHAIN[i])))

  // The next trigger asks again (from 3) and stops again, with the importer's code.
  const round = await client.requestSync()
  t.like(round, { status: 'invalid', from: 3, to: 2, imported: 0, peer: leader.network.peerId })
  t.is(round.error?.code, 'BLOCK_WRONG_PREV_HASH')
  t.is(peer.chain.tipHeight(), 2)
  const asked = requests.length
  t.true(requests.some(r => r.from === 3), 'the second round did not ask from height 3')
  // An invalid answer is not a transport failure: no retry timer asks again.
  await new Promise(resolve => setTimeout(resolve, 300))
  t.is(requests.length, asked, 'the client asked again on its own after an invalid block')
})

test.serial('the sync server caps a response at 512 blocks and 8 MiB, whatever the source returns', async t => {
  const calls: Array<[number, number, number]> = []
  let big = false
  const bigBlock = new Uint8Array(3 * 1024 * 1024)
  const source: BlockSource = {
    tipHeight: () => 10_000,
    getEncodedBlocks: (from, count, maxBytes) => {
      calls.push([from, count, maxBytes])
      // A misbehaving source that ignores both caps.
      return big ? [bigBlock, bigBlock, bigBlock] : CHAIN.concat(CHAIN)
    }
  }
  const server = await createNode(t, { blockSource: source })
  const client = await rawClient(t, server)
  const peer = peerIdFromString(server.network.peerId)
  const options = { maxBlockBytes: 4 * 1024 * 1024, timeoutMs: 10_000 }

  const many = await requestBlocks(client, peer, { from: 1, count: 100_000 }, options)
  t.is(many.length, MAX_RESPONSE_BLOCKS)
  const few = await requestBlocks(client, peer, { from: 7, count: 3 }, options)
  t.is(few.length, 3)
  // The server never asks its source for more than one response may hold.
  t.deepEqual(calls.filter(([, count, maxBytes]) => count > MAX_RESPONSE_BLOCKS || maxBytes > MAX_RESPONSE_BYTES), [])

  big = true
  const heavy = await requestBlocks(client, peer, { from: 1, count: 10 }, options)
  t.is(heavy.length, 2, '3 MiB + 3 MiB fit in 8 MiB, a third does not')

  // A client refuses frames above its maxBlockBytes.
  await t.throwsAsync(requestBlocks(client, peer, { from: 1, count: 10 }, { ...options, maxBlockBytes: 1024 * 1024 }), { message: /sync request failed/ })
})

test.serial('the sync server resets malformed requests and keeps serving', async t => {
  const server = await createNode(t, { chain: await chainOf(5) })
  const client = await rawClient(t, server)
  const u64max = new Uint8Array(12).fill(0xff)
  const cases: Array<[string, Uint8Array]> = [
    ['too short', new Uint8Array(5)],
    ['too long', new Uint8Array(13).fill(1)],
    ['from 0', encodeSyncRequest({ from: 0, count: 5 })],
    ['count 0', encodeSyncRequest({ from: 1, count: 0 })],
    ['from above 2^53', u64max]
  ]
  for (const [what, bytes] of cases) {
    const answer = await exchange(client, server, bytes)
    t.true(answer.reset, what)
    t.is(answer.bytes, 0, what)
  }
  const good = await exchange(client, server, encodeSyncRequest({ from: 1, count: 5 }))
  t.false(good.reset)
  t.true(good.bytes > 5 * 100)
  const empty = await exchange(client, server, encodeSyncRequest({ from: 6, count: 5 }))
  t.deepEqual(empty, { bytes: 0, reset: false })
})

test.serial('the sync server allows 2 concurrent streams per peer and rate-limits requests', async t => {
  // Heights 1 and 2 hold 3 MiB each: a response to them outgrows the stream's send window, so
  // the server holds its stream (and its slot) until the client reads. The source's calls show
  // when the server has admitted a stream and is serving it.
  const big = new Uint8Array(3 * 1024 * 1024).fill(7)
  const served: number[] = []
  const source: BlockSource = {
    tipHeight: () => 5,
    getEncodedBlocks: (from, count) => {
      served.push(from)
      return Array.from({ length: Math.max(0, Math.min(count, 6 - from)) }, (_, i) => from + i <= 2 ? big : CHAIN[from + i - 1])
    }
  }
  const server = await createNode(t, { blockSource: source, syncRequestBurst: 4, syncRequestsPerSecond: 0.01 })
  const client = await rawClient(t, server)
  const peer = peerIdFromString(server.network.peerId)
  // Two streams ask for heights 1..2 and stop reading: both slots are taken once the server
  // serves both (waited for, not assumed), and a third stream is then reset at once.
  const held = await Promise.all([client.dialProtocol(peer, SYNC_PROTOCOL), client.dialProtocol(peer, SYNC_PROTOCOL)])
  for (const s of held) {
    // Paused: no window updates, so the server's writes back up as with a reader that stopped.
    s.pause()
    s.send(encodeSyncRequest({ from: 1, count: 2 }))
    await s.close()
  }
  await waitFor(() => served.filter(from => from === 1).length === 2, 5_000, 'the server to serve both held streams')
  const request = encodeSyncRequest({ from: 3, count: 1 })
  const third = await exchange(client, server, request)
  t.true(third.reset, 'a third concurrent stream was served')
  t.is(third.bytes, 0)
  // The held streams, read now, get their whole answer.
  const answers = await Promise.all(held.map(async s => { s.resume(); return await readAll(s) }))
  t.deepEqual(answers.map(a => a.reset), [false, false], 'a held stream was reset')
  t.true(answers.every(a => a.bytes > 2 * big.byteLength), `held answers of ${answers.map(a => a.bytes).join(', ')} bytes`)
  // A burst of 4 with almost no refill: the two held streams took 2 tokens (the refused third
  // took none), so 2 more requests pass and the next is refused.
  const more = [await exchange(client, server, request), await exchange(client, server, request), await exchange(client, server, request)]
  t.deepEqual(more.map(a => a.reset), [false, false, true])
})

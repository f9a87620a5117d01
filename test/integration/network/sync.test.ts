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
import { signingKeyFromSeed } from '../../../src/shared/keys.js'
import { SyncClient, type SyncResult } from '../../../src/main/network/sync-client.js'
import { MAX_RESPONSE_BLOCKS, MAX_RESPONSE_BYTES, SYNC_PROTOCOL, encodeSyncRequest, requestBlocks } from '../../../src/main/network/sync-protocol.js'
import type { BlockSource } from '../../../src/main/network/types.js'
import { waitFor } from '../../helpers/wait.js'
import { MemoryChain, buildChain } from './memory-chain.js'
import { createNode, silentLogger, type TestNode } from './nodes.js'

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

/** Sends raw bytes as a sync request; returns what came back and whether the stream was reset. */
async function exchange (client: Libp2p, server: TestNode, request: Uint8Array, stream?: Stream): Promise<{ bytes: number, reset: boolean }> {
  const s = stream ?? await client.dialProtocol(peerIdFromString(server.network.peerId), SYNC_PROTOCOL)
  let bytes = 0
  try {
    s.send(request)
    await s.close()
    for await (const chunk of s) bytes += chunk.byteLength
  } catch {
    return { bytes, reset: true }
  }
  return { bytes, reset: s.status === 'reset' || s.status === 'aborted' }
}

test.serial('a node that joins 1,000 blocks late catches up through SyncClient, pipelined', async t => {
  const leader = await createNode(t, { chain: await chainOf(CHAIN.length) })
  const peer = await createNode(t, { leaderAddr: leader.network.getMultiaddrs()[0] })
  const requests: Array<{ from: number, count: number }> = []
  const network = peer.network
  const spy = {
    syncPeers: () => network.syncPeers(),
    requestBlocks: async (id: string, from: number, count: number, signal?: AbortSignal) => {
      requests.push({ from, count })
      return await network.requestBlocks(id, from, count, signal)
    },
    on: network.on.bind(network),
    off: network.off.bind(network)
  }
  const client = new SyncClient({ network: spy, importer: peer.chain, logger: silentLogger })
  const results: SyncResult[] = []
  client.on('done', r => results.push(r))
  t.teardown(async () => { await client.stop() })
  client.start()

  await waitFor(() => results.some(r => r.status === 'synced' && r.imported > 0), 30_000, 'a completed sync')
  t.is(peer.chain.tipHeight(), CHAIN.length)
  t.true(peer.chain.blocks.every((b, i) => bytesEqual(b, CHAIN[i])))
  const synced = results.find(r => r.status === 'synced' && r.imported > 0)
  t.like(synced, { from: 1, to: 1000, imported: 1000, peer: leader.network.peerId })
  // 512 + 488 + an empty answer: each next request was sent before the previous batch was imported.
  t.deepEqual(requests.slice(-3), [{ from: 1, count: 512 }, { from: 513, count: 512 }, { from: 1001, count: 512 }])
  t.is(peer.chain.importCalls, 2)

  // Caught up: a new request finds nothing to do.
  const again = await client.requestSync()
  t.like(again, { status: 'synced', imported: 0, from: 1001, to: 1000 })
})

test.serial('a peer that sends an invalid block stops the sync round', async t => {
  // The server's store holds, at height 3, a block from another chain.
  const forged = buildChain(3, signingKeyFromSeed(new Uint8Array(32).fill(1)))
  const source: BlockSource = {
    tipHeight: () => 3,
    getEncodedBlocks: (from, count) => [CHAIN[0], CHAIN[1], forged[2]].slice(from - 1, from - 1 + count)
  }
  const leader = await createNode(t, { blockSource: source })
  const peer = await createNode(t, { leaderAddr: leader.network.getMultiaddrs()[0] })
  await waitFor(() => peer.network.isLeaderConnected(), 10_000, 'the leader connection')
  const client = new SyncClient({ network: peer.network, importer: peer.chain, logger: silentLogger })
  const results: SyncResult[] = []
  client.on('done', r => results.push(r))
  t.teardown(async () => { await client.stop() })
  client.start()
  await waitFor(() => results.length > 0, 10_000, 'the first round')
  t.like(results[0], { status: 'invalid', from: 1, to: 2, imported: 2, peer: leader.network.peerId })
  // Block 3 was built on another chain: it does not extend block 2.
  t.is(results[0]?.error?.code, 'BLOCK_WRONG_PREV_HASH')
  t.is(peer.chain.tipHeight(), 2)
  // The next trigger asks again (from 3) and stops again; nothing retries on its own.
  t.like(await client.requestSync(), { status: 'invalid', from: 3, imported: 0 })
  t.is(results.length, 2)
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
  t.deepEqual(calls[0], [1, MAX_RESPONSE_BLOCKS, MAX_RESPONSE_BYTES])

  const few = await requestBlocks(client, peer, { from: 7, count: 3 }, options)
  t.is(few.length, 3)
  t.deepEqual(calls[1], [7, 3, MAX_RESPONSE_BYTES])

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
  const server = await createNode(t, { chain: await chainOf(5), syncRequestBurst: 4, syncRequestsPerSecond: 0.01 })
  const client = await rawClient(t, server)
  const peer = peerIdFromString(server.network.peerId)
  // Two streams held open without a request occupy both slots; a third is reset at once.
  const held = await Promise.all([client.dialProtocol(peer, SYNC_PROTOCOL), client.dialProtocol(peer, SYNC_PROTOCOL)])
  await waitFor(async () => (await exchange(client, server, encodeSyncRequest({ from: 1, count: 1 }))).reset, 5_000, 'the third stream to be reset')
  const request = encodeSyncRequest({ from: 1, count: 1 })
  const answers = await Promise.all(held.map(async s => await exchange(client, server, request, s)))
  t.true(answers.every(a => !a.reset && a.bytes > 0))
  // A burst of 4 with almost no refill: the two held streams took 2 tokens (the refused third
  // took none), so 2 more requests pass and the next is refused.
  const more = [await exchange(client, server, request), await exchange(client, server, request), await exchange(client, server, request)]
  t.deepEqual(more.map(a => a.reset), [false, false, true])
})

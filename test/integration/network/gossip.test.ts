// Gossip between Network instances, observed from outside: what each handler is called with,
// what a publish reaches, and what a node forwards to a node that can only hear it.
import '../../../src/shared/polyfill.js'
import test from 'ava'
import { bytesEqual } from '../../../src/shared/bytes.js'
import { waitFor } from '../../helpers/wait.js'
import { buildChain } from './memory-chain.js'
import { createNode, reachSubscribers, waitForLeader } from './nodes.js'

const blocks = buildChain(4)

test.serial('a block published by the leader reaches both peers\' handlers, from the leader', async t => {
  const leader = await createNode(t)
  const leaderAddr = leader.network.getMultiaddrs()[0]
  const [a, b] = await Promise.all([createNode(t, { leaderAddr }), createNode(t, { leaderAddr })])
  await Promise.all([waitForLeader(a), waitForLeader(b)])
  await reachSubscribers(leader, 'blocks', 2)

  const block = blocks[0]
  t.is(await leader.network.publishBlock(block), 2)
  await waitFor(() => a.handler.blocks.length === 1 && b.handler.blocks.length === 1, 10_000, 'both peers to validate the block')
  for (const node of [a, b]) {
    t.true(bytesEqual(node.handler.blocks[0]?.data ?? new Uint8Array(), block))
    t.is(node.handler.blocks[0]?.from, leader.network.peerId)
  }
  t.is(leader.handler.blocks.length, 0, 'a publisher does not validate its own block')
})

test.serial('a rejected block is not forwarded; an accepted one is', async t => {
  // A line A - B - C: C's only path to A's blocks is B forwarding them.
  const a = await createNode(t)
  const b = await createNode(t, { leaderAddr: a.network.getMultiaddrs()[0] })
  const c = await createNode(t, { leaderAddr: b.network.getMultiaddrs()[0] })
  await Promise.all([waitForLeader(b), waitForLeader(c)])
  await reachSubscribers(a, 'blocks', 1)
  await reachSubscribers(b, 'blocks', 2)

  const rejected = blocks[1]
  const accepted = blocks[2]
  b.handler.blockVerdict = data => bytesEqual(data, rejected) ? 'reject' : 'accept'

  t.is(await a.network.publishBlock(rejected), 1)
  await waitFor(() => b.handler.blocks.length === 1, 10_000, 'B to validate the rejected block')
  t.is(await a.network.publishBlock(accepted), 1)
  // The accepted block crossing B to C shows B forwards; the rejected one sent before it must not have.
  await waitFor(() => c.handler.blocks.length >= 1, 10_000, 'C to receive the accepted block')

  t.deepEqual(c.handler.blocks.map(r => bytesEqual(r.data, accepted)), [true])
  t.is(c.handler.blocks[0]?.from, b.network.peerId)
  t.deepEqual(b.handler.blocks.map(r => bytesEqual(r.data, rejected)), [true, false], 'B validated each block once')
})

test.serial('a handler that throws counts as ignore (not forwarded) and the node keeps validating', async t => {
  // A line leader - peer - observer: the observer hears only what the peer forwards.
  const leader = await createNode(t)
  const peer = await createNode(t, { leaderAddr: leader.network.getMultiaddrs()[0] })
  const observer = await createNode(t, { leaderAddr: peer.network.getMultiaddrs()[0] })
  await Promise.all([waitForLeader(peer), waitForLeader(observer)])
  await reachSubscribers(leader, 'blocks', 1)
  await reachSubscribers(peer, 'blocks', 2)
  let calls = 0
  peer.handler.blockVerdict = () => {
    calls++
    if (calls === 1) throw new Error('handler bug')
    return 'accept'
  }
  t.is(await leader.network.publishBlock(blocks[0]), 1)
  await waitFor(() => calls === 1, 10_000, 'the peer to validate the first block')
  t.is(await leader.network.publishBlock(blocks[1]), 1)
  await waitFor(() => observer.handler.blocks.length >= 1, 10_000, 'the observer to receive the second block')
  t.is(calls, 2)
  t.deepEqual(observer.handler.blocks.map(r => bytesEqual(r.data, blocks[1])), [true], 'the observer received the accepted block only: the ignored one was not forwarded')
})

test.serial('a lone leader publishes to nobody without an error; a peer relays messages to the leader', async t => {
  const leader = await createNode(t)
  t.is(await leader.network.publishBlock(blocks[0]), 0)
  t.is(await leader.network.publishMessage(new Uint8Array([1, 2, 3])), 0)

  const peer = await createNode(t, { leaderAddr: leader.network.getMultiaddrs()[0] })
  await waitForLeader(peer)
  t.is(peer.network.connectedPeerCount(), 1)
  // Connected and its status verified; publishing reaches the leader once its subscription has arrived.
  await reachSubscribers(peer, 'messages', 1)
  const message = new Uint8Array([4, 5, 6])
  t.is(await peer.network.publishMessage(message), 1)
  await waitFor(() => leader.handler.messages.length === 1, 10_000, 'the leader to receive the message')
  t.true(bytesEqual(leader.handler.messages[0]?.data ?? new Uint8Array(), message))
  t.is(leader.handler.messages[0]?.from, peer.network.peerId)
  // The same bytes again are a duplicate for gossipsub, not an error.
  t.is(await peer.network.publishMessage(message), 0)
})

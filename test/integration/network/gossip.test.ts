import '../../../src/shared/polyfill.js'
import test from 'ava'
import { bytesEqual } from '../../../src/shared/bytes.js'
import { BLOCKS_TOPIC, MESSAGES_TOPIC } from '../../../src/main/network/gossip.js'
import type { BlockReceivedEvent } from '../../../src/main/network/types.js'
import { waitFor } from '../../helpers/wait.js'
import { buildChain } from './memory-chain.js'
import { createNode } from './nodes.js'

const blocks = buildChain(4)

test.serial('a block published by the leader reaches both peers, whose handlers accept it', async t => {
  const leader = await createNode(t)
  const leaderAddr = leader.network.getMultiaddrs()[0]
  const [a, b] = await Promise.all([createNode(t, { leaderAddr }), createNode(t, { leaderAddr })])
  await waitFor(() => a.network.isLeaderConnected() && b.network.isLeaderConnected(), 10_000, 'both peers to see the leader')
  await waitFor(() => leader.network.topicPeerCount(BLOCKS_TOPIC) === 2, 10_000, 'both peers to subscribe')

  const received: BlockReceivedEvent[] = []
  a.network.on('block:received', e => received.push(e))
  b.network.on('block:received', e => received.push(e))
  const block = blocks[0]
  const recipients = await leader.network.publishBlock(block)
  t.is(recipients, 2)
  await waitFor(() => received.length === 2, 10_000, 'both peers to emit block:received')

  for (const node of [a, b]) {
    t.is(node.handler.blocks.length, 1)
    t.true(bytesEqual(node.handler.blocks[0]?.data ?? new Uint8Array(), block))
    t.is(node.handler.blocks[0]?.from, leader.network.peerId)
  }
  for (const event of received) {
    t.true(bytesEqual(event.data, block))
    t.is(event.from, leader.network.peerId)
    t.true(event.receivedAt > 0)
  }
  t.is(leader.handler.blocks.length, 0, 'a publisher does not validate its own block')
})

test.serial('a rejected block is neither re-propagated nor emitted; an accepted one is', async t => {
  // A line A - B - C: C's only path to A's blocks is B forwarding them.
  const a = await createNode(t)
  const b = await createNode(t, { leaderAddr: a.network.getMultiaddrs()[0] })
  const c = await createNode(t, { leaderAddr: b.network.getMultiaddrs()[0] })
  await waitFor(() => b.network.isLeaderConnected() && c.network.isLeaderConnected(), 10_000, 'the line to connect')
  await waitFor(() => b.network.topicPeerCount(BLOCKS_TOPIC) === 2, 10_000, 'B to see both subscriptions')

  const bEvents: BlockReceivedEvent[] = []
  b.network.on('block:received', e => bEvents.push(e))
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
  t.is(bEvents.length, 1)
  t.true(bytesEqual(bEvents[0]?.data ?? new Uint8Array(), accepted))
})

test.serial('a handler that throws counts as ignore and the node keeps running', async t => {
  const leader = await createNode(t)
  const peer = await createNode(t, { leaderAddr: leader.network.getMultiaddrs()[0] })
  await waitFor(() => peer.network.isLeaderConnected() && leader.network.topicPeerCount(BLOCKS_TOPIC) === 1, 10_000, 'the peer to join')
  let calls = 0
  peer.handler.blockVerdict = () => {
    calls++
    if (calls === 1) throw new Error('handler bug')
    return 'accept'
  }
  const events: BlockReceivedEvent[] = []
  peer.network.on('block:received', e => events.push(e))
  await leader.network.publishBlock(blocks[0])
  await leader.network.publishBlock(blocks[1])
  await waitFor(() => events.length === 1, 10_000, 'the second block to be accepted')
  t.true(bytesEqual(events[0]?.data ?? new Uint8Array(), blocks[1]))
})

test.serial('a lone leader publishes to nobody without an error; a peer relays messages to the leader', async t => {
  const leader = await createNode(t)
  t.is(await leader.network.publishBlock(blocks[0]), 0)
  t.is(await leader.network.publishMessage(new Uint8Array([1, 2, 3])), 0)

  const peer = await createNode(t, { leaderAddr: leader.network.getMultiaddrs()[0] })
  await waitFor(() => peer.network.isLeaderConnected(), 10_000, 'the peer to see the leader')
  t.is(peer.network.topicPeerCount(MESSAGES_TOPIC), 1)
  t.is(peer.network.connectedPeerCount(), 1)
  const message = new Uint8Array([4, 5, 6])
  t.is(await peer.network.publishMessage(message), 1)
  await waitFor(() => leader.handler.messages.length === 1, 10_000, 'the leader to receive the message')
  t.true(bytesEqual(leader.handler.messages[0]?.data ?? new Uint8Array(), message))
  t.is(leader.handler.messages[0]?.from, peer.network.peerId)
  // The same bytes again are a duplicate for gossipsub, not an error.
  t.is(await peer.network.publishMessage(message), 0)
})

import '../../../src/shared/polyfill.js'
import { setImmediate as afterTurn } from 'node:timers/promises'
import test from 'ava'
import { RPC } from '@libp2p/gossipsub/message'
import { identify } from '@libp2p/identify'
import { createLibp2p } from 'libp2p'
import { pino } from 'pino'
import { createGossipsub } from '../../../src/main/network/gossip.js'
import { LARGE_PUBLISH_BYTES, RPC_BATCH_LIMITS, RpcBatcher, installGossipRpcBatching } from '../../../src/main/network/gossip-batching.js'

const TOPIC = 'kimura/messages/1.0.0'
const silent = pino({ level: 'silent' })

const message = (fill: number, bytes = 200): RPC.Message => ({ topic: TOPIC, data: new Uint8Array(bytes).fill(fill) })
const id = (fill: number): Uint8Array => new Uint8Array(32).fill(fill)
const messagesRpc = (...messages: RPC.Message[]): RPC => ({ subscriptions: [], messages })
const control = (part: Partial<RPC.ControlMessage>): RPC.ControlMessage => ({ ihave: [], iwant: [], graft: [], prune: [], idontwant: [], ...part })
const idontwantRpc = (fill: number): RPC => ({ subscriptions: [], messages: [], control: control({ idontwant: [{ messageIDs: [id(fill)] }] }) })
const graftRpc = (): RPC => ({ subscriptions: [], messages: [], control: control({ graft: [{ topicID: TOPIC }] }) })

/** A stand-in for the gossipsub instance: its own sendRpc and sendRpcInBatch record what leaves. */
function fakeGossipsub (peers: string[]): { pubsub: { streamsOutbound: Map<string, unknown>, sendRpc: (id: string, rpc: RPC) => boolean, sendRpcInBatch: (tosend: Set<string>, rpc: RPC) => void }, sent: Array<[string, RPC]>, batches: Array<[string[], RPC]> } {
  const sent: Array<[string, RPC]> = []
  const batches: Array<[string[], RPC]> = []
  const streamsOutbound = new Map<string, unknown>(peers.map(p => [p, {}]))
  const pubsub = {
    streamsOutbound,
    sendRpc (peer: string, rpc: RPC): boolean {
      if (!streamsOutbound.has(peer)) return false
      sent.push([peer, rpc])
      return true
    },
    sendRpcInBatch (tosend: Set<string>, rpc: RPC): void { batches.push([[...tosend], rpc]) }
  }
  return { pubsub, sent, batches }
}

test('the RPCs given to one peer in one turn leave as one RPC that decodes to all of them, in order', async t => {
  const { pubsub, sent } = fakeGossipsub(['a', 'b'])
  t.true(installGossipRpcBatching(pubsub, silent))
  const first = messagesRpc(message(1), message(2))
  t.true(pubsub.sendRpc('a', first))
  t.true(pubsub.sendRpc('a', idontwantRpc(7)))
  t.true(pubsub.sendRpc('b', messagesRpc(message(3))))
  t.true(pubsub.sendRpc('a', messagesRpc(message(4))))
  t.true(pubsub.sendRpc('a', idontwantRpc(8)))
  t.is(sent.length, 0, 'nothing leaves within the turn')
  await afterTurn()
  t.deepEqual(sent.map(([peer]) => peer), ['a', 'b'], 'one RPC a peer')
  const [, merged] = sent[0] ?? []
  if (merged === undefined) return t.fail()
  const decoded = RPC.decode(RPC.encode(merged))
  t.deepEqual(decoded.messages.map(m => m.data?.[0]), [1, 2, 4], 'the Messages, in the order they were given')
  t.deepEqual(decoded.control?.idontwant.map(e => e.messageIDs.map(i => i[0])), [[7, 8]], 'the IDONTWANT ids joined into one entry')
  t.deepEqual(first.messages.map(m => m.data?.[0]), [1, 2], "the caller's RPC is not changed")
  t.is(first.control, undefined)
  t.true(pubsub.sendRpc('a', messagesRpc(message(5))))
  await afterTurn()
  t.is(sent.length, 3, 'the next turn sends again')
})

test('subscriptions, GRAFT and PRUNE are never merged, and keep their place among the other RPCs', async t => {
  const { pubsub, sent } = fakeGossipsub(['a'])
  installGossipRpcBatching(pubsub, silent)
  pubsub.sendRpc('a', messagesRpc(message(1)))
  pubsub.sendRpc('a', graftRpc())
  pubsub.sendRpc('a', messagesRpc(message(2)))
  pubsub.sendRpc('a', { subscriptions: [{ topic: TOPIC, subscribe: true }], messages: [] })
  pubsub.sendRpc('a', messagesRpc(message(3)))
  pubsub.sendRpc('a', messagesRpc(message(4)))
  await afterTurn()
  t.deepEqual(sent.map(([, rpc]) => ({
    messages: rpc.messages.map(m => m.data?.[0]),
    graft: rpc.control?.graft.length ?? 0,
    subscriptions: rpc.subscriptions.length
  })), [
    { messages: [1], graft: 0, subscriptions: 0 },
    { messages: [], graft: 1, subscriptions: 0 },
    { messages: [2], graft: 0, subscriptions: 0 },
    { messages: [], graft: 0, subscriptions: 1 },
    { messages: [3, 4], graft: 0, subscriptions: 0 }
  ])
})

test('a merged RPC stays within the size, count and id limits that receivers accept', t => {
  const sent: RPC[] = []
  const batcher = new RpcBatcher((_peer, rpc) => { sent.push(rpc) })
  const big = Math.floor(RPC_BATCH_LIMITS.maxDataBytes / 3) + 1
  for (let i = 0; i < 3; i++) batcher.add('a', messagesRpc(message(i, big)))
  for (let i = 0; i < RPC_BATCH_LIMITS.maxMessages + 10; i++) batcher.add('b', messagesRpc(message(i % 250, 10)))
  for (let i = 0; i < RPC_BATCH_LIMITS.maxIdsPerEntry + 5; i++) batcher.add('c', idontwantRpc(i % 250))
  batcher.flush()
  const counts = sent.map(rpc => rpc.messages.length)
  t.deepEqual(counts.slice(0, 2), [2, 1], 'three payloads of a third of the limit and a byte: two RPCs')
  t.deepEqual(counts.slice(2, 4), [RPC_BATCH_LIMITS.maxMessages, 10])
  const ids = sent[4]?.control?.idontwant.map(e => e.messageIDs.length)
  t.deepEqual(ids, [RPC_BATCH_LIMITS.maxIdsPerEntry, 5], 'ids split into entries of at most 512')
  for (const rpc of sent) {
    const bytes = rpc.messages.reduce((sum, m) => sum + (m.data?.byteLength ?? 0), 0)
    t.true(bytes <= RPC_BATCH_LIMITS.maxDataBytes)
    t.notThrows(() => RPC.decode(RPC.encode(rpc), { limits: { messages: 5000, control$: { idontwant$: { messageIDs: 512 } } } }))
  }
})

test('a peer without a stream is refused at once, and a large publish is still encoded once and sent at once', async t => {
  const { pubsub, sent, batches } = fakeGossipsub(['a', 'b'])
  installGossipRpcBatching(pubsub, silent)
  t.false(pubsub.sendRpc('gone', messagesRpc(message(1))), 'gossipsub counts recipients by this answer')
  const block = messagesRpc(message(9, LARGE_PUBLISH_BYTES + 1))
  pubsub.sendRpcInBatch(new Set(['a', 'b']), block)
  t.is(batches.length, 1, 'the library sends a large publish itself, now')
  t.is(batches[0]?.[1], block)
  const small = new Set(['a', 'b', 'gone'])
  pubsub.sendRpcInBatch(small, messagesRpc(message(2)))
  t.deepEqual([...small], ['a', 'b'], 'a peer with no stream is dropped from the recipients')
  t.is(batches.length, 1, 'a small publish joins the turn')
  await afterTurn()
  t.deepEqual(sent.map(([peer, rpc]) => [peer, rpc.messages.length]), [['a', 1], ['b', 1]])
})

test('an instance of another shape is left alone', t => {
  const other = { sendRpc: () => true }
  t.false(installGossipRpcBatching(other, silent))
  t.false(installGossipRpcBatching(undefined, silent))
})

test('the gossipsub service a node runs has the shape this wraps', async t => {
  const node = await createLibp2p({
    start: false,
    services: { identify: identify(), pubsub: createGossipsub({ maxBlockBytes: 1024, appScore: () => 0, publishesBlocks: false }) }
  })
  t.true(installGossipRpcBatching(node.services.pubsub, silent), 'a later @libp2p/gossipsub changed the private methods this wraps')
  await node.stop()
})

// BlockImporter on a peer: its own data dir and WorkerPool configured with the leader's public
// key. Valid blocks import (and again count as known); forged ones are refused with their
// error code and change nothing; large blocks are verified in slices across the workers.
import '../../../src/shared/polyfill.js'
import test from 'ava'
import { buildSignedBlock, GENESIS_HASH } from '../../../src/shared/block.js'
import { toHex } from '../../../src/shared/bytes.js'
import { encodeBlock, encodeMessage, spliceBlock } from '../../../src/shared/codec.js'
import { b3 } from '../../../src/shared/hash.js'
import { signDigest } from '../../../src/shared/keys.js'
import type { HashedBlock, Message } from '../../../src/shared/types.js'
import { BlockImporter, SPLIT_MIN_MESSAGES } from '../../../src/main/chain/block-importer.js'
import { VerifiedSet } from '../../../src/shared/verified-set.js'
import { BASE_TIMESTAMP, leaderKey, makeChain, makeMessages, senderKey } from '../../helpers/fixtures.js'
import { admitToPending, forgeSignature, idHex, producerFor, snapshot, startPool, type TestPool } from '../../helpers/store-fixtures.js'
import { encodeMessageBatch } from '../../helpers/message-batch.js'

/** The VerifiedSet's key for a message: B3 of its whole wire encoding, signature included. */
const keyOf = (encoded: Uint8Array): Uint8Array => b3(encoded)

interface Peer extends TestPool {
  importer: BlockImporter
}

async function startPeer (t: Parameters<typeof startPool>[0]): Promise<Peer> {
  const node = await startPool(t, { leaderKey: toHex(leaderKey.publicKey) })
  return { ...node, importer: new BlockImporter(node.pool, node.store, leaderKey.publicKey) }
}

const encoded = (built: HashedBlock): Uint8Array => encodeBlock(built.block)

/** Block 1 on genesis with `messages`, signed by the leader. */
function block1With (messages: Message[]): HashedBlock {
  return buildSignedBlock(leaderKey, { height: 1, timestamp: BASE_TIMESTAMP, prevHash: GENESIS_HASH, messages })
}

test.serial('a valid block imports with its messages; importing it again counts as known', async t => {
  const peer = await startPeer(t)
  const [block1] = makeChain(1, { messagesPerBlock: 3 })

  const result = await peer.importer.importBlocks([encoded(block1)])
  t.like(result, { imported: 1, known: 0 })
  t.is(result.error, undefined)
  t.like(result.blocks[0], { height: 1, hash: toHex(block1.hash), messageCount: 3 })
  t.is(peer.store.tip().height, 1)
  t.is(toHex(peer.store.tip().hash), toHex(block1.hash))
  t.deepEqual(peer.store.blocks.getEncoded(1), encoded(block1))
  for (const id of block1.messageIds) t.is(peer.store.messages.get(id)?.height, 1)

  const before = snapshot(peer.store, block1.block.messages)
  const again = await peer.importer.importBlocks([encoded(block1)])
  t.like(again, { imported: 0, known: 1 })
  t.is(again.error, undefined)
  t.deepEqual(snapshot(peer.store, block1.block.messages), before)
})

test.serial('consecutive blocks import in one run, in order', async t => {
  const peer = await startPeer(t)
  const chain = makeChain(3)
  const result = await peer.importer.importBlocks(chain.map(encoded))
  t.like(result, { imported: 3, known: 0 })
  t.deepEqual(result.blocks.map(b => b.height), [1, 2, 3])
  t.is(toHex(peer.store.tip().hash), toHex(chain[2].hash))
})

test.serial('imports asked for before the node halted (equivocation) but not yet run commit nothing', async t => {
  const node = await startPool(t, { leaderKey: toHex(leaderKey.publicKey) })
  let halted = false
  const importer = new BlockImporter(node.pool, node.store, leaderKey.publicKey, { halted: () => halted })
  const chain = makeChain(2)
  // Both pass the check on entry; the halt comes while they wait for their checks and turn.
  const first = importer.importBlocks([encoded(chain[0])])
  const second = importer.importBlocks([encoded(chain[1])], 'gossip')
  halted = true
  for (const result of await Promise.all([first, second])) t.like(result, { imported: 0, error: { code: 'HALTED' } })
  t.is(node.store.tip().height, 0)
  t.like(await importer.importBlocks([encoded(chain[0])]), { imported: 0, error: { code: 'HALTED' } })
  t.is(node.store.tip().height, 0)
})

interface Forgery {
  name: string
  block: () => Uint8Array
  code: string
}

const honest = block1With(makeMessages(3))
const forgeries: Forgery[] = [
  {
    name: 'signed and proposed by another key',
    block: () => encoded(buildSignedBlock(senderKey, { height: 1, timestamp: BASE_TIMESTAMP, prevHash: GENESIS_HASH, messages: makeMessages(3) })),
    code: 'BLOCK_WRONG_PROPOSER'
  },
  {
    name: 'naming the leader but signed by another key',
    block: () => encodeBlock({ ...honest.block, header: { ...honest.block.header, signature: signDigest(senderKey, honest.hash) } }),
    code: 'BLOCK_BAD_SIGNATURE'
  },
  {
    name: 'one message\'s signature flipped',
    block: () => { const m = makeMessages(3); m[1] = forgeSignature(m[1]); return encoded(block1With(m)) },
    code: 'BLOCK_INVALID_MESSAGE'
  },
  {
    name: 'a wrong prevHash',
    block: () => encoded(buildSignedBlock(leaderKey, { height: 1, timestamp: BASE_TIMESTAMP, prevHash: new Uint8Array(32).fill(9), messages: makeMessages(3) })),
    code: 'BLOCK_WRONG_PREV_HASH'
  },
  {
    name: 'a message repeated',
    block: () => { const [a, b] = makeMessages(2); return encoded(block1With([a, b, a])) },
    code: 'BLOCK_DUPLICATE_MESSAGE'
  },
  {
    name: 'a timestamp a minute ahead of the peer\'s clock',
    block: () => encoded(buildSignedBlock(leaderKey, { height: 1, timestamp: Date.now() + 60_000, prevHash: GENESIS_HASH, messages: makeMessages(3) })),
    code: 'BLOCK_TIMESTAMP_IN_FUTURE'
  },
  {
    name: 'truncated bytes',
    block: () => encoded(honest).subarray(0, 100),
    code: 'MALFORMED'
  }
]

test.serial('forged blocks are refused with their error code and the peer\'s store is unchanged', async t => {
  const peer = await startPeer(t)
  const probe = makeMessages(3)
  for (const forgery of forgeries) {
    const before = snapshot(peer.store, probe)
    const result = await peer.importer.importBlocks([forgery.block()])
    t.is(result.imported, 0, forgery.name)
    t.is(result.error?.code, forgery.code, forgery.name)
    t.deepEqual(snapshot(peer.store, probe), before, forgery.name)
  }
  t.is(peer.store.tip().height, 0)
  // The honest block still imports afterwards.
  t.like(await peer.importer.importBlocks([encoded(honest)]), { imported: 1 })
})

test.serial('a run stops at its first invalid block: the valid blocks before it are committed, nothing after it', async t => {
  const peer = await startPeer(t)
  const chain = makeChain(4)
  const forged3 = buildSignedBlock(senderKey, { height: 3, timestamp: chain[2].block.header.timestamp, prevHash: chain[1].hash, messages: chain[2].block.messages })
  const result = await peer.importer.importBlocks([encoded(chain[0]), encoded(chain[1]), encoded(forged3), encoded(chain[3])])
  t.is(result.imported, 2)
  t.like(result.error, { code: 'BLOCK_WRONG_PROPOSER' })
  t.is(peer.store.tip().height, 2)
  t.false(peer.store.blocks.has(3))
  t.false(peer.store.messages.has(chain[2].messageIds[0]))
})

test.serial('a gossiped block queued behind its parent\'s import: head() is the queued block until it is stored, then both are; a failed import makes the store the head again', async t => {
  const peer = await startPeer(t)
  const chain = makeChain(3, { messagesPerBlock: 4 })
  const tipOf = (b: HashedBlock): { height: number, hash: Uint8Array, timestamp: number } => ({ height: b.block.header.height, hash: b.hash, timestamp: b.block.header.timestamp })
  t.is(peer.importer.head().height, 0)
  const first = peer.importer.importNext(encoded(chain[0]), tipOf(chain[0]))
  // Block 2 arrives while block 1 is still being imported: it links to the head, not the store.
  t.is(peer.store.tip().height, 0)
  t.is(toHex(peer.importer.head().hash), toHex(chain[0].hash))
  const second = peer.importer.importNext(encoded(chain[1]), tipOf(chain[1]))
  t.is(peer.importer.head().height, 2)
  t.like(await first, { imported: 1 })
  t.like(await second, { imported: 1 })
  t.is(peer.store.tip().height, 2)
  t.is(toHex(peer.importer.head().hash), toHex(chain[1].hash))

  // Block 3 with a message whose signature does not verify (its id, and so the root and the
  // header signature, unchanged) fails as the head: the store (block 2) is the head again.
  const forged = { ...chain[2].block, messages: [forgeSignature(chain[2].block.messages[0]), ...chain[2].block.messages.slice(1)] }
  const failed = await peer.importer.importNext(encodeBlock(forged), tipOf(chain[2]))
  t.like(failed, { imported: 0, error: { code: 'BLOCK_INVALID_MESSAGE' } })
  t.is(peer.importer.head().height, 2)
})

test.serial('a block two heights ahead of the tip is PARENT_UNKNOWN and writes nothing', async t => {
  const peer = await startPeer(t)
  const chain = makeChain(2)
  const before = snapshot(peer.store, chain[1].block.messages)
  const result = await peer.importer.importBlocks([encoded(chain[1])])
  t.like(result, { imported: 0, error: { code: 'PARENT_UNKNOWN' } })
  t.deepEqual(snapshot(peer.store, chain[1].block.messages), before)
})

test.serial(`a block of at least SPLIT_MIN_MESSAGES (${SPLIT_MIN_MESSAGES}) messages is verified in slices on every worker and imports`, async t => {
  const peer = await startPeer(t)
  // Exactly the threshold: the split path starts at SPLIT_MIN_MESSAGES inclusive.
  const messages = makeMessages(SPLIT_MIN_MESSAGES, { contentBytes: 8 })
  const big = block1With(messages)

  const result = await peer.importer.importBlocks([encoded(big)])
  t.like(result, { imported: 1, known: 0 })
  t.is(result.error, undefined)
  t.deepEqual(peer.tasks.filter(task => task === 'verifyMessages').length, peer.pool.threads, 'one verifyMessages slice per worker')
  t.is(peer.tasks.at(-1), 'importBlocks')
  t.is(peer.store.tip().height, 1)
  t.is(peer.store.messages.get(big.messageIds[SPLIT_MIN_MESSAGES - 1])?.height, 1)
})

test.serial('full blocks (1,000 messages of 256 bytes, far over lmdb-js 32 KiB copy limit) import one after another through the split path', async t => {
  const peer = await startPeer(t)
  // Shared memory must never reach LMDB: large values are written from their address.
  const chain = makeChain(3, { messagesPerBlock: 1000, contentBytes: 256 })
  for (const block of chain) {
    const result = await peer.importer.importBlocks([encoded(block)])
    t.like(result, { imported: 1, known: 0 })
  }
  t.is(peer.store.tip().height, 3)
  t.deepEqual(peer.store.blocks.getEncoded(3), encoded(chain[2]))
  const stored = peer.store.messages.get(chain[2].messageIds[999])
  t.is(stored?.height, 3)
  t.is(peer.tasks.filter(task => task === 'verifyMessages').length, 3 * peer.pool.threads)
})

test.serial('a block below SPLIT_MIN_MESSAGES is verified by the import task alone', async t => {
  const peer = await startPeer(t)
  const result = await peer.importer.importBlocks([encoded(block1With(makeMessages(SPLIT_MIN_MESSAGES - 1, { contentBytes: 8 })))])
  t.like(result, { imported: 1 })
  t.deepEqual(peer.tasks, ['importBlocks'])
})

test.serial('one bad signature among 500 messages rejects the block with BLOCK_INVALID_MESSAGE', async t => {
  const peer = await startPeer(t)
  const messages = makeMessages(500, { contentBytes: 8 })
  messages[377] = forgeSignature(messages[377])
  const before = snapshot(peer.store, messages)

  const result = await peer.importer.importBlocks([encoded(block1With(messages))])
  t.like(result, { imported: 0, error: { code: 'BLOCK_INVALID_MESSAGE' } })
  t.regex(result.error?.reason ?? '', /message 377\b/)
  t.true(peer.tasks.includes('verifyMessages'), 'went through the split path')
  t.deepEqual(snapshot(peer.store, messages), before)
})

/** A Message encoded with its sender and signature in bin 16 (`form` 16) or bin 32: valid MessagePack the strict decoder accepts, though no encoder here writes it. */
function wideEncoding (m: Message, form: 16 | 32): Uint8Array {
  const bin = (data: Uint8Array): number[] => form === 16 ? [0xc5, 0, data.byteLength, ...data] : [0xc6, 0, 0, 0, data.byteLength, ...data]
  const minimal = encodeMessage(m)
  // The minimal encoding's middle (timestamp, nonce, content) lies between its bin 8 sender and signature.
  const middle = minimal.subarray(1 + 2 + 32, minimal.byteLength - 2 - 64)
  return Uint8Array.from([0x95, ...bin(m.sender), ...middle, ...bin(m.signature)])
}

test.serial('the slices find sender and signature in every bin form the strict decoder accepts (bin 8, 16, 32), and still refuse a bad signature in a wide one', async t => {
  const peer = await startPeer(t)
  const messages = makeMessages(SPLIT_MIN_MESSAGES, { contentBytes: 8, nonceStart: 3000 })
  const wide = new Map([[0, 16], [1, 32], [SPLIT_MIN_MESSAGES - 1, 16]] as const)
  const spliced = (list: Message[]): Uint8Array => {
    const built = block1With(list)
    return spliceBlock(built.block.header, list.map((m, i) => { const form = wide.get(i); return form === undefined ? encodeMessage(m) : wideEncoding(m, form) })).encoded
  }
  const forged = [...messages]
  forged[1] = forgeSignature(forged[1])
  const refused = await peer.importer.importBlocks([spliced(forged)])
  t.like(refused, { imported: 0, error: { code: 'BLOCK_INVALID_MESSAGE' } })
  t.regex(refused.error?.reason ?? '', /message 1\b/)
  t.true(peer.tasks.includes('verifyMessages'), 'went through the split path')

  const accepted = await peer.importer.importBlocks([spliced(messages)])
  t.like(accepted, { imported: 1, known: 0 })
  t.is(peer.store.messages.get(block1With(messages).messageIds[1])?.height, 1)
})

test.serial('a large block that repeats a message is refused with BLOCK_DUPLICATE_MESSAGE before any message signature is checked', async t => {
  const peer = await startPeer(t)
  const messages = makeMessages(300, { contentBytes: 8 })
  messages[250] = messages[10]
  const result = await peer.importer.importBlocks([encoded(block1With(messages))])
  t.like(result, { imported: 0, error: { code: 'BLOCK_DUPLICATE_MESSAGE' } })
  t.deepEqual(peer.tasks, ['hashBlock'], 'only the hashing step ran: no verifyMessages slice, no import task')
  t.is(peer.store.tip().height, 0)
})

test.serial('a large block imported again once stored counts as known, as when gossip and sync bring it at once; one repeating a message of the chain is still refused', async t => {
  const peer = await startPeer(t)
  const large = block1With(makeMessages(300, { contentBytes: 8 }))
  t.like(await peer.importer.importBlocks([encoded(large)], 'gossip'), { imported: 1, known: 0 })
  // Sync fetched the same block while gossip imported it: its checks run after the commit.
  const again = await peer.importer.importBlocks([encoded(large)], 'sync')
  t.like(again, { imported: 0, known: 1 })
  t.is(again.error, undefined)

  const messages = makeMessages(300, { contentBytes: 8, nonceStart: 1000 })
  messages[200] = large.block.messages[5]
  const block2 = buildSignedBlock(leaderKey, { height: 2, timestamp: BASE_TIMESTAMP + 1, prevHash: large.hash, messages })
  const before = snapshot(peer.store, messages)
  const refused = await peer.importer.importBlocks([encoded(block2)])
  t.like(refused, { imported: 0, error: { code: 'BLOCK_DUPLICATE_MESSAGE' } })
  t.regex(refused.error?.reason ?? '', /message 200 is already in the chain/)
  t.deepEqual(snapshot(peer.store, messages), before)
  t.is(peer.store.tip().height, 1)
})

test.serial('a large block whose header signature does not verify costs no pool task at all', async t => {
  const peer = await startPeer(t)
  const big = block1With(makeMessages(1000, { contentBytes: 8 }))
  const forged = encodeBlock({ ...big.block, header: { ...big.block.header, signature: signDigest(senderKey, big.hash) } })
  const result = await peer.importer.importBlocks([forged])
  t.like(result, { imported: 0, error: { code: 'BLOCK_BAD_SIGNATURE' } })
  t.deepEqual(peer.tasks, [])
  t.is(peer.store.tip().height, 0)
})

test.serial('a block built by the leader\'s producer imports into a peer', async t => {
  const leader = await startPool(t)
  const producer = producerFor(t, leader.dataDir)
  await producer.start()
  const messages = makeMessages(4, { nonceStart: 40 })
  t.like(await admitToPending(leader.pool, producer, encodeMessageBatch(messages)), { ok: true, added: 4 })
  const built = await producer.buildBlock(Date.now(), 100)
  if (!built.ok) { t.fail(`${built.code}: ${built.reason}`); return }
  // Committed on the producer's thread: renew this thread's snapshot, as the node does.
  leader.store.refresh()

  const peer = await startPeer(t)
  const result = await peer.importer.importBlocks([new Uint8Array(built.block)], 'gossip')
  t.like(result, { imported: 1, known: 0 })
  t.is(toHex(peer.store.tip().hash), built.hash)
  for (const m of messages) t.like(snapshot(peer.store, [m]).probes, { [idHex(m)]: 1 })
  t.deepEqual(peer.store.blocks.getEncoded(1), leader.store.blocks.getEncoded(1))
})

test.serial('a peer remembers the messages it verified when gossiped, by their whole encoding, and still refuses a block that carries one of their ids with a bad signature', async t => {
  const verifiedSet = VerifiedSet.create(1 << 16)
  const node = await startPool(t, { leaderKey: toHex(leaderKey.publicKey), verifiedSet })
  const peer = { ...node, importer: new BlockImporter(node.pool, node.store, leaderKey.publicKey) }
  const messages = makeMessages(300, { contentBytes: 8 })
  const gossiped = await peer.pool.admitMessages(encodeMessageBatch(messages), { mode: 'each' })
  t.like(gossiped, { ok: true, rejected: [] })
  const set = new VerifiedSet(verifiedSet)
  // A cache: two keys may share a slot, so a few may be lost; nearly all are there.
  const remembered = messages.filter(m => set.has(keyOf(encodeMessage(m)))).length
  t.true(remembered >= 295, `${remembered} of 300 gossiped messages are in the shared table`)

  // The same id, another signature: not the encoding that was verified, so it is checked, and refused.
  const forged = [...messages]
  forged[123] = forgeSignature(forged[123])
  t.like(await peer.importer.importBlocks([encoded(block1With(forged))]), { imported: 0, error: { code: 'BLOCK_INVALID_MESSAGE' } })
  const small = [...messages.slice(0, 5)]
  small[2] = forgeSignature(small[2])
  t.like(await peer.importer.importBlocks([encoded(block1With(small))]), { imported: 0, error: { code: 'BLOCK_INVALID_MESSAGE' } }, 'also on the whole-block path')
  t.like(await peer.importer.importBlocks([encoded(block1With(messages))]), { imported: 1 })
})

test.serial('a peer remembers the messages it verified inside a block, so a copy relayed after its block is not checked again, while another signature still is', async t => {
  const verifiedSet = VerifiedSet.create(1 << 16)
  const node = await startPool(t, { leaderKey: toHex(leaderKey.publicKey), verifiedSet })
  const peer = { ...node, importer: new BlockImporter(node.pool, node.store, leaderKey.publicKey) }
  const messages = makeMessages(300, { contentBytes: 8, nonceStart: 7000 })
  t.like(await peer.importer.importBlocks([encoded(block1With(messages))]), { imported: 1 })
  const set = new VerifiedSet(verifiedSet)
  const remembered = messages.filter(m => set.has(keyOf(encodeMessage(m)))).length
  t.true(remembered >= 295, `${remembered} of 300 messages verified in the block (checked in slices) are in the shared table`)
  // A small block is validated whole by the import task: its messages are recorded too.
  const small = makeMessages(5, { contentBytes: 8, nonceStart: 8000 })
  const block2 = buildSignedBlock(leaderKey, { height: 2, timestamp: BASE_TIMESTAMP + 1, prevHash: node.store.tip().hash, messages: small })
  t.like(await peer.importer.importBlocks([encoded(block2)]), { imported: 1 })
  t.is(small.filter(m => set.has(keyOf(encodeMessage(m)))).length, 5)

  const copies = await peer.pool.admitMessages(encodeMessageBatch(messages.slice(0, 3)), { mode: 'each' })
  t.like(copies, { ok: true, rejected: [] })
  const forged = await peer.pool.admitMessages(encodeMessageBatch([forgeSignature(messages[0])]), { mode: 'each' })
  if (!forged.ok) { t.fail(`${forged.code}: ${forged.reason}`); return }
  t.is(forged.rejected[0]?.code, 'MESSAGE_BAD_SIGNATURE')
})

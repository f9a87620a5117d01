// The producer worker behind ProducerClient (comlink): it appends verified messages to
// `pending` (group-committed), builds the next block from the oldest pending messages, commits
// it, and hands back the encoded block; it refuses to start with a key that is not the
// configured leader key.
import '../../../src/shared/polyfill.js'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import test from 'ava'
import { GENESIS_HASH } from '../../../src/shared/block.js'
import { toHex } from '../../../src/shared/bytes.js'
import { decodeBlock } from '../../../src/shared/codec.js'
import { KimuraError } from '../../../src/shared/errors.js'
import { merkleRoot } from '../../../src/shared/hash.js'
import { DEFAULT_PARAMS } from '../../../src/shared/params.js'
import type { ChainStore } from '../../../src/shared/store/index.js'
import type { BuildBlockOutput } from '../../../src/shared/thread-contract.js'
import type { Block } from '../../../src/shared/types.js'
import { validateBlock, type ParentInfo } from '../../../src/shared/validation.js'
import { ProducerClient } from '../../../src/main/producer/producer-client.js'
import { hex, leaderKey, makeMessages, SENDER_SEED } from '../../helpers/fixtures.js'
import { admitToPending, idHex, openStore, producerFor, snapshot, startPool } from '../../helpers/store-fixtures.js'
import { encodeMessageBatch } from '../../helpers/message-batch.js'

type Built = Extract<BuildBlockOutput, { ok: true }>

function built (t: { fail: (m: string) => void }, output: BuildBlockOutput): Built | undefined {
  if (output.ok) return output
  t.fail(`expected a block, got ${output.code}: ${output.reason}`)
  return undefined
}

/** Decodes the returned bytes and checks every rule of SPEC 3 against `parent`, as a peer would. */
function decodeAndValidate (t: { fail: (m: string) => void }, out: Built, parent: ParentInfo, store: ChainStore): Block | undefined {
  // The producer committed on its own thread: this thread sees it after renewing its snapshot,
  // as the node does after every build (lmdb-js otherwise renews it on a timer).
  store.refresh()
  const bytes = new Uint8Array(out.block)
  const decoded = decodeBlock(bytes)
  if (!decoded.ok) { t.fail(`the block does not decode: ${decoded.reason}`); return undefined }
  const verdict = validateBlock(decoded.value, bytes.byteLength, parent, { params: DEFAULT_PARAMS, leaderKey: leaderKey.publicKey, now: Date.now() }, () => false)
  if (!verdict.ok) { t.fail(`the block is invalid: ${verdict.code} ${verdict.reason}`); return undefined }
  if (toHex(verdict.value.hash) !== out.hash) t.fail('the returned hash is not the block hash')
  if (toHex(store.blocks.getEncoded(out.height) ?? new Uint8Array(0)) !== toHex(bytes)) t.fail('the stored block differs from the returned bytes')
  return decoded.value
}

test.serial('buildBlock takes the oldest pending messages, at most maxMessages, commits the block and returns it', async t => {
  const leader = await startPool(t)
  const producer = producerFor(t, leader.dataDir)
  await producer.start()
  const messages = makeMessages(5).reverse()
  t.like(await admitToPending(leader.pool, producer, encodeMessageBatch(messages)), { ok: true, added: 5 })

  const first = built(t, await producer.buildBlock(Date.now(), 3))
  t.like(first, { ok: true, height: 1, messageCount: 3 })
  if (first === undefined) return
  const block1 = decodeAndValidate(t, first, { height: 0, hash: GENESIS_HASH, timestamp: 0 }, leader.store)
  t.deepEqual(block1?.messages.map(idHex), messages.slice(0, 3).map(idHex), 'oldest first, in arrival order')

  t.is(leader.store.tip().height, 1)
  t.is(toHex(leader.store.tip().hash), first.hash)
  t.is(leader.store.pending.count(), 2)
  t.deepEqual(leader.store.pending.takeOldest(10).map(e => toHex(e.id)), messages.slice(3).map(idHex))
  for (const m of messages.slice(0, 3)) t.like(snapshot(leader.store, [m]).probes, { [idHex(m)]: 1 })

  const second = built(t, await producer.buildBlock(Date.now(), 100))
  t.like(second, { ok: true, height: 2, messageCount: 2 })
  if (second === undefined) return
  const block2 = decodeAndValidate(t, second, { height: 1, hash: hex(first.hash), timestamp: first.timestamp }, leader.store)
  t.deepEqual(block2?.messages.map(idHex), messages.slice(3).map(idHex))
  t.is(leader.store.pending.count(), 0)
  t.is(leader.store.tip().height, 2)
})

test.serial('with nothing pending, buildBlock makes a valid empty block', async t => {
  const leader = await startPool(t)
  const producer = producerFor(t, leader.dataDir)
  await producer.start()

  const out = built(t, await producer.buildBlock(Date.now(), 100))
  t.like(out, { ok: true, height: 1, messageCount: 0 })
  if (out === undefined) return
  const block = decodeAndValidate(t, out, { height: 0, hash: GENESIS_HASH, timestamp: 0 }, leader.store)
  t.deepEqual(block?.messages, [])
  t.deepEqual(block?.header.messageRoot, merkleRoot([]))
  t.is(leader.store.tip().height, 1)
})

test.serial('a clock that stepped back never dates a block before its parent', async t => {
  const leader = await startPool(t)
  const producer = producerFor(t, leader.dataDir)
  await producer.start()
  const now = Date.now()
  const first = built(t, await producer.buildBlock(now, 10))
  const second = built(t, await producer.buildBlock(now - 60_000, 10))
  t.is(first?.timestamp, now)
  t.is(second?.timestamp, now)
  if (first === undefined || second === undefined) return
  decodeAndValidate(t, second, { height: 1, hash: hex(first.hash), timestamp: first.timestamp }, leader.store)
})

/** Builds one block and keeps only a weak reference to its bytes, so that nothing here holds them. */
async function buildAndDrop (producer: ProducerClient): Promise<WeakRef<ArrayBuffer> | undefined> {
  const out = await producer.buildBlock(Date.now(), 50)
  return out.ok ? new WeakRef(out.block) : undefined
}

test.serial('the client keeps no block it returned: once the caller drops one, the collector frees it', async t => {
  // A leader builds a block every interval for months; each one kept (about 1 MB at saturation)
  // was the leak the soak found.
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  const leader = await startPool(t)
  const producer = producerFor(t, leader.dataDir)
  await producer.start()
  t.like(await admitToPending(leader.pool, producer, encodeMessageBatch(makeMessages(100))), { ok: true, added: 100 })
  const refs = [await buildAndDrop(producer), await buildAndDrop(producer)]
  t.true(refs.every(ref => ref !== undefined), 'both builds gave a block')
  // A WeakRef holds its target until the current job ends: collect on a later turn.
  await new Promise(resolve => setImmediate(resolve))
  gc()
  t.deepEqual(refs.map(ref => ref?.deref() === undefined), [true, true], 'a returned block is still reachable after the caller dropped it')
})

test.serial('start() rejects when the key file holds another key than the configured leader key', async t => {
  const leader = await startPool(t)
  const producer = producerFor(t, leader.dataDir, SENDER_SEED)
  const before = snapshot(leader.store)

  await t.throwsAsync(producer.start(), { instanceOf: KimuraError, code: 'ERR_KEY_FILE' })
  await t.throwsAsync(producer.buildBlock(Date.now(), 10), { instanceOf: KimuraError, code: 'ERR_POOL_STOPPED' }, 'the producer is stopped')
  t.deepEqual(snapshot(leader.store), before)
})

test.serial('start() rejects when the key file cannot be read', async t => {
  const leader = await startPool(t)
  const producer = new ProducerClient({ dataDir: leader.dataDir, params: DEFAULT_PARAMS, leaderKey: toHex(leaderKey.publicKey), keyFile: join(leader.dataDir, 'missing.key'), maxPending: 10, nice: 0 })
  t.teardown(async () => { await producer.stop() })
  await t.throwsAsync(producer.start(), { instanceOf: KimuraError })
  await t.throwsAsync(producer.buildBlock(Date.now(), 10), { instanceOf: KimuraError, code: 'ERR_POOL_STOPPED' })
})

test.serial('appends that arrive together are each admitted or refused on their own: one over --max-pending is refused whole, the others written', async t => {
  const leader = await startPool(t)
  const producer = producerFor(t, leader.dataDir, undefined, undefined, 25)
  await producer.start()
  const batches = [makeMessages(10, { nonceStart: 0 }), makeMessages(10, { nonceStart: 100 }), makeMessages(10, { nonceStart: 200 }), makeMessages(5, { nonceStart: 300 })]
  const verified = await Promise.all(batches.map(async b => await leader.pool.admitMessages(encodeMessageBatch(b))))
  // All four reach the producer at once, and the second repeats the first's messages.
  const replay = await leader.pool.admitMessages(encodeMessageBatch(batches[0]))
  const outputs = await Promise.all([verified[0], replay, verified[1], verified[2], verified[3]].map(async v => {
    if (!v.ok) throw new Error(v.reason)
    return await producer.appendPending(v.verified)
  }))
  t.deepEqual(outputs.map(o => o.ok ? o.added : o.code), [10, 0, 10, 'POOL_FULL', 5])
  leader.store.refresh()
  t.deepEqual(leader.store.pending.takeOldest(100).map(e => toHex(e.id)), [...batches[0], ...batches[1], ...batches[3]].map(idHex), 'arrival order, the refused batch absent')
})

test.serial('stop() lets the appends in flight commit: each answered one is in `pending` after a reopen', async t => {
  const leader = await startPool(t)
  const producer = producerFor(t, leader.dataDir)
  await producer.start()
  const batches = Array.from({ length: 6 }, (_, i) => makeMessages(50, { nonceStart: i * 50 }))
  const verified = await Promise.all(batches.map(async b => await leader.pool.admitMessages(encodeMessageBatch(b))))
  const appends = verified.map(async v => {
    if (!v.ok) throw new Error(v.reason)
    return await producer.appendPending(v.verified)
  })
  await producer.stop()
  const outputs = await Promise.all(appends)
  t.deepEqual(outputs, Array(6).fill({ ok: true, added: 50 }))
  await leader.pool.stop()
  await leader.store.stop()
  const reopened = openStore(t, leader.dataDir)
  t.is(reopened.pending.count(), 300)
})

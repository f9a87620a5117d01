// Block renders and proof trees through real pool workers: each stored block is rendered once
// (blocks never change), concurrent asks share one task, a block not stored yet is not
// remembered as missing, and reads beyond MAX_QUEUED_READS are refused instead of queued. The
// cache itself (ByteCache): least recently used first, bounded in bytes.
import '../../../src/shared/polyfill.js'
import test from 'ava'
import { errorCode } from '../../../src/shared/errors.js'
import { blockToJson } from '../../../src/shared/json.js'
import { auditPath, merkleTreeRoot } from '../../../src/shared/merkle-proof.js'
import { toHex } from '../../../src/shared/bytes.js'
import { ByteCache } from '../../../src/main/pool/render-cache.js'
import { MAX_QUEUED_READS } from '../../../src/main/pool/worker-pool.js'
import { makeChain } from '../../helpers/fixtures.js'
import { commitOf, startPool } from '../../helpers/store-fixtures.js'
import { MerkleTree } from '../client/audit-path.js'

test.serial('a stored block is rendered once per form; a missing one is asked again once stored', async t => {
  const { pool, store, tasks } = await startPool(t)
  const chain = makeChain(3, { messagesPerBlock: 5 })
  store.commitBlock(commitOf(chain[0]))
  const renders = (): number => tasks.filter(name => name === 'renderBlock').length

  const [a, b] = await Promise.all([pool.renderBlock({ height: 1, withMessages: false }), pool.renderBlock({ height: 1, withMessages: false })])
  t.is(a.json, JSON.stringify(blockToJson(chain[0].block, false)))
  t.is(b.json, a.json)
  t.is(renders(), 1, 'two concurrent asks, one task')
  t.is((await pool.renderBlock({ height: 1, withMessages: false })).json, a.json)
  t.is(renders(), 1, 'then from the cache')
  t.is((await pool.renderBlock({ height: 1, withMessages: true })).json, JSON.stringify(blockToJson(chain[0].block, true)))
  t.is(renders(), 2, 'the form with messages is its own entry')

  t.is((await pool.renderBlock({ height: 2, withMessages: false })).json, null)
  store.commitBlock(commitOf(chain[1]))
  t.is((await pool.renderBlock({ height: 2, withMessages: false })).json, JSON.stringify(blockToJson(chain[1].block, false)), 'not remembered as missing')
})

test.serial('a block\'s tree: its root is the header\'s, its paths RFC 9162\'s; built once', async t => {
  const { pool, store, tasks } = await startPool(t)
  const [built] = makeChain(1, { messagesPerBlock: 13 })
  store.commitBlock(commitOf(built))
  const tree = await pool.messageTree(1)
  if (tree === null) throw new Error('no tree')
  t.is(tree.count, 13)
  t.is(toHex(merkleTreeRoot(tree)), toHex(built.block.header.messageRoot))
  t.is(tree.messageRoot, toHex(built.block.header.messageRoot))
  t.is(tree.blockHash, toHex(built.hash))
  const reference = new MerkleTree(built.messageIds)
  for (let i = 0; i < 13; i++) t.deepEqual(auditPath(tree, i).map(toHex), reference.path(i).map(toHex))
  await pool.messageTree(1)
  t.is(tasks.filter(name => name === 'messageTree').length, 1)
  t.is(await pool.messageTree(5), null)
})

test.serial(`reads beyond ${MAX_QUEUED_READS} waiting are refused with ERR_POOL_OVERLOADED; cached ones always answer`, async t => {
  const { pool, store } = await startPool(t)
  const chain = makeChain(3, { messagesPerBlock: 2 })
  for (const built of chain) store.commitBlock(commitOf(built))
  await pool.renderBlock({ height: 1, withMessages: false })
  // Distinct misses (heights not stored yet are never cached), all at once.
  const outcomes = await Promise.allSettled(Array.from({ length: MAX_QUEUED_READS + 40 }, async (_, i) => await pool.renderBlock({ height: 100 + i, withMessages: false })))
  const refused = outcomes.filter(o => o.status === 'rejected')
  t.true(refused.length >= 40, `${refused.length} refused`)
  t.true(refused.every(o => o.status === 'rejected' && errorCode(o.reason) === 'ERR_POOL_OVERLOADED'))
  t.true(outcomes.filter(o => o.status === 'fulfilled').length <= MAX_QUEUED_READS)
  t.not((await pool.renderBlock({ height: 1, withMessages: false })).json, null, 'a cached block still answers')
})

test('ByteCache: bounded in bytes, least recently used out first; an oversized value is not kept', async t => {
  const cache = new ByteCache<string>({ maxBytes: 10, maxEntryBytes: 6 }, v => v.length)
  cache.set('a', 'aaaa')
  cache.set('b', 'bbbb')
  t.is(cache.get('a'), 'aaaa')
  cache.set('c', 'cccc')
  t.is(cache.get('b'), undefined, 'b was the least recently used')
  t.is(cache.get('a'), 'aaaa')
  t.true(cache.totalBytes <= 10)
  cache.set('d', 'ddddddd')
  t.is(cache.get('d'), undefined)
  let calls = 0
  const compute = async (): Promise<string> => { calls++; return await Promise.resolve('x') }
  await Promise.all([cache.getOrCompute('e', compute), cache.getOrCompute('e', compute)])
  t.is(calls, 1)
  await cache.getOrCompute('f', compute, () => false)
  await cache.getOrCompute('f', compute, () => false)
  t.is(calls, 3, 'a value refused by keep() is computed again')
})

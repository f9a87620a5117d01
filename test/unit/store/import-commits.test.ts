// A run of blocks (a sync response) is stored in transactions of whole blocks, at most
// MAX_MESSAGES_PER_COMMIT messages and MAX_BYTES_PER_COMMIT bytes each: LMDB keeps every page a
// transaction dirtied until the store closes, so the largest transaction sets the node's
// memory. What the caller learns is the same.
import '../../../src/shared/polyfill.js'
import test from 'ava'
import { encodeBlock } from '../../../src/shared/codec.js'
import { messageId } from '../../../src/shared/hash.js'
import { DEFAULT_PARAMS } from '../../../src/shared/params.js'
import { KimuraError } from '../../../src/shared/errors.js'
import type { BlockCommit } from '../../../src/shared/store/index.js'
import { importBlocks, MAX_BYTES_PER_COMMIT, MAX_MESSAGES_PER_COMMIT } from '../../../src/workers/import-blocks.js'
import { leaderKey, makeChain } from '../../helpers/fixtures.js'
import { openStore } from '../../helpers/store-fixtures.js'

const rules = { params: DEFAULT_PARAMS, leaderKey: leaderKey.publicKey, now: Date.now() }
const PER_BLOCK = 3_000

/** The messages of each commitBlocks call on `store`, block by block. */
function recordCommits (store: ReturnType<typeof openStore>): number[][] {
  const calls: number[][] = []
  const commitBlocks = store.commitBlocks.bind(store)
  store.commitBlocks = (commits: readonly BlockCommit[]): void => {
    calls.push(commits.map(c => c.messageIds.length))
    commitBlocks(commits)
  }
  return calls
}

test('a sync run of more messages than one commit takes is stored in whole blocks of at most that many, in order', t => {
  const chain = makeChain(7, { messagesPerBlock: PER_BLOCK })
  const store = openStore(t)
  const calls = recordCommits(store)
  const blocks = chain.map(b => encodeBlock(b.block))
  // Block 1 stored before: the run starts with a known block, skipped.
  t.is(importBlocks(store, { blocks: blocks.slice(0, 1), checked: [null], rules }).imported.length, 1)
  calls.length = 0
  const output = importBlocks(store, { blocks, checked: blocks.map(() => null), rules })
  t.is(output.error, undefined)
  t.is(output.known, 1)
  t.deepEqual(output.imported.map(b => b.height), [2, 3, 4, 5, 6, 7])
  // Whole blocks, as many as fit: 6 blocks of 3,000 under a bound of 10,000 are two parts of 3.
  const perPart = Math.floor(MAX_MESSAGES_PER_COMMIT / PER_BLOCK)
  const expected: number[][] = []
  for (let left = 6; left > 0; left -= perPart) expected.push(new Array<number>(Math.min(perPart, left)).fill(PER_BLOCK))
  t.deepEqual(calls, expected)
  t.is(store.tip().height, 7)
  for (const { block } of chain) {
    for (const m of [block.messages[0], block.messages[PER_BLOCK - 1]]) t.is(store.message(messageId(m))?.height, block.header.height)
  }
})

test('a part also holds at most 4 MiB of blocks', t => {
  // Blocks of about 1.6 MB: two to a part.
  const chain = makeChain(5, { messagesPerBlock: 400, contentBytes: 4_000 })
  const store = openStore(t)
  const calls = recordCommits(store)
  const blocks = chain.map(b => encodeBlock(b.block))
  t.true(blocks.every(b => b.byteLength > MAX_BYTES_PER_COMMIT / 3 && 2 * b.byteLength <= MAX_BYTES_PER_COMMIT))
  t.deepEqual(importBlocks(store, { blocks, checked: blocks.map(() => null), rules }).imported.map(b => b.height), [1, 2, 3, 4, 5])
  t.deepEqual(calls, [[400, 400], [400, 400], [400]])
})

test('a part that cannot be stored leaves the parts before it stored, and says which block failed', t => {
  const chain = makeChain(6, { messagesPerBlock: PER_BLOCK })
  const store = openStore(t)
  const blocks = chain.map(b => encodeBlock(b.block))
  const commitBlocks = store.commitBlocks.bind(store)
  let calls = 0
  store.commitBlocks = (commits: readonly BlockCommit[]): void => {
    if (++calls === 2) throw new KimuraError('ERR_STORAGE_FULL', 'no room (test)')
    commitBlocks(commits)
  }
  const output = importBlocks(store, { blocks, checked: blocks.map(() => null), rules })
  const firstPart = Math.floor(MAX_MESSAGES_PER_COMMIT / PER_BLOCK)
  t.deepEqual(output.imported.map(b => b.height), chain.slice(0, firstPart).map(b => b.block.header.height))
  t.deepEqual(output.error && { index: output.error.index, code: output.error.code }, { index: firstPart, code: 'STORAGE_FULL' })
  t.is(output.tipHeight, firstPart)
  t.is(store.tip().height, firstPart)
})

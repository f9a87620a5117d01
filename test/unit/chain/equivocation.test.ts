// The equivocation guard on a refused chain link: a leader-signed block whose prevHash is not
// this node's block below it is evidence (the leader signed two blocks at the parent's height);
// a block signed by anyone else, one that links correctly, or one with no stored parent is not.
import '../../../src/shared/polyfill.js'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { pino } from 'pino'
import { toHex } from '../../../src/shared/bytes.js'
import { encodeBlock } from '../../../src/shared/codec.js'
import { signingKeyFromSeed } from '../../../src/shared/keys.js'
import type { HashedBlock } from '../../../src/shared/types.js'
import { EquivocationGuard, EVIDENCE_FILE } from '../../../src/main/chain/equivocation.js'
import { BASE_TIMESTAMP, leaderKey, makeChain } from '../../helpers/fixtures.js'
import { tempDir } from '../../helpers/temp-dir.js'

/** A guard over a node that stores `stored` (heights 1..n); counts equivocations and halts. */
function guardOver (t: Parameters<typeof tempDir>[0], stored: readonly HashedBlock[]): { guard: EquivocationGuard, dataDir: string, counted: () => number, halts: () => number } {
  const dataDir = tempDir(t)
  let counted = 0
  let halts = 0
  const guard = new EquivocationGuard(dataDir, {
    storedHeader: height => stored[height - 1]?.block.header,
    leaderKey: leaderKey.publicKey,
    logger: pino({ level: 'silent' }),
    onEquivocation: () => { counted++ },
    onHalt: () => { halts++ }
  })
  return { guard, dataDir, counted: () => counted, halts: () => halts }
}

const ours = makeChain(3)
// The leader's other chain: different timestamps, so every block differs from height 1 on.
const theirs = makeChain(4, { timestamp: BASE_TIMESTAMP + 7_000 })

test('a leader-signed block refused for its parent is kept as evidence at the parent\'s height, counted once, and halts the node', t => {
  const { guard, dataDir, counted, halts } = guardOver(t, ours)
  const block = encodeBlock(theirs[3].block)
  t.true(guard.checkRefusedLink(block, 'a block received by sync'))
  t.true(guard.halted)
  t.is(counted(), 1)
  t.is(halts(), 1)
  const path = join(dataDir, EVIDENCE_FILE)
  t.true(existsSync(path))
  const evidence = JSON.parse(readFileSync(path, 'utf8')) as { height: number, source: string, ours: { hash: string }, theirs: { hash: string, block: string } }
  t.is(evidence.height, 3)
  t.is(evidence.ours.hash, toHex(ours[2].hash))
  t.is(evidence.theirs.hash, toHex(theirs[3].hash))
  t.is(evidence.theirs.block, toHex(block))
  t.is(evidence.source, 'a block received by sync')
})

test('a refused block signed by another key, one that links to our block, one with no stored parent and bytes that do not decode are not evidence', t => {
  const { guard, dataDir, counted } = guardOver(t, ours)
  const forged = makeChain(4, { key: signingKeyFromSeed(new Uint8Array(32).fill(0x09)), timestamp: BASE_TIMESTAMP + 7_000 })
  t.false(guard.checkRefusedLink(encodeBlock(forged[3].block), 'sync'))
  // Our own chain's next block links to our tip.
  t.false(guard.checkRefusedLink(encodeBlock(makeChain(4)[3].block), 'sync'))
  // Height 6: its parent (5) is not stored here, so there is nothing to compare it with.
  t.false(guard.checkRefusedLink(encodeBlock(makeChain(6, { timestamp: BASE_TIMESTAMP + 7_000 })[5].block), 'sync'))
  t.false(guard.checkRefusedLink(new Uint8Array([0x93, 0x01]), 'sync'))
  t.false(guard.halted)
  t.is(counted(), 0)
  t.false(existsSync(join(dataDir, EVIDENCE_FILE)))
})

test('a leader-signed status tip above this node\'s tip is checked once the tip reaches it; our own block there is no evidence', t => {
  const { guard, counted, halts } = guardOver(t, ours)
  // A peer on our chain, ahead of us: its tip is our block at height 3 once we hold it.
  guard.checkStatusTip(ours[2].block.header, ours[2].hash, 'the status of a peer on our chain', 1)
  // A peer on the other chain, ahead of us when it connected (it may stop there, as a halted copy does).
  guard.checkStatusTip(theirs[2].block.header, theirs[2].hash, 'the status of the copy', 1)
  guard.tipAdvanced(2)
  t.is(counted(), 0, 'nothing to compare below height 3 yet')
  guard.tipAdvanced(3)
  t.is(counted(), 1, 'the copy\'s tip at height 3 is another leader-signed block than ours')
  t.true(guard.halted)
  t.is(halts(), 1)
  guard.tipAdvanced(4)
  t.is(counted(), 1, 'each tip heard is checked once')
})

test('a status tip at or below this node\'s tip is checked at once, and a later status of the same peer replaces one still ahead', t => {
  // We store 4 blocks, at tip 3 for now: the copy's tip at 4 would be evidence once checked.
  const { guard, counted } = guardOver(t, makeChain(4))
  guard.checkStatusTip(ours[1].block.header, ours[1].hash, 'peer', 3)
  t.is(counted(), 0, 'our own block')
  guard.checkStatusTip(theirs[3].block.header, theirs[3].hash, 'copy', 3)
  guard.checkStatusTip(ours[2].block.header, ours[2].hash, 'copy', 3)
  guard.tipAdvanced(4)
  t.is(counted(), 0, 'the copy\'s later status (our block at 3) replaced the tip it had sent at 4')
  guard.checkStatusTip(theirs[0].block.header, theirs[0].hash, 'copy', 3)
  t.is(counted(), 1, 'another leader-signed block at height 1')
})

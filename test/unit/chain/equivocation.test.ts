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

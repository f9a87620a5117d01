// The leader's block schedule (issues #5 and #6): block n is due at start + n × interval, so
// header timestamps stay on the grid and timer lateness never accumulates.
import '../../../src/shared/polyfill.js'
import test from 'ava'
import type { BlockJson } from '../../../src/shared/json.js'
import { chainLinkErrors, readChain } from '../../helpers/api-client.js'
import { startLeader } from '../../helpers/node-process.js'

/** Deviation of each block's timestamp from the grid anchored at the first block, and of each gap from the interval. */
function scheduleFigures (blocks: readonly BlockJson[], intervalMs: number): { fromGrid: number[], gaps: number[] } {
  const first = blocks[0].header.timestamp
  const fromGrid = blocks.map((b, i) => b.header.timestamp - first - i * intervalMs)
  const gaps = blocks.slice(1).map((b, i) => b.header.timestamp - blocks[i].header.timestamp - intervalMs)
  return { fromGrid, gaps }
}

test.serial('a lone leader produces blocks on a 300 ms schedule without drift', async t => {
  const INTERVAL = 300
  const BLOCKS = 8
  // Loose: other tests share the two cores; the issue fixes no figure for this interval.
  const TOLERANCE = 150
  const leader = await startLeader(t, { blockIntervalMs: INTERVAL, logLevel: 'info' })
  await leader.waitForHeight(BLOCKS, 20_000)
  const blocks = await readChain(leader, BLOCKS)
  t.deepEqual(chainLinkErrors(blocks), [])
  const { fromGrid, gaps } = scheduleFigures(blocks, INTERVAL)
  t.log(`deviation from the grid (ms): ${fromGrid.join(', ')}`)
  t.log(`gap - ${INTERVAL} ms: ${gaps.join(', ')}`)
  for (const [i, d] of gaps.entries()) t.true(Math.abs(d) <= TOLERANCE, `gap before block ${i + 2} is ${d + INTERVAL} ms`)
  for (const [i, d] of fromGrid.entries()) t.true(Math.abs(d) <= TOLERANCE, `block ${i + 1} is ${d} ms off the grid (cumulative drift)`)
})

test.serial('with the real default interval, blocks come every 5 s within 50 ms and do not drift', async t => {
  const INTERVAL = 5000
  const BLOCKS = 5
  const TOLERANCE = 50
  // No --block-interval-ms: the default, as a user runs it. Takes about 30 s.
  const leader = await startLeader(t, { defaultInterval: true, blockIntervalMs: INTERVAL, logLevel: 'info' })
  await leader.waitForHeight(BLOCKS, (BLOCKS + 2) * INTERVAL)
  const blocks = await readChain(leader, BLOCKS)
  t.deepEqual(chainLinkErrors(blocks), [])
  const { fromGrid, gaps } = scheduleFigures(blocks, INTERVAL)
  t.log(`timestamps: ${blocks.map(b => b.header.timestamp).join(', ')}`)
  t.log(`deviation from the 5000 ms grid (ms): ${fromGrid.join(', ')}`)
  t.log(`gap - 5000 ms: ${gaps.join(', ')}`)
  for (const [i, d] of gaps.entries()) t.true(Math.abs(d) <= TOLERANCE, `gap before block ${i + 2} is ${d + INTERVAL} ms`)
  for (const [i, d] of fromGrid.entries()) t.true(Math.abs(d) <= TOLERANCE, `block ${i + 1} is ${d} ms off the grid (drift)`)
})

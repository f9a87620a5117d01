// Main-thread event-loop delay while the pool is saturated: 2 workers validate 1,000-message
// blocks with POOL_IN_FLIGHT validations always in flight, and monitorEventLoopDelay (1 ms
// resolution) records how late the main thread's timers fire meanwhile. The main thread's own
// share of the work (copying blocks to shared memory, posting tasks, merging ids) shows here.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { BLOCK_MESSAGES, blocksOnGenesis, cycle, withNode } from './fixtures.js'
import { customRow, formatRate, saturate, withTempDir, type BenchContext, type Figures } from './util.js'
import { POOL_IN_FLIGHT, validateOnPool } from './validate.bench.js'

const SATURATE_MS = 5000
const WARMUP_MS = 500
const NS_PER_MS = 1e6

export async function eventLoopBenchmarks (ctx: BenchContext): Promise<Figures> {
  const next = cycle(blocksOnGenesis(4).map(b => b.encoded))
  return await withTempDir('event-loop', async dir => await withNode(dir, 2, async ({ pool }) => {
    const validate = async (): Promise<void> => { await validateOnPool(pool, next()) }
    await saturate(validate, POOL_IN_FLIGHT, WARMUP_MS)

    const histogram = monitorEventLoopDelay({ resolution: 1 })
    histogram.enable()
    const run = await saturate(validate, POOL_IN_FLIGHT, SATURATE_MS)
    histogram.disable()

    const msgsPerSecond = run.calls * BLOCK_MESSAGES / run.seconds
    const p50 = histogram.percentile(50) / NS_PER_MS
    const p99 = histogram.percentile(99) / NS_PER_MS
    const max = histogram.max / NS_PER_MS
    ctx.rows.push(customRow(
      `event loop / main thread delay / pool 2 threads validating ${BLOCK_MESSAGES}-msg blocks`,
      `p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${max.toFixed(2)} ms (${formatRate(msgsPerSecond)} msgs/s)`,
      String(POOL_IN_FLIGHT)
    ))
    return {
      event_loop_p50_ms: p50,
      event_loop_p99_ms: p99,
      event_loop_max_ms: max,
      event_loop_validate_msgs_per_s: msgsPerSecond
    }
  }))
}

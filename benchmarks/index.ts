// The benchmark suite (`npm run bench`): runs every area in order, prints one table of the
// tinybench results, the goals of issue #3 met or not, and, as its last line, one JSON object
// holding every figure. To add an area, export `async (ctx) => Record<string, number>` from a
// new file and append it to SUITES; its figures join the JSON line. Arguments, if any, name
// the suites to run (`node build/benchmarks/index.js validate event-loop`).
import '../src/shared/polyfill.js'
import { availableParallelism, loadavg } from 'node:os'
import { admitBenchmarks } from './admit.bench.js'
import { codecBenchmarks } from './codec.bench.js'
import { cryptoBenchmarks } from './crypto.bench.js'
import { eventLoopBenchmarks } from './event-loop.bench.js'
import { networkBenchmarks } from './network.bench.js'
import { storeBenchmarks } from './store.bench.js'
import { cpuSample, foreignCpuPercent, round, type BenchContext, type BenchmarkSuite, type Figures, type TableRow } from './util.js'
import { validateBenchmarks } from './validate.bench.js'

/** In order: crypto first, since later figures are compared with its 1-core verification limit. */
const SUITES: BenchmarkSuite[] = [
  { name: 'crypto', run: cryptoBenchmarks },
  { name: 'codec', run: codecBenchmarks },
  { name: 'validate', run: validateBenchmarks },
  { name: 'admit', run: admitBenchmarks },
  { name: 'store', run: storeBenchmarks },
  { name: 'event-loop', run: eventLoopBenchmarks },
  { name: 'network', run: async () => await networkBenchmarks() }
]

/** The goals of issue #3; a missing figure counts as not met. */
const GOALS: Array<{ goal: string, figure: string, holds: (value: number) => boolean }> = [
  { goal: 'pool validation >= 1.7 x inline', figure: 'validate_pool_ratio', holds: v => v >= 1.7 },
  { goal: 'pool validation >= 80 % of 2 x verify_per_s_1core', figure: 'validate_pool_vs_2core_limit', holds: v => v >= 0.8 },
  { goal: 'durable admission >= 15,000 msgs/s', figure: 'admit_durable_msgs_per_s', holds: v => v >= 15_000 },
  { goal: 'event-loop delay p99 <= 10 ms (pool saturated)', figure: 'event_loop_p99_ms', holds: v => v <= 10 },
  { goal: 'event-loop delay max <= 50 ms (pool saturated)', figure: 'event_loop_max_ms', holds: v => v <= 50 },
  // Issue 4: propagation and sync on loopback.
  { goal: 'gossip receive p99 <= 20 ms (1,000-msg blocks)', figure: 'gossip_p99_ms', holds: v => v <= 20 },
  { goal: 'validated and stored p99 <= 100 ms (1,000-msg blocks)', figure: 'stored_p99_ms', holds: v => v <= 100 },
  { goal: 'sync >= 1,000 blocks/s (small blocks)', figure: 'sync_blocks_per_s', holds: v => v >= 1000 },
  { goal: 'sync >= 15,000 msgs/s (full blocks)', figure: 'sync_msgs_per_s', holds: v => v >= 15_000 }
]

/** Figures computed from others once every suite has run. */
function derive (f: Figures): Figures {
  const out: Figures = {}
  const ratio = (name: string, num: number | undefined, den: number | undefined): void => {
    if (num !== undefined && den !== undefined && den > 0) out[name] = num / den
  }
  ratio('validate_pool_ratio', f.validate_pool_msgs_per_s, f.validate_inline_msgs_per_s)
  ratio('validate_pool_vs_2core_limit', f.validate_pool_msgs_per_s, f.verify_per_s_1core === undefined ? undefined : 2 * f.verify_per_s_1core)
  ratio('validate_pool_2vs1_thread_ratio', f.validate_pool_msgs_per_s, f.validate_pool_1thread_msgs_per_s)
  ratio('validate_inline_vs_1core_limit', f.validate_inline_msgs_per_s, f.verify_per_s_1core)
  return out
}

async function main (): Promise<void> {
  const started = performance.now()
  const figures: Figures = { cores: availableParallelism(), load_avg_1m_at_start: loadavg()[0] }
  const rows: TableRow[] = []
  const ctx: BenchContext = { rows, figures }
  const only = process.argv.slice(2)
  const runStart = cpuSample()
  const foreignBySuite: Figures = {}
  for (const suite of SUITES.filter(s => only.length === 0 || only.includes(s.name))) {
    const suiteStart = cpuSample()
    process.stderr.write(`bench: ${suite.name}...\n`)
    try {
      Object.assign(figures, await suite.run(ctx))
    } catch (err) {
      process.exitCode = 1
      process.stderr.write(`bench: ${suite.name} failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
    }
    const suiteEnd = cpuSample()
    const foreign = foreignCpuPercent(suiteStart, suiteEnd)
    if (foreign !== undefined) foreignBySuite[`foreign_cpu_pct_${suite.name.replace(/\W/g, '_')}`] = foreign
    const seconds = (suiteEnd.at - suiteStart.at) / 1000
    process.stderr.write(`bench: ${suite.name} done in ${seconds.toFixed(1)} s${foreign === undefined ? '' : `, other processes used ${foreign.toFixed(1)} % of the CPU`}\n`)
  }
  Object.assign(figures, derive(figures))
  const foreign = foreignCpuPercent(runStart, cpuSample())
  if (foreign !== undefined) Object.assign(figures, { foreign_cpu_pct: foreign }, foreignBySuite)
  figures.load_avg_1m_at_end = loadavg()[0]
  figures.total_seconds = (performance.now() - started) / 1000

  console.table(rows)
  console.table(GOALS.map(({ goal, figure, holds }) => {
    const value = figures[figure]
    return { goal, figure, value: value === undefined ? 'not measured' : round(value), met: value !== undefined && holds(value) ? 'yes' : 'NO' }
  }))
  const json: Figures = {}
  for (const [key, value] of Object.entries(figures)) json[key] = round(value)
  console.log(JSON.stringify(json))
}

await main()

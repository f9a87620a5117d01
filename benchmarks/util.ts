// Shared plumbing of the benchmark suite: the suite interface that index.ts runs, one helper
// that runs a tinybench task (sequential or with several calls in flight) and turns its result
// into a table row and figures, and temporary data directories.
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { Bench, type HookMode, type Task } from 'tinybench'

/** The figures a suite reports, merged into the JSON line that index.ts prints last. */
export type Figures = Record<string, number>

/** One row of the final console.table. */
export type TableRow = Record<string, string | number>

export interface BenchContext {
  /** Rows for the final table; `measure` adds its own. */
  readonly rows: TableRow[]
  /** Figures reported by the suites that already ran, for suites that compare with them. */
  readonly figures: Readonly<Figures>
}

/**
 * A benchmark area. index.ts runs them in order; a new area (the network benchmarks, say) is an
 * exported async function returning its figures, appended to the list in index.ts.
 */
export interface BenchmarkSuite {
  name: string
  run: (ctx: BenchContext) => Promise<Figures>
}

/** Per-task budgets, small on purpose: the whole run must stay under 3 minutes on 2 cores. */
export interface Budget {
  /** Time budget of the measured phase, ms. */
  time: number
  /**
   * Sequential tasks: the minimum number of calls. Tasks with calls in flight: a cap on the
   * number of calls (tinybench's 'task' concurrency), reached before `time` ends or not.
   */
  iterations: number
  warmupTime: number
  warmupIterations: number
  /** false: no warmup (tasks that consume their inputs, such as commits of a fixed chain). */
  warmup?: boolean
}

export const LIGHT: Budget = { time: 1000, iterations: 32, warmupTime: 200, warmupIterations: 8 }
export const HEAVY: Budget = { time: 2000, iterations: 5, warmupTime: 300, warmupIterations: 2 }

export interface TaskSpec {
  /** `area / what / size / how`. */
  name: string
  fn: () => unknown
  /** Said explicitly: tinybench otherwise calls `fn` once more to find out. */
  async: boolean
  /** Units of work one call does (1000 messages, 1 MiB...), for the throughput column. */
  units?: { perCall: number, name: string }
  /** Calls kept in flight continuously (tinybench concurrency 'task'); 1 by default. */
  inFlight?: number
}

export interface Measured {
  name: string
  /** Calls per second: 1000 / mean latency when sequential, calls / wall time when concurrent. */
  callsPerSecond: number
  /** callsPerSecond × units per call. */
  unitsPerSecond: number
  latencyMeanMs: number
  latencyP99Ms: number
  samples: number
}

/** Runs one task in its own tinybench Bench, adds its row to the table and returns its figures. */
export async function measure (ctx: BenchContext, spec: TaskSpec, budget: Budget): Promise<Measured> {
  const inFlight = spec.inFlight ?? 1
  const concurrent = inFlight > 1
  const bench = new Bench({
    time: budget.time,
    iterations: budget.iterations,
    warmup: budget.warmup ?? true,
    warmupTime: budget.warmupTime,
    warmupIterations: budget.warmupIterations,
    throws: true,
    ...(concurrent ? { concurrency: 'task' as const, threshold: inFlight } : {})
  })
  // With calls in flight, throughput is calls over the wall time of the measured phase.
  let startedAt = 0
  let endedAt = 0
  bench.add(spec.name, spec.fn, {
    async: spec.async,
    beforeAll: (mode?: HookMode) => { if (mode === 'run') startedAt = performance.now() },
    afterAll: (mode?: HookMode) => { if (mode === 'run') endedAt = performance.now() }
  })
  const [task] = await bench.run()
  const measured = summarize(task, spec, concurrent ? (endedAt - startedAt) / 1000 : undefined)
  ctx.rows.push(tableRow(measured, spec, inFlight))
  return measured
}

function summarize (task: Task, spec: TaskSpec, wallSeconds: number | undefined): Measured {
  const result = task.result
  if (result.state !== 'completed') {
    const why = result.state === 'errored' ? result.error.message : result.state
    throw new Error(`benchmark ${spec.name} did not complete: ${why}`)
  }
  const calls = result.latency.samplesCount
  const callsPerSecond = wallSeconds === undefined ? 1000 / result.period : calls / wallSeconds
  return {
    name: spec.name,
    callsPerSecond,
    unitsPerSecond: callsPerSecond * (spec.units?.perCall ?? 1),
    latencyMeanMs: result.latency.mean,
    latencyP99Ms: result.latency.p99,
    samples: calls
  }
}

function tableRow (m: Measured, spec: TaskSpec, inFlight: number): TableRow {
  return {
    'Task name': m.name,
    'calls/s': formatRate(m.callsPerSecond),
    throughput: spec.units === undefined ? '' : `${formatRate(m.unitsPerSecond)} ${spec.units.name}/s`,
    'latency mean (ms)': m.latencyMeanMs.toFixed(3),
    'latency p99 (ms)': m.latencyP99Ms.toFixed(3),
    'in flight': inFlight,
    samples: m.samples
  }
}

/** A row for a figure not measured by tinybench (event-loop delay, say). */
export function customRow (name: string, throughput: string, note: string): TableRow {
  return { 'Task name': name, 'calls/s': '', throughput, 'latency mean (ms)': '', 'latency p99 (ms)': '', 'in flight': note, samples: '' }
}

/** `1 thread`, `2 threads`. */
export function threads (n: number): string {
  return `${n} thread${n === 1 ? '' : 's'}`
}

export function formatRate (value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2)
}

/** Rounds a figure for the JSON line: integers for large rates, 3 significant digits below. */
export function round (value: number): number {
  if (!Number.isFinite(value)) return value
  if (Math.abs(value) >= 1000) return Math.round(value)
  return Number(value.toPrecision(3))
}

/** Makes a temporary data directory, runs `fn` in it and removes it, whatever happens. */
export async function withTempDir<T> (label: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), `kimura-bench-${label}-`))
  try {
    return await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * Keeps `inFlight` calls of `fn` running until `ms` have passed, then waits for the last ones.
 * Returns how many calls finished and the wall time they took, in seconds.
 */
export async function saturate (fn: () => Promise<void>, inFlight: number, ms: number): Promise<{ calls: number, seconds: number }> {
  const started = performance.now()
  const deadline = started + ms
  let calls = 0
  const lane = async (): Promise<void> => {
    while (performance.now() < deadline) {
      await fn()
      calls++
    }
  }
  await Promise.all(Array.from({ length: inFlight }, lane))
  return { calls, seconds: (performance.now() - started) / 1000 }
}

/** Linux reports /proc/stat in USER_HZ ticks, 100 per second on every mainstream kernel. */
const PROC_STAT_TICKS_PER_SECOND = 100

interface CpuSample {
  at: number
  /** CPU seconds every process of the machine spent so far (undefined off Linux). */
  machineBusy: number | undefined
  /** CPU seconds this process (all its threads, pool workers included) spent so far. */
  own: number
}

function machineBusySeconds (): number | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number)
    // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
    const busy = fields.slice(0, 8).reduce((sum, v, i) => i === 3 || i === 4 ? sum : sum + v, 0)
    return busy / PROC_STAT_TICKS_PER_SECOND
  } catch {
    return undefined
  }
}

export function cpuSample (): CpuSample {
  const own = process.cpuUsage()
  return { at: performance.now(), machineBusy: machineBusySeconds(), own: (own.user + own.system) / 1e6 }
}

/**
 * The share of the machine's CPU (all cores) that other processes used between two samples, in
 * percent: what tells a quiet run from one disturbed by tests running beside it.
 */
export function foreignCpuPercent (from: CpuSample, to: CpuSample): number | undefined {
  if (from.machineBusy === undefined || to.machineBusy === undefined) return undefined
  const wall = (to.at - from.at) / 1000
  const foreign = (to.machineBusy - from.machineBusy) - (to.own - from.own)
  return Math.max(0, 100 * foreign / (wall * availableParallelism()))
}

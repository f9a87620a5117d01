// `npm run bench:e2e`: whole-node figures from real node processes, as ratios to this machine's
// limit measured in the same run (issue 10).
//
//   node build/benchmarks/e2e/index.js [--duration 15] [--half-duration 10] [--only leader|peers]
//        [--paths json,binary] [--clients 8] [--verify-seconds 2]
//
// 1. The limit, right before and right after each measurement (other work on the machine
//    comes and goes, and the cores' own speed moves by about ±10 % from one 2 s window to the
//    next): Ed25519 verifications/s with one verifier per core at once, node:crypto and
//    libsodium; the faster counts, the mean of before and after. Each message is verified once
//    on every node, so the limit of a cluster is that rate / (1 + peers).
// 2. Every batch the load will send is signed (in the load generator's worker threads) before
//    any clock starts; the same batches serve every fresh cluster.
// 3. For each configuration (the leader alone, 200 ms blocks; the leader and 2 peers, 500 ms
//    blocks: 10,000-message blocks then allow 50,000 and 20,000 messages/s, above either limit)
//    and each path (JSON, MessagePack): scenario.ts.
// Exit status 1 when a check fails (an acknowledged message missing or twice on a node, chains
// that differ) or a measurement could not run.
import '../../src/shared/polyfill.js'
import { availableParallelism } from 'node:os'
import { parseArgs } from 'node:util'
import { BATCH_MESSAGES, CpuMeter, fmt, loadAverage, positive, readFlags, UsageError } from './common.js'
import { onExit } from './cluster.js'
import { LoadGenerator } from './load-client.js'
import { PATHS, type SubmissionPath } from './messages.js'
import { goalRows, measurementFigures, nodeRows, ratio, rounded, summaryRows, type ConfigName, type Measurement } from './report.js'
import { runScenario } from './scenario.js'
import { measureLimit, type MachineLimit } from './verify-rate.js'

const CONFIGS: Record<ConfigName, { peers: number, blockIntervalMs: number }> = {
  leader: { peers: 0, blockIntervalMs: 200 },
  peers: { peers: 2, blockIntervalMs: 500 }
}
const WARMUP_BATCHES = 10

interface Options {
  durationS: number
  halfDurationS: number
  configs: ConfigName[]
  paths: SubmissionPath[]
  clients: number
  verifySeconds: number
}

const USAGE = `usage: node build/benchmarks/e2e/index.js [--duration S] [--half-duration S] [--only leader,peers]
       [--paths json,binary] [--clients N] [--verify-seconds S]   (npm run bench:e2e -- <flags>)`

function readOptions (): Options {
  const { values } = readFlags(USAGE, () => parseArgs({
    options: {
      duration: { type: 'string', default: '15' },
      'half-duration': { type: 'string', default: '10' },
      only: { type: 'string' },
      paths: { type: 'string', default: PATHS.join(',') },
      clients: { type: 'string', default: '8' },
      'verify-seconds': { type: 'string', default: '2' }
    }
  }))
  const configs = values.only === undefined ? Object.keys(CONFIGS) as ConfigName[] : values.only.split(',')
  for (const c of configs) if (!(c in CONFIGS)) throw new UsageError(`--only takes leader or peers, got '${c}'`)
  const paths = values.paths.split(',')
  for (const p of paths) if (!(PATHS as string[]).includes(p)) throw new UsageError(`--paths takes json and binary, got '${p}'`)
  return {
    durationS: positive('duration', values.duration),
    halfDurationS: positive('half-duration', values['half-duration']),
    configs: configs as ConfigName[],
    paths: paths as SubmissionPath[],
    clients: Math.round(positive('clients', values.clients)),
    verifySeconds: positive('verify-seconds', values['verify-seconds'])
  }
}

function log (text: string): void {
  process.stderr.write(`bench:e2e: ${text}\n`)
}

/** The batches signed so far (from 0) and their ids; more are signed when a quieter machine could take more. */
class SignedLoad {
  batches = 0
  ids = new Uint8Array(0)

  constructor (private readonly generator: LoadGenerator, private readonly paths: SubmissionPath[]) {}

  async ensure (batches: number): Promise<void> {
    if (batches <= this.batches) return
    log(`signing ${fmt((batches - this.batches) * BATCH_MESSAGES)} more messages (${this.paths.join(' and ')} bodies) before the clock starts...`)
    const signed = await this.generator.sign({ from: this.batches, to: batches, paths: this.paths, returnIds: true })
    if (signed.ids === undefined) throw new Error('the load generator sent no ids')
    const ids = new Uint8Array(this.ids.byteLength + signed.ids.byteLength)
    ids.set(this.ids)
    ids.set(signed.ids, this.ids.byteLength)
    this.ids = ids
    this.batches = batches
    log(`signed in ${fmt(signed.seconds, 1)} s`)
  }
}

async function main (): Promise<number> {
  const options = readOptions()
  const started = performance.now()
  const figures: Record<string, number | string | boolean> = { cores: availableParallelism(), load_avg_1m_at_start: loadAverage() ?? NaN }
  const generator = new LoadGenerator()
  generator.start()
  onExit(() => { generator.stop() })
  const runMeter = new CpuMeter(new Map(generator.pid === undefined ? [] : [['generator', generator.pid]]))
  const load = new SignedLoad(generator, options.paths)

  const measurements: Measurement[] = []
  for (const config of options.configs) {
    const { peers, blockIntervalMs } = CONFIGS[config]
    for (const path of options.paths) {
      // The limit is measured right before and right after each measurement: other work on the
      // machine comes and goes, and the machine's own speed drifts.
      const limit = await measureLimitLogged('before', options.verifySeconds)
      // Enough batches for a leader taking the whole (unloaded) limit at saturation and half
      // of it afterwards; a phase that runs out anyway ends early and says so.
      await load.ensure(WARMUP_BATCHES + Math.ceil(limit.unloadedPerSecond * (options.durationS + options.halfDurationS / 2) / BATCH_MESSAGES))
      log(`${config === 'leader' ? 'the leader alone' : `the leader and ${peers} peers`}, ${path}: blocks every ${blockIntervalMs} ms (10,000-message blocks allow ${fmt(10_000 * 1000 / blockIntervalMs)}/s, so maxBlockMessages does not cap the load), ${options.durationS} s at saturation, ${options.halfDurationS} s at half...`)
      let result: Measurement['result']
      try {
        result = await runScenario({
          peers,
          blockIntervalMs,
          path,
          generator,
          ids: load.ids,
          warmup: { from: 0, to: WARMUP_BATCHES },
          load: { from: WARMUP_BATCHES, to: load.batches },
          durationS: options.durationS,
          halfDurationS: options.halfDurationS,
          clients: options.clients
        })
      } catch (err) {
        result = { available: true, error: err instanceof Error ? err.stack ?? err.message : String(err) }
      }
      const limitAfter = await measureLimitLogged('after', options.verifySeconds)
      measurements.push({ config, path, peers, blockIntervalMs, limit, limitAfter, result })
      report(measurements[measurements.length - 1])
    }
  }
  generator.stop()

  const run = runMeter.read()
  const best = Math.max(...measurements.flatMap(m => [m.limit.fastest.perSecond, m.limitAfter.fastest.perSecond]))
  for (const m of measurements) m.bestLimitPerS = best
  Object.assign(figures, measurementFigures(measurements), {
    verify_best_limit_per_s: best,
    duration_s: options.durationS,
    half_duration_s: options.halfDurationS,
    clients: options.clients,
    foreign_cpu_pct: run.foreignPct ?? NaN,
    load_avg_1m_at_end: loadAverage() ?? NaN,
    total_seconds: (performance.now() - started) / 1000
  })
  console.log(`Limit: Ed25519 verifications/s with ${availableParallelism()} verifiers at once (the faster of node:crypto and libsodium), the mean of the measurements right before and right after each run; ratio = committed on the slowest node / (limit / (1 + peers)). The highest limit of this run: ${fmt(best)}/s.`)
  console.log(`Blocks every ${CONFIGS.leader.blockIntervalMs} ms for the leader alone, ${CONFIGS.peers.blockIntervalMs} ms with ${CONFIGS.peers.peers} peers: 10,000-message blocks (maxBlockMessages) then allow ${fmt(10_000 * 1000 / CONFIGS.leader.blockIntervalMs)} and ${fmt(10_000 * 1000 / CONFIGS.peers.blockIntervalMs)} messages/s, so the block size does not cap the throughput.`)
  console.log(`Load: ${BATCH_MESSAGES}-message batches, 100-byte contents, 16 senders, signed before the clock; ${options.clients} clients at saturation for ${options.durationS} s, then ${options.halfDurationS} s of open loop at half of the slowest node's committed rate. Other processes used ${fmt(run.foreignPct, 1)} % of the machine's CPU over the run (load average ${fmt(figures.load_avg_1m_at_start as number, 2)} at the start, ${fmt(figures.load_avg_1m_at_end as number, 2)} at the end).`)
  console.table(summaryRows(measurements))
  console.table(nodeRows(measurements))
  console.table(goalRows(measurements))
  const failed = measurements.filter(m => m.result.available && ('error' in m.result || m.result.problems.length > 0))
  console.log(JSON.stringify(rounded(figures)))
  return failed.length === 0 ? 0 : 1
}

async function measureLimitLogged (when: 'before' | 'after', seconds: number): Promise<MachineLimit> {
  log(`verification rate ${when} the run, ${availableParallelism()} verifiers at once, ${seconds} s for each verifier...`)
  const limit = await measureLimit(seconds)
  log(`node:crypto ${fmt(limit.nodeCrypto.perSecond)}/s, libsodium ${fmt(limit.sodium.perSecond)}/s (other processes used ${fmt(limit.fastest.foreignCpuPct, 1)} % of the CPU)`)
  return limit
}

/** Problems are printed as soon as a measurement ends, loudly. */
function report (m: Measurement): void {
  const r = m.result
  if (!r.available) {
    log(`${m.config} / ${m.path}: not available (${r.reason})`)
  } else if ('error' in r) {
    log(`${m.config} / ${m.path}: FAILED\n${r.error}`)
  } else {
    const s = r.saturation
    log(`${m.config} / ${m.path}: ingest ${fmt(s.ingestPerS)}/s, committed ${fmt(s.committedMinPerS)}/s on the slowest node (${fmt(ratio(m, s), 3)} of the limit), drained in ${fmt(s.drainS, 1)} s`)
    if (s.ranOut || r.half?.ranOut === true) log(`${m.config} / ${m.path}: the pre-signed batches ran out: a phase ended early`)
    for (const problem of r.problems) log(`${m.config} / ${m.path}: CHECK FAILED: ${problem}`)
  }
}

let status: number
try {
  status = await main()
} catch (err) {
  status = err instanceof UsageError ? 2 : 1
  log(err instanceof UsageError ? err.message : err instanceof Error ? err.stack ?? err.message : String(err))
}
// Idle keep-alive sockets and stopped children must not hold the run open; stdout is a file or
// a pipe, written synchronously on Linux, so nothing printed is lost.
process.exit(status)

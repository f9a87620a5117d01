// `npm run bench:e2e`: whole-node figures from real node processes, as ratios to this machine's
// limit measured in the same run (issue 10).
//
//   node build/benchmarks/e2e/index.js [--duration 15] [--half-duration 10] [--only leader|peers]
//        [--paths json,binary] [--clients 8] [--verify-seconds 3]
//
// 1. The limit: Ed25519 verifications/s with one verifier per core at once, node:crypto and
//    libsodium; the faster counts. Each message is verified once on every node, so the limit of
//    a cluster is that rate / (1 + peers).
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
import { BATCH_MESSAGES, CpuMeter, fmt, loadAverage, positive, UsageError } from './common.js'
import { onExit } from './cluster.js'
import { LoadGenerator } from './load-client.js'
import { PATHS, type SubmissionPath } from './messages.js'
import { goalRows, measurementFigures, nodeRows, rounded, summaryRows, type ConfigName, type Measurement } from './report.js'
import { runScenario } from './scenario.js'
import { measureVerifyRate } from './verify-rate.js'

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

function readOptions (): Options {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '15' },
      'half-duration': { type: 'string', default: '10' },
      only: { type: 'string' },
      paths: { type: 'string', default: PATHS.join(',') },
      clients: { type: 'string', default: '8' },
      'verify-seconds': { type: 'string', default: '3' }
    }
  })
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

async function main (): Promise<number> {
  const options = readOptions()
  const started = performance.now()
  const runMeter = new CpuMeter(new Map())
  const figures: Record<string, number | string | boolean> = { cores: availableParallelism(), load_avg_1m_at_start: loadAverage() ?? NaN }

  log(`verification rate, ${availableParallelism()} verifiers at once, ${options.verifySeconds} s each...`)
  const nodeRate = await measureVerifyRate('node', options.verifySeconds)
  const sodiumRate = await measureVerifyRate('sodium', options.verifySeconds)
  const limit = nodeRate.perSecond >= sodiumRate.perSecond ? nodeRate : sodiumRate
  Object.assign(figures, {
    verify_node_crypto_per_s: nodeRate.perSecond,
    verify_sodium_per_s: sodiumRate.perSecond,
    verify_limit_per_s: limit.perSecond,
    verify_limit_verifier: limit.verifier === 'node' ? 'node:crypto' : 'libsodium',
    verify_foreign_cpu_pct: Math.max(nodeRate.foreignCpuPct ?? NaN, sodiumRate.foreignCpuPct ?? NaN)
  })
  log(`node:crypto ${fmt(nodeRate.perSecond)}/s, libsodium ${fmt(sodiumRate.perSecond)}/s (other processes used ${fmt(figures.verify_foreign_cpu_pct as number, 1)} % of the CPU): the limit is ${fmt(limit.perSecond)}/s`)

  // Enough batches for the fastest any leader could go (the whole limit) for the saturation,
  // and half of it for the half-rate phase; a phase that runs out ends early and says so.
  const loadBatches = Math.ceil(limit.perSecond * (options.durationS + options.halfDurationS / 2) / BATCH_MESSAGES)
  const totalBatches = WARMUP_BATCHES + loadBatches
  const generator = new LoadGenerator()
  generator.start()
  onExit(() => { generator.stop() })
  log(`signing ${fmt(totalBatches * BATCH_MESSAGES)} messages (${options.paths.join(' and ')} bodies) before any clock starts...`)
  const signed = await generator.sign({ from: 0, to: totalBatches, paths: options.paths, returnIds: true })
  if (signed.ids === undefined) throw new Error('the load generator sent no ids')
  log(`signed in ${fmt(signed.seconds, 1)} s`)

  const measurements: Measurement[] = []
  for (const config of options.configs) {
    const { peers, blockIntervalMs } = CONFIGS[config]
    for (const path of options.paths) {
      log(`${config === 'leader' ? 'the leader alone' : `the leader and ${peers} peers`}, ${path}: blocks every ${blockIntervalMs} ms (10,000-message blocks allow ${fmt(10_000 * 1000 / blockIntervalMs)}/s, so maxBlockMessages does not cap the load), ${options.durationS} s at saturation, ${options.halfDurationS} s at half...`)
      const limitPerS = limit.perSecond / (1 + peers)
      let result: Measurement['result']
      try {
        result = await runScenario({
          peers,
          blockIntervalMs,
          path,
          generator,
          ids: signed.ids,
          warmup: { from: 0, to: WARMUP_BATCHES },
          load: { from: WARMUP_BATCHES, to: totalBatches },
          durationS: options.durationS,
          halfDurationS: options.halfDurationS,
          clients: options.clients
        })
      } catch (err) {
        result = { available: true, error: err instanceof Error ? err.stack ?? err.message : String(err) }
      }
      measurements.push({ config, path, peers, blockIntervalMs, limitPerS, result })
      report(measurements[measurements.length - 1])
    }
  }
  generator.stop()

  const run = runMeter.read()
  Object.assign(figures, measurementFigures(measurements), {
    duration_s: options.durationS,
    half_duration_s: options.halfDurationS,
    clients: options.clients,
    foreign_cpu_pct: run.foreignPct ?? NaN,
    load_avg_1m_at_end: loadAverage() ?? NaN,
    total_seconds: (performance.now() - started) / 1000
  })
  console.log(`Ed25519 limit: ${fmt(limit.perSecond)} verifications/s on ${availableParallelism()} cores (${figures.verify_limit_verifier}; node:crypto ${fmt(nodeRate.perSecond)}/s, libsodium ${fmt(sodiumRate.perSecond)}/s). Ratio = committed on the slowest node / (limit / (1 + peers)).`)
  console.log(`Load: ${BATCH_MESSAGES}-message batches, 100-byte contents, 16 senders, signed before the clock; ${options.clients} clients at saturation, open loop at half of the slowest node's committed rate. Other processes used ${fmt(run.foreignPct, 1)} % of the machine's CPU over the run (load average ${fmt(figures.load_avg_1m_at_start as number, 2)} at the start, ${fmt(figures.load_avg_1m_at_end as number, 2)} at the end).`)
  console.table(summaryRows(measurements))
  console.table(nodeRows(measurements))
  console.table(goalRows(measurements))
  const failed = measurements.filter(m => m.result.available && ('error' in m.result || m.result.problems.length > 0))
  console.log(JSON.stringify(rounded(figures)))
  return failed.length === 0 ? 0 : 1
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
    log(`${m.config} / ${m.path}: ingest ${fmt(s.ingestPerS)}/s, committed ${fmt(s.committedMinPerS)}/s on the slowest node (${fmt(s.committedMinPerS / m.limitPerS, 3)} of the limit), drained in ${fmt(s.drainS, 1)} s`)
    for (const problem of r.problems) log(`${m.config} / ${m.path}: CHECK FAILED: ${problem}`)
  }
}

let status: number
try {
  status = await main()
} catch (err) {
  status = err instanceof UsageError ? 2 : 1
  log(err instanceof Error ? err.stack ?? err.message : String(err))
}
// Idle keep-alive sockets and stopped children must not hold the run open; stdout is a file or
// a pipe, written synchronously on Linux, so nothing printed is lost.
process.exit(status)

// `npm run soak`: a leader and two peers (real processes, 500 ms blocks) under an open-loop load
// at half of saturation for a long time, to see whether memory stays flat and how many bytes of
// disk a stored message costs (issue 10).
//
//   node build/benchmarks/soak.js [--minutes 30] [--rate N] [--probe-seconds 10]
//        [--report-seconds 60] [--path binary|json] [--clients 8]
//
// Without --rate, saturation is measured first (closed loop, pre-signed batches, as in
// bench:e2e) and the soak runs at half of the slowest node's committed rate. Every report
// interval it prints each node's anonymous memory and RSS (now and the interval's peak), its
// data directory's disk bytes per stored message, and the leader's event-loop p99 over the
// interval, and each node's CPU per message it stored in the interval (what shows a cost that
// grows with the store). The batches of each interval are signed (one worker thread of the load
// generator) while the interval before runs: a soak cannot hold hours of messages signed in
// advance.
// Its last line is one JSON object with the series; exit status 1 when a check fails.
import '../src/shared/polyfill.js'
import { availableParallelism } from 'node:os'
import { parseArgs } from 'node:util'
import { getBlock } from '../test/helpers/api-client.js'
import { waitFor } from '../test/helpers/wait.js'
import { onExit, startCluster, stopCluster } from './e2e/cluster.js'
import { ClusterLoad } from './e2e/cluster-load.js'
import { BATCH_MESSAGES, CpuMeter, MB, diskBytes, fmt, loadAverage, positive, readFlags, UsageError } from './e2e/common.js'
import { BlockTally, IdTally } from './e2e/ledger.js'
import { LoadGenerator } from './e2e/load-client.js'
import { PATHS, type SubmissionPath } from './e2e/messages.js'
import { scrapeEventLoop } from './e2e/observe.js'
import { measureVerifyRate } from './e2e/verify-rate.js'
import { round } from './util.js'

const PEERS = 2
const BLOCK_INTERVAL_MS = 500
const WARMUP_BATCHES = 10
const OPEN_LOOP_CLIENTS = 32

const USAGE = `usage: node build/benchmarks/soak.js [--minutes M] [--rate N] [--probe-seconds S] [--report-seconds S]
       [--path binary|json] [--clients N]   (npm run soak -- <flags>)`

function readValues (): Record<string, string | undefined> {
  return readFlags(USAGE, () => parseArgs({
    options: {
      minutes: { type: 'string', default: '30' },
      rate: { type: 'string' },
      'probe-seconds': { type: 'string', default: '10' },
      'report-seconds': { type: 'string', default: '60' },
      path: { type: 'string', default: 'binary' },
      clients: { type: 'string', default: '8' }
    }
  }).values)
}

function log (text: string): void {
  process.stderr.write(`soak: ${text}\n`)
}

interface NodeSample {
  anon_mb: number
  rss_mb: number
  peak_anon_mb: number
  peak_rss_mb: number
  height: number
  messages: number
  disk_mb: number
  disk_bytes_per_msg: number
  /** The node's CPU over the interval, % of one core. */
  cpu_pct: number
  /** The node's CPU over the interval / the messages it stored in the interval. */
  cpu_us_per_msg: number
}

interface Sample {
  minute: number
  acked: number
  refused: number
  failed: number
  pending: number
  eventloop_p99_ms: number
  eventloop_max_ms: number
  generator_cpu_pct: number
  foreign_cpu_pct: number
  nodes: Record<string, NodeSample>
}

async function main (): Promise<number> {
  const values = readValues()
  const minutes = positive('minutes', values.minutes ?? '')
  const reportS = positive('report-seconds', values['report-seconds'] ?? '')
  const probeS = positive('probe-seconds', values['probe-seconds'] ?? '')
  const clients = Math.round(positive('clients', values.clients ?? ''))
  const pathFlag = values.path ?? ''
  if (!(PATHS as string[]).includes(pathFlag)) throw new UsageError(`--path takes json or binary, got '${pathFlag}'`)
  let path = pathFlag as SubmissionPath
  const givenRate = values.rate === undefined ? undefined : positive('rate', values.rate)
  const started = performance.now()

  // Batches for the probe: as many as the whole verification limit could take.
  const limit = givenRate === undefined ? (await measureVerifyRate('sodium', 1)).perSecond : 0
  const probeBatches = givenRate === undefined ? Math.ceil(limit * probeS / BATCH_MESSAGES) : 0
  const generator = new LoadGenerator()
  generator.start()
  onExit(() => { generator.stop() })
  log(`signing ${fmt((WARMUP_BATCHES + probeBatches) * BATCH_MESSAGES)} messages for the warmup${givenRate === undefined ? ' and the saturation probe' : ''}...`)
  const signed = await generator.sign({ from: 0, to: WARMUP_BATCHES + probeBatches, paths: [...PATHS], returnIds: true })
  if (signed.ids === undefined) throw new Error('the load generator sent no ids')
  const ids = signed.ids

  const cluster = await startCluster({ peers: PEERS, blockIntervalMs: BLOCK_INTERVAL_MS })
  const loadFor = (p: SubmissionPath): ClusterLoad => new ClusterLoad({ path: p, generator, ids, clients, drainTimeoutMs: 120_000 }, cluster)
  let load = loadFor(path)
  try {
    load.start()
    const warm = await load.warmUp({ from: 0, to: WARMUP_BATCHES })
    if (!warm.available) {
      log(`the binary path is not available (${warm.reason}): soaking through JSON`)
      load.stop()
      path = 'json'
      load = loadFor(path)
      load.start()
      await load.warmUp({ from: 0, to: WARMUP_BATCHES })
    }
    let rate = givenRate ?? 0
    const probe: Record<string, number> = {}
    if (givenRate === undefined) {
      log(`saturation probe: ${probeS} s, ${clients} clients, ${path}...`)
      const sat = await load.phase({ from: WARMUP_BATCHES, to: WARMUP_BATCHES + probeBatches }, 'closed', clients, probeS * 1000)
      for (const problem of sat.problems) log(`CHECK FAILED (probe): ${problem}`)
      if (sat.problems.length > 0) return 1
      rate = sat.committedMinPerS / 2
      Object.assign(probe, { probe_ingest_per_s: sat.ingestPerS, probe_committed_min_per_s: sat.committedMinPerS, probe_limit_per_s: limit / (1 + PEERS) })
      log(`saturation: ingest ${fmt(sat.ingestPerS)}/s, committed ${fmt(sat.committedMinPerS)}/s on the slowest node: soaking at ${fmt(rate)}/s`)
    }
    // Everything so far in exactly one block on every node: from here on only counts and tallies.
    const early = await load.check()
    for (const problem of early) log(`CHECK FAILED (warmup and probe): ${problem}`)
    if (early.length > 0) return 1
    const tally = new BlockTally(load.watchers[0].height, load.ledger.ackedMessages)
    const series = await soak(load, generator, tally, path, rate, { minutes, reportS, firstBatch: WARMUP_BATCHES + probeBatches })
    const problems = await finalChecks(load, tally, series.acked)
    for (const problem of problems) log(`CHECK FAILED: ${problem}`)
    console.log(JSON.stringify({
      cores: availableParallelism(),
      peers: PEERS,
      block_interval_ms: BLOCK_INTERVAL_MS,
      path,
      rate_per_s: round(rate),
      minutes,
      report_seconds: reportS,
      ...Object.fromEntries(Object.entries(probe).map(([k, v]) => [k, round(v)])),
      acked_messages: series.acked.count,
      correct: problems.length === 0,
      problems,
      total_seconds: round((performance.now() - started) / 1000),
      load_avg_1m_at_end: loadAverage() ?? null,
      series: series.samples
    }))
    return problems.length === 0 ? 0 : 1
  } finally {
    load.stop()
    await stopCluster(cluster)
    generator.stop()
  }
}

/** The soak proper: one open-loop run per report interval, each interval's batches signed during the one before. */
async function soak (load: ClusterLoad, generator: LoadGenerator, tally: BlockTally, path: SubmissionPath, rate: number, plan: { minutes: number, reportS: number, firstBatch: number }): Promise<{ samples: Sample[], acked: IdTally }> {
  const { minutes, reportS, firstBatch } = plan
  const intervals = Math.max(1, Math.round(minutes * 60 / reportS))
  const perInterval = Math.ceil(rate * reportS / BATCH_MESSAGES)
  const signRange = async (k: number): Promise<Uint8Array> => {
    const from = firstBatch + k * perInterval
    const reply = await generator.sign({ from, to: from + perInterval, paths: [path], returnIds: true, threads: 1 })
    if (reply.ids === undefined) throw new Error('the load generator sent no ids')
    return reply.ids
  }
  const acked = new IdTally()
  const samples: Sample[] = []
  // Messages each node held when the interval began: at first, what the tally counted before the soak.
  const storedBefore = new Map(load.cluster.nodes.map(node => [node.name, tally.storedAt(tally.scanned)]))
  let ids = await signRange(0)
  await scrapeEventLoop(load.cluster.leader)
  log(`${intervals} intervals of ${reportS} s at ${fmt(rate)} messages/s (${perInterval} batches each)`)
  for (let k = 0; k < intervals; k++) {
    const from = firstBatch + k * perInterval
    const next = k + 1 < intervals ? signRange(k + 1) : undefined
    load.memory.reset()
    const meter = new CpuMeter(load.cpuPids)
    const run = await generator.run({ url: load.cluster.leader.api, path, from, to: from + perInterval, mode: 'open', clients: OPEN_LOOP_CLIENTS, durationMs: reportS * 1000, rate, release: true })
    await generator.drop(from, from + perInterval)
    run.ackAt.forEach((at, i) => {
      if (Number.isNaN(at)) return
      for (let m = 0; m < BATCH_MESSAGES; m++) acked.addBytes(ids, 32 * (i * BATCH_MESSAGES + m))
    })
    const eventLoop = await scrapeEventLoop(load.cluster.leader)
    const cpu = meter.read()
    const memory = load.memory.reset()
    const leaderStatus = await load.cluster.leader.status().catch(() => undefined)
    await tally.scan(load.cluster.leader, load.watchers[0].height)
    const nodes: Record<string, NodeSample> = {}
    for (const [i, node] of load.cluster.nodes.entries()) {
      const m = memory[node.name]
      const height = Math.min(load.watchers[i].height, tally.scanned)
      const messages = tally.storedAt(height)
      const disk = await diskBytes(node.spec.dataDir)
      const cpuPct = cpu.byName[node.name] ?? NaN
      const storedInInterval = messages - (storedBefore.get(node.name) ?? NaN)
      storedBefore.set(node.name, messages)
      nodes[node.name] = {
        anon_mb: round(m.lastAnon / MB),
        rss_mb: round(m.lastRss / MB),
        peak_anon_mb: round(m.peakAnon / MB),
        peak_rss_mb: round(m.peakRss / MB),
        height,
        messages,
        disk_mb: round(disk / MB),
        disk_bytes_per_msg: round(disk / messages),
        cpu_pct: round(cpuPct),
        cpu_us_per_msg: round(cpuPct / 100 * cpu.seconds * 1e6 / storedInInterval)
      }
    }
    const sample: Sample = {
      minute: round((k + 1) * reportS / 60),
      acked: run.ackAt.reduce((n, at) => Number.isNaN(at) ? n : n + BATCH_MESSAGES, 0),
      refused: run.refused,
      failed: run.failures + run.badAnswers,
      pending: leaderStatus?.pending ?? NaN,
      eventloop_p99_ms: round(eventLoop.p99Ms),
      eventloop_max_ms: round(eventLoop.maxMs),
      generator_cpu_pct: round(run.cpuPct),
      foreign_cpu_pct: round(cpu.foreignPct ?? NaN),
      nodes
    }
    samples.push(sample)
    printSample(sample)
    if (next !== undefined) ids = await next
  }
  return { samples, acked }
}

function printSample (s: Sample): void {
  const nodes = Object.entries(s.nodes).map(([name, n]) =>
    `${name} anon ${fmt(n.anon_mb)} MB (peak ${fmt(n.peak_anon_mb)}), RSS ${fmt(n.rss_mb)} MB (peak ${fmt(n.peak_rss_mb)}), ${fmt(n.disk_bytes_per_msg)} B/msg of ${fmt(n.messages)}, CPU ${fmt(n.cpu_pct)} % (${fmt(n.cpu_us_per_msg)} µs/msg)`)
  console.log(`minute ${fmt(s.minute, 1)}: ${fmt(s.acked)} acked (${s.refused} refused, ${s.failed} failed), pending ${fmt(s.pending)}, leader event-loop p99 ${fmt(s.eventloop_p99_ms, 1)} ms, generator CPU ${fmt(s.generator_cpu_pct)} %, other processes ${fmt(s.foreign_cpu_pct, 1)} %\n  ${nodes.join('\n  ')}`)
}

/** Every node holds every acknowledged message once, and the peers' chains are the leader's. */
async function finalChecks (load: ClusterLoad, tally: BlockTally, acked: IdTally): Promise<string[]> {
  const { height } = await load.drain()
  await tally.scan(load.cluster.leader, height)
  const problems: string[] = []
  if (!tally.ids.equals(acked)) problems.push(`the leader's blocks above the probe hold ${tally.ids.count} messages, not the ${acked.count} acknowledged (or not the same ones)`)
  for (const peer of load.cluster.peers) {
    await waitFor(async () => await peer.height() >= height, 60_000, `${peer.name} to reach height ${height}`)
    const block = await getBlock(peer, height)
    if (block?.hash !== tally.hashAt(height)) problems.push(`${peer.name}'s block ${height} is ${block?.hash ?? 'missing'}, the leader's ${tally.hashAt(height) ?? 'missing'}`)
  }
  return problems
}

let status: number
try {
  status = await main()
} catch (err) {
  status = err instanceof UsageError ? 2 : 1
  log(err instanceof UsageError ? err.message : err instanceof Error ? err.stack ?? err.message : String(err))
}
process.exit(status)

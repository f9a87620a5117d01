// The output of `npm run bench:e2e`: one table row per configuration and path, one per node,
// the goals met or not, and the flat JSON object of every figure (printed last).
import { round } from '../util.js'
import { MB, fmt } from './common.js'
import type { SubmissionPath } from './messages.js'
import type { Phase, ScenarioResult } from './scenario.js'
import type { MachineLimit } from './verify-rate.js'

export type ConfigName = 'leader' | 'peers'

export interface Measurement {
  config: ConfigName
  path: SubmissionPath
  peers: number
  blockIntervalMs: number
  /** Measured right before this measurement. */
  limit: MachineLimit
  /** Measured right after it (the cluster stopped). */
  limitAfter: MachineLimit
  /** The highest limit of the whole run (set once every measurement is done). */
  bestLimitPerS?: number
  result: ScenarioResult | { available: true, error: string }
}

type Figures = Record<string, number | string | boolean>

/** A figure of the faster verifier, the mean of the limits measured before and after the run. */
function aroundRun (m: Measurement, figure: 'perSecond' | 'perCpuSecond'): number {
  return (m.limit.fastest[figure] + m.limitAfter.fastest[figure]) / 2
}

/** The cluster's limit: verifications/s on all cores over (1 + peers), each message being verified once on every node. */
export function clusterLimit (m: Measurement, perSecond = aroundRun(m, 'perSecond')): number {
  return perSecond / (1 + m.peers)
}

/** Committed on the slowest node over the cluster's limit measured around the run. */
export function ratio (m: Measurement, phase: Phase): number {
  return phase.committedMinPerS / clusterLimit(m)
}

/** The same against the highest limit measured in the run: the conservative figure when other load came and went. */
function ratioToBest (m: Measurement, phase: Phase): number {
  return phase.committedMinPerS / clusterLimit(m, m.bestLimitPerS ?? NaN)
}

/**
 * The share of the CPU the nodes got (from the first request until every node held the last
 * message) that the signature checks of these messages need at the verifier's per-CPU-second
 * rate: a figure that other processes on the machine barely move, since it counts only the
 * CPU the nodes had.
 */
function verifyShareOfNodeCpu (m: Measurement, phase: Phase): number {
  return phase.ackedMessages * (1 + m.peers) / aroundRun(m, 'perCpuSecond') / phase.nodeCpuSeconds
}

function maxOver (memory: Phase['memory'], key: 'peakAnon' | 'peakRss'): number {
  return Math.max(...Object.values(memory).map(p => p[key]))
}

export function summaryRows (measurements: readonly Measurement[]): Array<Record<string, string>> {
  return measurements.map(m => {
    const row: Record<string, string> = { config: m.config === 'leader' ? 'leader alone' : `leader + ${m.peers} peers`, path: m.path, 'block ms': String(m.blockIntervalMs) }
    const r = m.result
    if (!r.available) return { ...row, 'ingest/s': `not available: ${r.reason.slice(0, 60)}` }
    if ('error' in r) return { ...row, 'ingest/s': `FAILED: ${r.error.slice(0, 80)}` }
    const s = r.saturation
    return {
      ...row,
      'ingest/s': fmt(s.ingestPerS),
      'committed/s (slowest)': fmt(s.committedMinPerS),
      'limit/s': fmt(clusterLimit(m)),
      ratio: fmt(ratio(m, s), 3),
      'ratio (best limit)': fmt(ratioToBest(m, s), 3),
      'verify share of node CPU': fmt(verifyShareOfNodeCpu(m, s), 3),
      'sat. p50/p99 ms': `${fmt(s.latencyP50Ms)} / ${fmt(s.latencyP99Ms)}`,
      'half rate/s': fmt(r.half?.targetPerS),
      'half p50/p99 ms': r.half === undefined ? 'n/a' : `${fmt(r.half.latencyP50Ms)} / ${fmt(r.half.latencyP99Ms)}`,
      'peak anon MB': fmt(maxOver(s.memory, 'peakAnon') / MB),
      'ev-loop p99 ms (idle)': `${fmt(s.eventLoop.p99Ms, 1)} (${fmt(r.idleEventLoop.p99Ms, 1)})`,
      'leader main thread run / wait ms/s': `${fmt(s.leaderMainThread.runMsPerS)} / ${fmt(s.leaderMainThread.waitMsPerS)}`,
      'gen CPU % / ELU': `${fmt(s.generatorCpuPct)} / ${fmt(s.generatorElu, 2)}`,
      'foreign CPU %': fmt(s.foreignCpuPct, 1),
      correct: r.problems.length === 0 ? 'yes' : 'NO'
    }
  })
}

export function nodeRows (measurements: readonly Measurement[]): Array<Record<string, string>> {
  const rows: Array<Record<string, string>> = []
  for (const m of measurements) {
    const r = m.result
    if (!r.available || 'error' in r) continue
    for (const [node, committed] of Object.entries(r.saturation.committedPerS)) {
      const memory = r.saturation.memory[node]
      rows.push({
        run: `${m.config} / ${m.path}`,
        node,
        'committed/s': fmt(committed),
        'CPU % of a core (load)': fmt(r.saturation.cpuPct[node]),
        'peak anon MB': fmt(memory?.peakAnon / MB),
        'peak RSS MB': fmt(memory?.peakRss / MB),
        'half: committed/s': fmt(r.half?.committedPerS[node]),
        'half: peak anon MB': fmt((r.half?.memory[node]?.peakAnon ?? NaN) / MB)
      })
    }
  }
  return rows
}

interface Goal {
  goal: string
  value: number | undefined
  holds: (value: number) => boolean
}

/** Issue 10's goals, for every measurement they concern; a missing figure is not met. */
export function goalRows (measurements: readonly Measurement[]): Array<Record<string, string>> {
  const goals: Goal[] = []
  for (const m of measurements) {
    const r = m.result
    const done = r.available && !('error' in r) ? r : undefined
    const name = `${m.config} / ${m.path}`
    const need = m.path === 'json' ? 0.5 : m.config === 'peers' ? 0.7 : 0.6
    goals.push({ goal: `${name}: committed >= ${need * 100} % of the limit`, value: done === undefined ? undefined : ratio(m, done.saturation), holds: v => v >= need })
    goals.push({ goal: `${name}: peak anonymous memory <= 250 MB per node`, value: done === undefined ? undefined : maxOver(done.saturation.memory, 'peakAnon') / MB, holds: v => v <= 250 })
    goals.push({ goal: `${name}: leader event-loop p99 <= 20 ms`, value: done?.saturation.eventLoop.p99Ms, holds: v => v <= 20 })
    const bound = m.blockIntervalMs + 300
    goals.push({ goal: `${name}: half-rate ack-to-included p99 <= ${bound} ms`, value: done?.half?.latencyP99Ms, holds: v => v <= bound })
  }
  return goals.map(({ goal, value, holds }) => ({
    goal,
    value: value === undefined || !Number.isFinite(value) ? 'not measured' : fmt(value, value < 10 ? 3 : 0),
    met: value !== undefined && Number.isFinite(value) && holds(value) ? 'yes' : 'NO'
  }))
}

function phaseFigures (prefix: string, m: Measurement, p: Phase, out: Figures): void {
  out[`${prefix}_seconds`] = p.seconds
  out[`${prefix}_ingest_per_s`] = p.ingestPerS
  out[`${prefix}_acked_messages`] = p.ackedMessages
  out[`${prefix}_committed_min_per_s`] = p.committedMinPerS
  out[`${prefix}_ratio_to_limit`] = ratio(m, p)
  out[`${prefix}_ratio_to_best_limit`] = ratioToBest(m, p)
  out[`${prefix}_verify_share_of_node_cpu`] = verifyShareOfNodeCpu(m, p)
  out[`${prefix}_node_cpu_seconds`] = p.nodeCpuSeconds
  for (const [node, value] of Object.entries(p.committedPerS)) out[`${prefix}_committed_per_s_${node}`] = value
  out[`${prefix}_latency_p50_ms`] = p.latencyP50Ms
  out[`${prefix}_latency_p99_ms`] = p.latencyP99Ms
  out[`${prefix}_latency_max_ms`] = p.latencyMaxMs
  out[`${prefix}_drain_s`] = p.drainS
  out[`${prefix}_refused_503`] = p.refused
  out[`${prefix}_failed_requests`] = p.failures
  out[`${prefix}_ran_out`] = p.ranOut
  out[`${prefix}_eventloop_p99_ms`] = p.eventLoop.p99Ms
  out[`${prefix}_eventloop_max_ms`] = p.eventLoop.maxMs
  out[`${prefix}_leader_main_run_ms_per_s`] = p.leaderMainThread.runMsPerS
  out[`${prefix}_leader_main_wait_ms_per_s`] = p.leaderMainThread.waitMsPerS
  out[`${prefix}_generator_cpu_pct`] = p.generatorCpuPct
  out[`${prefix}_generator_elu`] = p.generatorElu
  for (const [name, pct] of Object.entries(p.cpuPct)) out[`${prefix}_cpu_pct_${name.replace(/-/g, '_')}`] = pct
  if (p.foreignCpuPct !== undefined) out[`${prefix}_foreign_cpu_pct`] = p.foreignCpuPct
  for (const [node, memory] of Object.entries(p.memory)) {
    const key = node.replace(/-/g, '_')
    out[`${prefix}_peak_anon_mb_${key}`] = memory.peakAnon / MB
    out[`${prefix}_peak_rss_mb_${key}`] = memory.peakRss / MB
  }
}

/** Every figure of the measurements, flat: `<config>_<path>_<phase>_<figure>`. */
/** One measurement of the limit: each verifier's rate, the faster one's per CPU second, and the other processes' share meanwhile. */
function limitFigures (prefix: string, limit: MachineLimit, out: Figures): void {
  out[`${prefix}_node_crypto_per_s`] = limit.nodeCrypto.perSecond
  out[`${prefix}_sodium_per_s`] = limit.sodium.perSecond
  out[`${prefix}_per_cpu_s`] = limit.fastest.perCpuSecond
  out[`${prefix}_verifier`] = limit.fastest.verifier === 'node' ? 'node:crypto' : 'libsodium'
  out[`${prefix}_foreign_cpu_pct`] = limit.fastest.foreignCpuPct ?? NaN
}

export function measurementFigures (measurements: readonly Measurement[]): Figures {
  const out: Figures = {}
  for (const m of measurements) {
    const prefix = `${m.config}_${m.path}`
    out[`${prefix}_block_interval_ms`] = m.blockIntervalMs
    limitFigures(`${prefix}_verify`, m.limit, out)
    limitFigures(`${prefix}_verify_after`, m.limitAfter, out)
    out[`${prefix}_limit_per_s`] = clusterLimit(m)
    const r = m.result
    out[`${prefix}_available`] = r.available
    if (!r.available) continue
    if ('error' in r) {
      out[`${prefix}_error`] = r.error
      continue
    }
    out[`${prefix}_idle_eventloop_p99_ms`] = r.idleEventLoop.p99Ms
    phaseFigures(`${prefix}_sat`, m, r.saturation, out)
    if (r.half !== undefined) {
      out[`${prefix}_half_target_per_s`] = r.half.targetPerS
      phaseFigures(`${prefix}_half`, m, r.half, out)
    }
    out[`${prefix}_correct`] = r.problems.length === 0
    for (const [node, count] of Object.entries(r.unacknowledged)) out[`${prefix}_unacknowledged_included_${node.replace(/-/g, '_')}`] = count
  }
  return out
}

/** Numbers rounded for the JSON line: integers from 1,000 up, 3 significant digits below. */
export function rounded (figures: Figures): Figures {
  const out: Figures = {}
  for (const [key, value] of Object.entries(figures)) {
    out[key] = typeof value === 'number' ? round(value) : value
  }
  return out
}

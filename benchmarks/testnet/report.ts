// What a run prints: the per-node table, the faults, the figures against the issue's goals, the
// invariants, and the summary object that becomes the last line (JSON).
import { availableParallelism } from 'node:os'
import type { Distribution, FaultOutcome, Figures, NodeRow, UploadFigures } from './analysis.js'
import type { InclusionCounts, Invariant } from './invariants.js'
import type { LoadStats } from './load.js'
import type { TestnetOptions } from './options.js'
import type { MachineFigures } from './samples.js'

export interface ReportInput {
  options: TestnetOptions
  mode: 'netns' | 'loopback'
  modeLine: string
  invariants: Invariant[]
  rows: NodeRow[]
  figures: Figures
  outcomes: FaultOutcome[]
  names: string[]
  inclusion: InclusionCounts
  load: LoadStats
  machine: MachineFigures
  errors: Array<{ name: string, errors: number, examples: string[] }>
}

/** `met` is null when the run has no such figure (no faults, no quiet stretch). */
export interface Goal { name: string, value: number, limit: number, unit: string, met: boolean | null }

export interface TestnetResult {
  ok: boolean
  mode: 'netns' | 'loopback'
  invariants: Invariant[]
  goals: Goal[]
  /** The report, line by line (the JSON line not included). */
  lines: string[]
  summary: Record<string, unknown>
}

function f (value: number | undefined, digits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return 'n/a'
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
}

function table (header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)))
  const line = (cells: string[]): string => cells.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join('  ')
  return [line(header), line(widths.map(w => '-'.repeat(w))), ...rows.map(line)]
}

function nodeTable (rows: NodeRow[]): string[] {
  return table(
    ['node', 'role', 'hops', 'leader-addr', 'height', 'gossip', 'sync', 'faults', 'recovery s', 'cpu us/msg', 'idle %', 'errors'],
    rows.map(r => [r.name, r.role, String(r.hops), r.role === 'leader' ? '-' : r.knowsLeader ? 'yes' : 'no', String(r.height), String(r.gossipBlocks),
      String(r.syncBlocks), r.faults || '-', r.recoveryS || '-', f(r.cpuUsPerMessage), f(r.idleCpuPct, 2), String(r.errors)])
  )
}

function dist (d: Distribution, unit: string, digits = 0): string {
  return `p50 ${f(d.p50, digits)} ${unit}, p99 ${f(d.p99, digits)} ${unit}, max ${f(d.max, digits)} ${unit} (n = ${d.n})`
}

function uploadLine (u: UploadFigures): string {
  return `gossip ${f(u.gossipBytesPerBlock)} B, sync ${f(u.syncBytesPerBlock)} B, all of libp2p ${f(u.globalBytesPerBlock)} B per block; mean block ${f(u.blockBytesMean)} B: all = ${f(u.globalRatio, 1)} x the block, gossip alone ${f(u.ratio, 1)} x (over ${u.blocks} blocks)`
}

function goals (fig: Figures): Goal[] {
  const goal = (name: string, value: number, limit: number, unit: string): Goal => ({ name, value, limit, unit, met: Number.isFinite(value) ? value <= limit : null })
  return [
    goal('propagation p99', fig.propagationMs.p99, 1000, 'ms'),
    goal('leader upload per block / block size', fig.upload.globalRatio, 12, 'x'),
    goal('recovery, slowest', fig.recoveryMs.n === 0 ? NaN : fig.recoveryMs.max, 20_000, 'ms'),
    goal('peer CPU per stored message, median', fig.peerCpuUsPerMessage.p50, 80, 'us'),
    goal('idle peer CPU, median', fig.peerIdleCpuPct?.p50 ?? NaN, 0.5, '% of a core')
  ]
}

function faultLines (outcomes: FaultOutcome[], names: string[]): string[] {
  return outcomes.map(o => {
    const at = `${o.kind} ${names[o.node]} at ${(o.atMs / 1000).toFixed(1)} s`
    if (o.skipped !== undefined) return `  ${at}: skipped (${o.skipped})`
    const length = o.startedAt !== undefined && o.endedAt !== undefined ? ((o.endedAt - o.startedAt) / 1000).toFixed(1) : '?'
    const back = o.recoveryMs === undefined ? 'never caught up' : `back at the leader's height in ${(o.recoveryMs / 1000).toFixed(1)} s`
    const gossip = o.gossipAfterMs === undefined ? 'no block from gossip since' : `first block from gossip after ${(o.gossipAfterMs / 1000).toFixed(1)} s`
    return `  ${at}: out ${length} s, leader at height ${o.targetHeight ?? '?'} when it ended, ${back}, ${gossip}`
  })
}

function rounded (value: number): number | null {
  if (!Number.isFinite(value)) return null
  return Math.abs(value) >= 100 ? Math.round(value) : Number(value.toPrecision(3))
}

function roundDeep (value: unknown): unknown {
  if (typeof value === 'number') return rounded(value)
  if (Array.isArray(value)) return value.map(roundDeep)
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, roundDeep(v)]))
  return value
}

export function summarize (input: ReportInput): TestnetResult {
  const { options: o, figures: fig } = input
  const g = goals(fig)
  const ok = input.invariants.every(i => i.ok)
  const p = fig.propagationMs
  const lines = [
    ...nodeTable(input.rows),
    '',
    `faults (${input.outcomes.length}):`,
    ...faultLines(input.outcomes, input.names),
    '',
    `propagation, leader's block timestamp to stored on each peer (from the nodes' logs, blocks made during the load, outside each node's fault and recovery): ${dist(p, 'ms')}; by gossip ${p.gossip}, by sync ${p.sync}, ${p.excluded} left out in fault windows`,
    `  nodes never faulted: ${dist(p.unfaulted, 'ms')}`,
    `  by hops from the leader: ${Object.entries(p.byHops).map(([hops, d]) => `${hops}: p50 ${f(d.p50)} p99 ${f(d.p99)} ms (n ${d.n})`).join('; ')}`,
    `leader upload during the load: ${uploadLine(fig.upload)}`,
    ...(fig.idleUpload === undefined ? [] : [`leader upload in the quiet stretch: ${uploadLine(fig.idleUpload)}`]),
    `recovery: ${fig.recoveryMs.n === 0 ? 'no faults' : dist(fig.recoveryMs, 'ms')}`,
    `CPU per stored message (utime + stime over the load and the wait, / messages stored): peers ${dist(fig.peerCpuUsPerMessage, 'us')}${fig.peerCpuNetUsPerMessage === undefined ? '' : `; net of idle: ${dist(fig.peerCpuNetUsPerMessage, 'us')}`}; leader ${f(fig.leaderCpuUsPerMessage)} us`,
    ...(fig.peerIdleCpuPct === undefined ? [] : [`idle CPU (${o.idleS} s with no load and no faults): peers ${dist(fig.peerIdleCpuPct, '%', 2)} of a core; leader ${f(fig.leaderIdleCpuPct, 2)} %`]),
    `load: ${input.load.sent} messages sent, ${input.load.acked} acknowledged (${Object.entries(input.load.ackedBy).map(([n, c]) => `${n} ${c}`).join(', ')})${Object.keys(input.load.refused).length === 0 ? '' : `; not acknowledged: ${Object.entries(input.load.refused).map(([why, c]) => `${why}: ${c}`).join(', ')}`}`,
    ...(fig.leaderAdmitted === undefined ? [] : [`leader admitted during the load and the wait: ${fig.leaderAdmitted.api} through its API, ${fig.leaderAdmitted.gossip} relayed by peers (the peers acknowledged ${Object.entries(input.load.ackedBy).filter(([n]) => n !== input.names[0]).reduce((sum, [, c]) => sum + c, 0)})`]),
    `machine: 1-minute load average max ${f(input.machine.loadMax, 1)}, mean ${f(input.machine.loadMean, 1)}; of all ${availableParallelism()} cores over the load and the wait, the ${o.nodes} nodes used ${f(fig.machineShares.nodesPct, 1)} %, the runner ${f(fig.machineShares.runnerPct, 1)} %, other processes ${f(fig.machineShares.othersPct, 1)} %; the runner used ${f(input.machine.runnerCpuPct, 1)} % of a core over the whole run, its event-loop delay p99 ${f(input.machine.runnerLoopP99Ms)} ms, max ${f(input.machine.runnerLoopMaxMs)} ms (nodes at niceness +${o.nodeNice} to it)`,
    ...input.errors.map(e => `errors logged by ${e.name}: ${e.errors}, e.g. ${e.examples[0] ?? ''}`),
    '',
    'goals (issue 11), as measured:',
    ...g.map(x => `  ${x.met === null ? 'n/a    ' : x.met ? 'met    ' : 'not met'}  ${x.name}: ${f(x.value, x.unit === 'x' || x.unit.startsWith('%') ? 2 : 0)} ${x.unit} (goal <= ${f(x.limit, 1)})`),
    'invariants:',
    ...input.invariants.map(i => `  ${i.ok ? 'ok  ' : 'FAIL'}  ${i.name}: ${i.detail}`),
    `testnet: ${ok ? 'every invariant holds' : 'an invariant failed'}`
  ]
  const summary = {
    testnet: { mode: input.mode, nodes: o.nodes, seed: o.seed, durationS: o.durationS, blockIntervalMs: o.blockIntervalMs, load: o.load, faults: o.faults, faultCount: o.faultCount },
    ok,
    invariants: Object.fromEntries(input.invariants.map(i => [i.name, i.ok])),
    propagationMs: { p50: p.p50, p99: p.p99, max: p.max, n: p.n, gossip: p.gossip, sync: p.sync, unfaulted: p.unfaulted, byHops: p.byHops },
    upload: fig.upload,
    ...(fig.idleUpload === undefined ? {} : { idleUpload: fig.idleUpload }),
    recoveryMs: input.outcomes.filter(x => x.skipped === undefined).map(x => x.recoveryMs ?? null),
    faults: input.outcomes.map(x => ({ kind: x.kind, node: input.names[x.node], atMs: x.atMs, ...(x.skipped === undefined ? { recoveryMs: x.recoveryMs ?? null, gossipAfterMs: x.gossipAfterMs ?? null } : { skipped: x.skipped }) })),
    peerCpuUsPerMessage: fig.peerCpuUsPerMessage,
    ...(fig.peerCpuNetUsPerMessage === undefined ? {} : { peerCpuNetUsPerMessage: fig.peerCpuNetUsPerMessage }),
    leaderCpuUsPerMessage: fig.leaderCpuUsPerMessage,
    ...(fig.peerIdleCpuPct === undefined ? {} : { peerIdleCpuPct: fig.peerIdleCpuPct, leaderIdleCpuPct: fig.leaderIdleCpuPct }),
    messages: input.inclusion,
    load: { sent: input.load.sent, acked: input.load.acked, refused: input.load.refused },
    machine: { ...input.machine, cores: availableParallelism(), ...fig.machineShares },
    ...(fig.leaderAdmitted === undefined ? {} : { leaderAdmitted: fig.leaderAdmitted }),
    goals: Object.fromEntries(g.map(x => [x.name, { value: x.value, limit: x.limit, met: x.met }]))
  }
  return { ok, mode: input.mode, invariants: input.invariants, goals: g, lines, summary: roundDeep(summary) as Record<string, unknown> }
}

// From the run's records (the nodes' logs, the leader's chain, the snapshots, the faults) to
// the figures: recovery per fault, block propagation, the leader's upload per block, CPU per
// stored message and idle CPU, and one row per node.
import { percentile } from '../e2e/common.js'
import type { ChainBlock } from './chain.js'
import type { FaultRecord } from './faults.js'
import { heightAt, reachedAt, type NodeLog } from './node-log.js'
import { machineShares, type Snapshot } from './samples.js'
import type { NodePlan } from './testnet-node.js'

export interface RunRecord {
  plans: NodePlan[]
  logs: NodeLog[]
  /** The leader's chain, index = height, up to `commonHeight`. */
  chain: ChainBlock[]
  commonHeight: number
  finalHeights: number[]
  loadStart: Snapshot
  /** When every node had converged after the load. */
  converged: Snapshot
  idleStart?: Snapshot
  idleEnd?: Snapshot
  faults: FaultRecord[]
  recoveryBoundMs: number
}

export interface FaultOutcome extends FaultRecord {
  node: number
  /** The leader's height when the fault ended. */
  targetHeight?: number
  recoveredAt?: number
  recoveryMs?: number
  /** From the fault's end to the first block the node stored from gossip again. */
  gossipAfterMs?: number
}

export interface Distribution { n: number, p50: number, p99: number, max: number }

export interface Figures {
  propagationMs: Distribution & { gossip: number, sync: number, excluded: number, byHops: Record<string, Distribution>, unfaulted: Distribution }
  upload: UploadFigures
  idleUpload?: UploadFigures
  recoveryMs: Distribution
  /** Per peer, µs of CPU per stored message: gross, and net of its idle rate. */
  peerCpuUsPerMessage: Distribution
  peerCpuNetUsPerMessage?: Distribution
  leaderCpuUsPerMessage: number
  /** Shares of the whole machine (all cores, %) over the load and the wait: the nodes, the runner, other processes. */
  machineShares: { nodesPct: number, runnerPct: number, othersPct: number }
  /** What the leader admitted over the load and the wait, by source: api (its own 202s) and gossip (peers' relays). */
  leaderAdmitted?: { api: number, gossip: number }
  /** % of one core over the quiet stretch. */
  peerIdleCpuPct?: Distribution
  leaderIdleCpuPct?: number
}

export interface UploadFigures {
  blocks: number
  blockBytesMean: number
  gossipBytesPerBlock: number
  syncBytesPerBlock: number
  globalBytesPerBlock: number
  /** gossipBytesPerBlock / blockBytesMean. */
  ratio: number
  /** globalBytesPerBlock / blockBytesMean: everything the leader sent, sync answers included. */
  globalRatio: number
}

export interface NodeRow {
  name: string
  role: string
  hops: number
  knowsLeader: boolean
  height: number
  gossipBlocks: number
  syncBlocks: number
  faults: string
  recoveryS: string
  cpuUsPerMessage: number
  idleCpuPct: number
  errors: number
}

export function distribution (values: number[]): Distribution {
  const sorted = Float64Array.from(values).sort()
  return { n: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.length === 0 ? NaN : sorted[sorted.length - 1] }
}

export function faultOutcomes (run: RunRecord): FaultOutcome[] {
  const leaderLog = run.logs[0]
  return run.faults.map(fault => {
    if (fault.endedAt === undefined || fault.skipped !== undefined) return { ...fault }
    const targetHeight = heightAt(leaderLog, fault.endedAt)
    const log = run.logs[fault.node]
    const recoveredAt = reachedAt(log, targetHeight, fault.endedAt)
    const endedAt = fault.endedAt
    const gossipAt = log.received.find(r => r.time >= endedAt)?.time
    return {
      ...fault,
      targetHeight,
      ...(recoveredAt === undefined ? {} : { recoveredAt, recoveryMs: recoveredAt - endedAt }),
      ...(gossipAt === undefined ? {} : { gossipAfterMs: gossipAt - endedAt })
    }
  })
}

/** The first time the node held `height` (its first tip at or above it). */
function storedAt (log: NodeLog, height: number): number | undefined {
  return log.tips.find(tip => tip.height >= height)?.time
}

function propagation (run: RunRecord, outcomes: FaultOutcome[]): Figures['propagationMs'] {
  const all: number[] = []
  const unfaulted: number[] = []
  const byHops = new Map<number, number[]>()
  let gossip = 0
  let sync = 0
  let excluded = 0
  for (let i = 1; i < run.plans.length; i++) {
    const log = run.logs[i]
    const gossipHeights = new Set(log.received.map(r => r.height))
    // A block made from just before a fault on this node until it caught up says nothing about propagation.
    const windows = outcomes.filter(f => f.node === i && f.startedAt !== undefined)
      .map(f => [(f.startedAt ?? 0) - 1000, f.recoveredAt ?? (f.endedAt ?? Infinity) + run.recoveryBoundMs])
    for (let h = run.loadStart.leaderHeight + 1; h <= run.commonHeight; h++) {
      const block = run.chain[h]
      if (block === undefined) continue
      if (windows.some(([from, to]) => block.timestamp >= from && block.timestamp <= to)) { excluded++; continue }
      const at = storedAt(log, h)
      if (at === undefined) continue
      const ms = at - block.timestamp
      all.push(ms)
      if (windows.length === 0) unfaulted.push(ms)
      const hops = run.plans[i].hops
      byHops.set(hops, [...(byHops.get(hops) ?? []), ms])
      if (gossipHeights.has(h)) gossip++
      else sync++
    }
  }
  return {
    ...distribution(all),
    gossip,
    sync,
    excluded,
    unfaulted: distribution(unfaulted),
    byHops: Object.fromEntries([...byHops].sort((a, b) => a[0] - b[0]).map(([hops, values]) => [String(hops), distribution(values)]))
  }
}

function upload (chain: ChainBlock[], from: Snapshot, to: Snapshot): UploadFigures | undefined {
  if (from.upload === undefined || to.upload === undefined) return undefined
  const blocks = to.leaderHeight - from.leaderHeight
  let bytes = 0
  let counted = 0
  for (let h = from.leaderHeight + 1; h <= to.leaderHeight; h++) {
    if (chain[h] !== undefined) { bytes += chain[h].bytes; counted++ }
  }
  const blockBytesMean = bytes / counted
  const perBlock = (a: number, b: number): number => (b - a) / blocks
  const gossipBytesPerBlock = perBlock(from.upload.gossipSent, to.upload.gossipSent)
  const globalBytesPerBlock = perBlock(from.upload.globalSent, to.upload.globalSent)
  return {
    blocks,
    blockBytesMean,
    gossipBytesPerBlock,
    syncBytesPerBlock: perBlock(from.upload.syncSent, to.upload.syncSent),
    globalBytesPerBlock,
    ratio: gossipBytesPerBlock / blockBytesMean,
    globalRatio: globalBytesPerBlock / blockBytesMean
  }
}

function messagesBetween (chain: ChainBlock[], fromHeight: number, toHeight: number): number {
  let n = 0
  for (let h = fromHeight + 1; h <= toHeight; h++) n += chain[h]?.messageIds.length ?? 0
  return n
}

interface CpuFigures { grossUs: number[], netUs: number[], idlePct: number[] }

function cpu (run: RunRecord): CpuFigures {
  const out: CpuFigures = { grossUs: [], netUs: [], idlePct: [] }
  const seconds = (run.converged.at - run.loadStart.at) / 1000
  run.plans.forEach((_, i) => {
    const log = run.logs[i]
    const messages = messagesBetween(run.chain, heightAt(log, run.loadStart.at), Math.min(run.commonHeight, heightAt(log, run.converged.at)))
    const used = run.converged.cpu[i] - run.loadStart.cpu[i]
    const idle = run.idleStart === undefined || run.idleEnd === undefined
      ? NaN
      : (run.idleEnd.cpu[i] - run.idleStart.cpu[i]) / ((run.idleEnd.at - run.idleStart.at) / 1000)
    out.grossUs.push(1e6 * used / messages)
    out.netUs.push(1e6 * (used - idle * seconds) / messages)
    out.idlePct.push(100 * idle)
  })
  return out
}

export function figures (run: RunRecord, outcomes: FaultOutcome[]): Figures {
  const c = cpu(run)
  const peers = <T>(values: T[]): T[] => values.slice(1)
  const up = upload(run.chain, run.loadStart, run.converged)
  const idleUp = run.idleStart === undefined || run.idleEnd === undefined ? undefined : upload(run.chain, run.idleStart, run.idleEnd)
  const hasIdle = run.idleStart !== undefined
  const a = run.loadStart.leaderAdmitted
  const b = run.converged.leaderAdmitted
  return {
    machineShares: machineShares(run.loadStart, run.converged),
    ...(a === undefined || b === undefined ? {} : { leaderAdmitted: { api: b.api - a.api, gossip: b.gossip - a.gossip } }),
    propagationMs: propagation(run, outcomes),
    upload: up ?? { blocks: 0, blockBytesMean: NaN, gossipBytesPerBlock: NaN, syncBytesPerBlock: NaN, globalBytesPerBlock: NaN, ratio: NaN, globalRatio: NaN },
    ...(idleUp === undefined ? {} : { idleUpload: idleUp }),
    recoveryMs: distribution(outcomes.flatMap(f => f.recoveryMs === undefined ? [] : [f.recoveryMs])),
    peerCpuUsPerMessage: distribution(peers(c.grossUs).filter(Number.isFinite)),
    ...(hasIdle ? { peerCpuNetUsPerMessage: distribution(peers(c.netUs).filter(Number.isFinite)) } : {}),
    leaderCpuUsPerMessage: c.grossUs[0],
    ...(hasIdle ? { peerIdleCpuPct: distribution(peers(c.idlePct)), leaderIdleCpuPct: c.idlePct[0] } : {})
  }
}

export function nodeRows (run: RunRecord, outcomes: FaultOutcome[]): NodeRow[] {
  const c = cpu(run)
  return run.plans.map((plan, i) => {
    const log = run.logs[i]
    const mine = outcomes.filter(f => f.node === i)
    return {
      name: plan.name,
      role: plan.leader ? 'leader' : 'peer',
      hops: plan.hops,
      knowsLeader: plan.leader || plan.args.includes('--leader-addr'),
      height: run.finalHeights[i],
      gossipBlocks: log.received.length,
      syncBlocks: log.synced.reduce((sum, s) => sum + s.blocks, 0),
      faults: mine.map(f => f.skipped === undefined ? f.kind : `${f.kind} (skipped)`).join(','),
      recoveryS: mine.filter(f => f.skipped === undefined).map(f => f.recoveryMs === undefined ? 'never' : (f.recoveryMs / 1000).toFixed(1)).join(','),
      cpuUsPerMessage: c.grossUs[i],
      idleCpuPct: c.idlePct[i],
      errors: log.errors
    }
  })
}

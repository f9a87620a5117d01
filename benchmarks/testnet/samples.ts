// Readings the runner takes at a few moments (never in a loop over the run): each node's CPU,
// the leader's libp2p upload counters, and the machine's load average.
import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { metricValue } from '../../test/helpers/api-client.js'
import { cpuSample } from '../util.js'
import type { TestnetNode } from './testnet-node.js'

export interface UploadCounters {
  /** Bytes the leader sent on gossipsub streams (both topics, control included). */
  gossipSent: number
  /** Bytes it sent answering sync requests. */
  syncSent: number
  /** Every byte libp2p sent. */
  globalSent: number
}

export interface Snapshot {
  at: number
  /** CPU seconds by node index. */
  cpu: number[]
  upload: UploadCounters | undefined
  /** The leader's kimura_messages_admitted_total by source (api, gossip). */
  leaderAdmitted: { api: number, gossip: number } | undefined
  leaderHeight: number
  /** CPU seconds every process of the machine used so far (/proc/stat), and this runner's own. */
  machineBusy: number | undefined
  runnerCpu: number
}

/** Sums the series of `libp2p_data_transfer_bytes_total` whose protocol label matches. */
function transferred (text: string, matches: (protocol: string) => boolean): number {
  let sum = 0
  for (const line of text.split('\n')) {
    const m = /^libp2p_data_transfer_bytes_total\{protocol="([^"]*)"\}\s+(\S+)/.exec(line)
    if (m !== null && matches(m[1])) sum += Number(m[2])
  }
  return sum
}

export function uploadCounters (metrics: string): UploadCounters {
  return {
    gossipSent: transferred(metrics, p => p.startsWith('/meshsub/') && p.endsWith(' sent')),
    syncSent: transferred(metrics, p => p.startsWith('/kimura/sync/') && p.endsWith(' sent')),
    globalSent: metricValue(metrics, 'libp2p_data_transfer_bytes_total', { protocol: 'global sent' }) ?? NaN
  }
}

export async function snapshot (nodes: readonly TestnetNode[]): Promise<Snapshot> {
  const leader = nodes[0]
  const [metrics, status] = await Promise.all([leader.metrics(), leader.status()])
  const machine = cpuSample()
  return {
    at: Date.now(),
    cpu: nodes.map(n => n.cpuSeconds()),
    upload: metrics === undefined ? undefined : uploadCounters(metrics),
    leaderAdmitted: metrics === undefined
      ? undefined
      : { api: metricValue(metrics, 'kimura_messages_admitted_total', { source: 'api' }) ?? 0, gossip: metricValue(metrics, 'kimura_messages_admitted_total', { source: 'gossip' }) ?? 0 },
    leaderHeight: status?.height ?? NaN,
    machineBusy: machine.machineBusy,
    runnerCpu: machine.own
  }
}

export interface MachineFigures {
  loadMax: number
  loadMean: number
  runnerCpuPct: number
  /** The runner's own event-loop delay, ms: whether it kept its schedule (faults, load ticks). */
  runnerLoopP99Ms: number
  runnerLoopMaxMs: number
}

/** The 1-minute load average every `everyMs`, this process's CPU and event-loop delay, until stopped. */
export class MachineWatch {
  readonly loads: number[] = []
  private readonly loop = monitorEventLoopDelay({ resolution: 20 })
  private readonly timer: NodeJS.Timeout
  private readonly cpuStart = process.cpuUsage()
  private readonly wallStart = performance.now()
  private result: MachineFigures | undefined

  constructor (everyMs = 5000) {
    this.read()
    this.timer = setInterval(() => { this.read() }, everyMs)
    this.timer.unref()
    this.loop.enable()
  }

  private read (): void {
    try {
      this.loads.push(Number(readFileSync('/proc/loadavg', 'latin1').split(' ')[0]))
    } catch {
      // Not Linux: no load figures.
    }
  }

  /** Stops (once; later calls answer the same); the load average's max and mean, and this process's CPU as % of one core. */
  stop (): MachineFigures {
    if (this.result !== undefined) return this.result
    clearInterval(this.timer)
    this.loop.disable()
    this.read()
    const cpu = process.cpuUsage(this.cpuStart)
    const seconds = (performance.now() - this.wallStart) / 1000
    this.result = {
      loadMax: this.loads.length === 0 ? NaN : Math.max(...this.loads),
      loadMean: this.loads.length === 0 ? NaN : this.loads.reduce((a, b) => a + b, 0) / this.loads.length,
      runnerCpuPct: 100 * (cpu.user + cpu.system) / 1e6 / seconds,
      runnerLoopP99Ms: this.loop.percentile(99) / 1e6,
      runnerLoopMaxMs: this.loop.max / 1e6
    }
    return this.result
  }
}

/** Shares of the machine (all cores, %) between two snapshots: the nodes, this runner, everything else. */
export function machineShares (from: Snapshot, to: Snapshot): { nodesPct: number, runnerPct: number, othersPct: number } {
  const capacity = availableParallelism() * (to.at - from.at) / 1000
  const nodes = to.cpu.reduce((sum, c, i) => sum + c - from.cpu[i], 0)
  const runner = to.runnerCpu - from.runnerCpu
  const busy = from.machineBusy === undefined || to.machineBusy === undefined ? NaN : to.machineBusy - from.machineBusy
  return { nodesPct: 100 * nodes / capacity, runnerPct: 100 * runner / capacity, othersPct: Math.max(0, 100 * (busy - nodes - runner) / capacity) }
}

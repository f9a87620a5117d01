// A running cluster under the load generator, watched from outside: heights (HeightWatcher),
// memory (MemorySampler), CPU (CpuMeter) and the leader's event loop, and a ledger of what was
// acknowledged and where it ended up. A phase is one run of the generator, measured until every
// node holds every message acknowledged in it. Used by the benchmark and by the soak.
import { waitFor } from '../../test/helpers/wait.js'
import { nodePids, type Cluster } from './cluster.js'
import { CpuMeter, sleep } from './common.js'
import { ChainLedger, phaseFigures, type PhaseFigures } from './ledger.js'
import type { LoadGenerator } from './load-client.js'
import type { RunReply } from './load-protocol.js'
import type { SubmissionPath } from './messages.js'
import { HeightWatcher, MainThreadMeter, MemorySampler, scrapeEventLoop, type EventLoopWindow, type MainThreadWindow, type MemoryPeaks } from './observe.js'

/** Batches [from, to) of the run's signed batches. */
export interface BatchRange {
  from: number
  to: number
}

export interface Phase extends PhaseFigures {
  seconds: number
  refused: number
  failures: number
  ranOut: boolean
  generatorCpuPct: number
  generatorElu: number
  /** CPU over the load, % of one core, by process name (nodes, generator) and this process (`bench`). */
  cpuPct: Record<string, number>
  foreignCpuPct: number | undefined
  eventLoop: EventLoopWindow
  /** The leader's main thread over the load: on a core, and waiting for one. */
  leaderMainThread: MainThreadWindow
  /** Over the load and until every node held the last message. */
  memory: Record<string, MemoryPeaks>
  drainS: number
  /** CPU seconds the nodes used from the first request until every node held the last message. */
  nodeCpuSeconds: number
  /** Batches of the range that were sent (the next phase starts after them). */
  sent: number
  /** What went wrong with the requests themselves (failures, answers with the wrong ids). */
  problems: string[]
}

export interface LoadOptions {
  path: SubmissionPath
  generator: LoadGenerator
  /** The ids of every signed batch, from batch 0. */
  ids: Uint8Array
  clients: number
  /** How long to wait for every node to hold every acknowledged message. */
  drainTimeoutMs: number
}

export class ClusterLoad {
  readonly watchers: HeightWatcher[]
  readonly memory: MemorySampler
  readonly ledger: ChainLedger
  /** The nodes' and the load generator's process ids, by name. */
  readonly cpuPids: Map<string, number>

  constructor (private readonly options: LoadOptions, readonly cluster: Cluster) {
    this.watchers = cluster.nodes.map(node => new HeightWatcher(node.name, node))
    const pids = nodePids(cluster)
    this.memory = new MemorySampler(pids)
    this.cpuPids = new Map(pids)
    if (options.generator.pid !== undefined) this.cpuPids.set('generator', options.generator.pid)
    this.ledger = new ChainLedger(options.ids, cluster.nodes.map(n => n.name))
  }

  start (): void {
    for (const watcher of this.watchers) watcher.start()
    this.memory.start()
  }

  stop (): void {
    this.memory.stop()
    for (const watcher of this.watchers) watcher.stop()
  }

  /**
   * Sends the first batch of `range` alone (an old node answers 400 to a path it does not
   * read: then the reason comes back), then the rest, and waits until every node holds them.
   */
  async warmUp (range: BatchRange): Promise<{ available: true } | { available: false, reason: string }> {
    const probe = await this.submit({ from: range.from, to: range.from + 1 }, 'closed', 1, 30_000)
    if (probe.status[0] === 400 && this.options.path === 'binary') return { available: false, reason: probe.problems.join('; ') }
    if (Number.isNaN(probe.ackAt[0])) throw new Error(`the first ${this.options.path} batch was not acknowledged: ${probe.problems.join('; ')}`)
    await this.submit({ from: range.from + 1, to: range.to }, 'closed', this.options.clients, 60_000)
    await this.drainAndScan()
    return { available: true }
  }

  /** The leader's event-loop delay over `ms` without load. */
  async idleEventLoop (ms: number): Promise<EventLoopWindow> {
    await scrapeEventLoop(this.cluster.leader)
    await sleep(ms)
    return await scrapeEventLoop(this.cluster.leader)
  }

  /** One load phase, measured until every node holds every message it acknowledged. */
  async phase (range: BatchRange, mode: 'closed' | 'open', clients: number, durationMs: number, rate?: number): Promise<Phase> {
    this.memory.reset()
    const meter = new CpuMeter(this.cpuPids)
    const mainThread = new MainThreadMeter(this.cpuPids.get(this.cluster.leader.name))
    await scrapeEventLoop(this.cluster.leader)
    const run = await this.submit(range, mode, clients, durationMs, rate)
    const eventLoop = await scrapeEventLoop(this.cluster.leader)
    const leaderMainThread = mainThread.read()
    const cpu = meter.read()
    const drained = await this.drain()
    // Read before the ledger's block reads, which cost the nodes CPU too.
    const untilHeld = meter.read()
    const nodeCpuSeconds = this.cluster.nodes.reduce((sum, node) => sum + (untilHeld.byName[node.name] ?? NaN) / 100 * untilHeld.seconds, 0)
    const memory = this.memory.reset()
    await this.ledger.scan(this.cluster.leader.name, this.cluster.leader, drained.height)
    const seen = new Map(this.watchers.map(w => [w.name, w.firstSeen]))
    const figures = phaseFigures(this.ledger, run, range.from, this.cluster.leader.name, seen)
    const problems = run.badAnswers > 0 || run.failures > 0
      ? [`${run.badAnswers} answers with the wrong ids and ${run.failures} failed requests: ${run.problems.join('; ')}`]
      : []
    let sent = 0
    run.status.forEach((status, i) => { if (status !== 0) sent = i + 1 })
    return {
      ...figures,
      seconds: (run.endedAt - run.startedAt) / 1000,
      refused: run.refused,
      failures: run.failures,
      ranOut: run.ranOut,
      generatorCpuPct: run.cpuPct,
      generatorElu: run.elu,
      cpuPct: { ...cpu.byName, bench: cpu.ownPct },
      foreignCpuPct: cpu.foreignPct,
      eventLoop,
      leaderMainThread,
      memory,
      drainS: drained.seconds,
      nodeCpuSeconds,
      sent,
      problems
    }
  }

  /** Reads every peer's chain and returns what breaks "every acknowledged id in exactly one block on every node". */
  async check (): Promise<string[]> {
    for (const peer of this.cluster.peers) await this.ledger.scan(peer.name, peer, await peer.height())
    return this.ledger.problems(this.cluster.leader.name)
  }

  private async submit (range: BatchRange, mode: 'closed' | 'open', clients: number, durationMs: number, rate?: number): Promise<RunReply> {
    const run = await this.options.generator.run({
      url: this.cluster.leader.api,
      path: this.options.path,
      from: range.from,
      to: range.to,
      mode,
      clients,
      durationMs,
      release: false,
      ...(rate === undefined ? {} : { rate })
    })
    this.ledger.acknowledge(run, range.from)
    return run
  }

  /**
   * Waits until the leader's pending pool is empty (its status, asked every 20 ms from now on),
   * and until every node is at the leader's height then. Returns that height and the seconds
   * it took.
   */
  async drain (): Promise<{ height: number, seconds: number }> {
    const started = performance.now()
    const leader = this.cluster.leader
    let target = 0
    await waitFor(async () => {
      if (target === 0) {
        const status = await leader.status().catch(() => undefined)
        if (status !== undefined && status.pending === 0) target = status.height
      }
      return target > 0 && this.watchers.every(w => w.height >= target)
    }, this.options.drainTimeoutMs, 'every node to hold every acknowledged message', 20)
    return { height: target, seconds: (performance.now() - started) / 1000 }
  }

  /** drain(), then the leader's blocks up to that height into the ledger. */
  private async drainAndScan (): Promise<number> {
    const drained = await this.drain()
    await this.ledger.scan(this.cluster.leader.name, this.cluster.leader, drained.height)
    return drained.seconds
  }
}

// The testnet run, in the stages of CometBFT's e2e runner: setup, start, load, perturb, wait,
// test, stop, cleanup. Each stage is a method; run() calls them in order and cleanup always
// runs (try/finally, an exit hook, and the signal handlers in signals.ts). The runner stays
// light: node logs go straight to files and are read once at the end, and the only periodic
// work is a status poll every second while it waits for the nodes.
import { setTimeout as sleep } from 'node:timers/promises'
import { DEFAULT_RELAY_RETRY } from '../../src/main/chain/relay-retry.js'
import { faultOutcomes, figures, nodeRows, type RunRecord } from './analysis.js'
import { readChain, getBlockJson, type ChainBlock } from './chain.js'
import { runFault, type FaultRecord } from './faults.js'
import { chooseHostNetwork, removeLeftoverLinks, type HostNetwork } from './host-network.js'
import { commonChain, exactlyOnce, missingIds, recovery, type MissingFate } from './invariants.js'
import { LoadGenerator, type LoadStats } from './load.js'
import { logTail, readNodeLog } from './node-log.js'
import type { TestnetOptions } from './options.js'
import { makePlan, rngFor, type TestnetPlan } from './plan.js'
import { summarize, type TestnetResult } from './report.js'
import { RunDirectory, removeLeftoverRuns } from './run-directory.js'
import { MachineWatch, snapshot, type Snapshot } from './samples.js'
import { TestnetNode } from './testnet-node.js'

const POLL_MS = 1000
/** A node's start (modules, pool, libp2p) took 25 s with 45 nodes already running on 2 cores. */
const START_TIMEOUT_MS = 180_000
const LOAD_TICK_MS = 200
/** The longest the wait stage waits for the acknowledged messages, however they trickle in. */
const MAX_WAIT_MS = 600_000
/** Missing messages looked up on the leader, to tell pending from never admitted. */
const FATE_SAMPLE = 200

export type Log = (line: string) => void

export class Testnet {
  private net: HostNetwork | undefined
  private dir: RunDirectory | undefined
  private plan: TestnetPlan | undefined
  private nodes: TestnetNode[] = []
  private readonly controller = new AbortController()
  private readonly began = Date.now()
  private readonly faults: FaultRecord[] = []
  private generator: LoadGenerator | undefined
  private loadStats: LoadStats | undefined
  private loadStart: Snapshot | undefined
  private converged: Snapshot | undefined
  private idle: { start: Snapshot, end: Snapshot } | undefined
  private chain: ChainBlock[] = []
  private commonHeight = 0
  private cleaned = false

  constructor (readonly options: TestnetOptions, private readonly log: Log) {}

  get signal (): AbortSignal {
    return this.controller.signal
  }

  /** What the run made that cleanup must remove: every node process id so far and the run directory. */
  made (): { pids: number[], runDirectory: string | undefined } {
    return { pids: this.nodes.flatMap(n => n.pids), runDirectory: this.dir?.path }
  }

  abort (reason: string): void {
    this.controller.abort(new Error(reason))
  }

  private say (text: string): void {
    this.log(`[${((Date.now() - this.began) / 1000).toFixed(1).padStart(6)} s] ${text}`)
  }

  /** Runs every stage; cleanup always. */
  async run (): Promise<TestnetResult> {
    const machine = new MachineWatch()
    try {
      await this.setup()
      await this.start()
      await this.load()
      await this.perturb()
      await this.wait()
      const result = await this.test(machine)
      await this.stop()
      return result
    } finally {
      machine.stop()
      this.cleanupSync()
    }
  }

  /** Leftovers of a crashed run removed, the host network chosen and made, keys and plan written. */
  async setup (): Promise<void> {
    const o = this.options
    const leftovers = [...removeLeftoverRuns(o.prefix), ...removeLeftoverLinks(o.prefix)]
    this.net = chooseHostNetwork(o.mode, o.prefix, o.subnet)
    this.log(`testnet: ${this.net.mode} mode, ${this.net.description}`)
    for (const what of leftovers) this.say(`setup: removed a leftover ${what}`)
    this.dir = new RunDirectory(o.prefix)
    this.net.create(o.nodes)
    this.plan = await makePlan(o, this.net, this.dir)
    const net = this.net
    const dir = this.dir
    this.nodes = this.plan.nodes.map(p => new TestnetNode(p, argv => net.wrap(p.index, argv), pid => { dir.recordPid(pid) }))
    const knowLeader = this.plan.nodes.filter(p => !p.leader && p.args.includes('--leader-addr')).length
    this.say(`setup: ${o.nodes} nodes in ${dir.path}, seed ${o.seed}; ${knowLeader} of ${o.nodes - 1} peers know the leader, the farthest is ${Math.max(...this.plan.nodes.map(p => p.hops))} hops away`)
    this.say(`setup: load ${o.load} msg/s to ${this.plan.loadTargets.map(i => this.nodes[i].name).join(', ')}; faults: ${this.plan.faults.map(f => `${f.kind} ${this.nodes[f.node].name} at ${(f.atMs / 1000).toFixed(1)} s`).join(', ') || 'none'}`)
  }

  /** The leader, then the peers a few at a time; until every node answers, has a peer and has synced. */
  async start (): Promise<void> {
    const [leader, ...peers] = this.nodes
    leader.start()
    await this.waitUntil(async () => await this.answers(leader), START_TIMEOUT_MS, 'the leader to answer')
    let reported = 0
    for (let i = 0; i < peers.length; i += this.options.startConcurrency) {
      const batch = peers.slice(i, i + this.options.startConcurrency)
      for (const node of batch) node.start()
      for (const node of batch) await this.waitUntil(async () => await this.answers(node), START_TIMEOUT_MS, `${node.name} to answer`)
      const up = 1 + i + batch.length
      if (up - reported >= 10 && up < this.nodes.length) { this.say(`start: ${up} of ${this.nodes.length} nodes answer`); reported = up }
    }
    const target = (await leader.status())?.height ?? 0
    await this.waitUntil(async () => {
      const statuses = await Promise.all(this.nodes.map(async n => await n.status()))
      return statuses.every(s => s !== undefined && s.peers >= 1 && s.height >= target)
    }, START_TIMEOUT_MS + 1000 * this.nodes.length, `every node to have a peer and reach height ${target}`)
    this.say(`start: ${this.nodes.length} nodes up and linked, leader at height ${(await leader.status())?.height ?? '?'}`)
  }

  /** The load begins (it runs through the perturb stage); the snapshot before it opens the measured window. */
  async load (): Promise<void> {
    const plan = this.need(this.plan)
    this.generator = new LoadGenerator(plan.loadTargets.map(i => this.nodes[i]), this.options.load, LOAD_TICK_MS, rngFor(this.options.seed, 'load'))
    this.loadStart = await snapshot(this.nodes)
    this.generator.start()
  }

  /** The fault schedule over --duration, then the load stops. */
  async perturb (): Promise<void> {
    const startedAt = Date.now()
    // Each fault's promise resolves with its error, so an abort never leaves a rejection unobserved.
    const running: Array<Promise<Error | undefined>> = []
    for (const plan of this.need(this.plan).faults) {
      const wait = startedAt + plan.atMs - Date.now()
      if (wait > 0) await sleep(wait, undefined, { signal: this.signal })
      const record: FaultRecord = { ...plan }
      this.faults.push(record)
      const node = this.nodes[plan.node]
      this.say(`perturb: ${plan.kind} ${node.name}`)
      running.push(runFault(record, node, this.need(this.net), this.options.faultMs, this.signal).then(() => {
        this.say(record.skipped === undefined ? `perturb: ${node.name} back after ${plan.kind} (${(((record.endedAt ?? 0) - (record.startedAt ?? 0)) / 1000).toFixed(1)} s)` : `perturb: ${plan.kind} ${node.name} skipped: ${record.skipped}`)
        return undefined
      }, (err: unknown) => err instanceof Error ? err : new Error(`${plan.kind} ${node.name} failed: ${String(err)}`)))
    }
    const left = startedAt + this.options.durationS * 1000 - Date.now()
    if (left > 0) await sleep(left, undefined, { signal: this.signal })
    const errors = (await Promise.all(running)).filter(e => e !== undefined)
    this.loadStats = await this.need(this.generator).stop()
    if (errors.length > 0) throw errors[0]
    this.say(`perturb: load stopped: ${this.loadStats.acked} of ${this.loadStats.sent} messages acknowledged`)
  }

  /**
   * Every acknowledged message in the leader's chain (waiting as long as more of them keep
   * arriving, up to 30 s, 20 intervals or a peer's first two resend waits without one), then
   * every node at that height; then the quiet stretch.
   */
  async wait (): Promise<void> {
    const leader = this.nodes[0]
    const acked = this.need(this.generator).acked
    const found = new Set<string>()
    let readUpTo = 0
    // A relay dropped on the way arrives with a peer's resend (RelayRetry): 45 s after the
    // first send, and 90 s after that one if the first resend was dropped too. Waiting less
    // counted such messages as lost: in a 50-node run, all 200 of them sampled were in blocks
    // by the time the runner looked them up.
    const { resendAfterMs } = DEFAULT_RELAY_RETRY
    const patienceMs = Math.max(30_000, 20 * this.options.blockIntervalMs, 3 * resendAfterMs + 15_000)
    let lastProgress = Date.now()
    let lastFound = -1
    await this.waitUntil(async () => {
      const height = (await leader.status())?.height ?? 0
      // A loaded leader may not answer in time: the next poll reads again from where this one was.
      if (height > readUpTo && await readChain(leader.api, readUpTo + 1, height, this.chain).then(() => true, () => false)) {
        for (let h = readUpTo + 1; h <= height; h++) for (const id of this.chain[h].messageIds) if (acked.has(id)) found.add(id)
        readUpTo = height
      }
      if (found.size > lastFound) { lastFound = found.size; lastProgress = Date.now() }
      return found.size === acked.size || Date.now() - lastProgress > patienceMs
    }, MAX_WAIT_MS, 'every acknowledged message in the leader\'s chain', false)
    this.commonHeight = readUpTo
    const reached = await this.waitUntil(async () => {
      const statuses = await Promise.all(this.nodes.map(async n => await n.status()))
      return statuses.every(s => (s?.height ?? 0) >= this.commonHeight)
    }, Math.max(60_000, 2 * this.options.recoveryS * 1000), `every node at height ${this.commonHeight}`, false)
    this.converged = await snapshot(this.nodes)
    this.say(`wait: ${found.size} of ${acked.size} acknowledged messages in blocks 1..${this.commonHeight}; ${reached ? 'every node holds that height' : 'not every node reached it'}`)
    if (this.options.idleS > 0) {
      const start = await snapshot(this.nodes)
      await sleep(this.options.idleS * 1000, undefined, { signal: this.signal })
      const end = await snapshot(this.nodes)
      this.idle = { start, end }
      if (end.leaderHeight > readUpTo) await this.waitUntil(async () => await readChain(leader.api, readUpTo + 1, end.leaderHeight, this.chain).then(() => true, () => false), 60_000, 'the leader\'s blocks of the quiet stretch')
      this.say(`wait: quiet stretch of ${this.options.idleS} s measured`)
    }
  }

  /** The three invariants and the figures, from the nodes' APIs and logs. */
  async test (machine: MachineWatch): Promise<TestnetResult> {
    const plan = this.need(this.plan)
    const height = this.commonHeight
    const hashes = await Promise.all(this.nodes.map(async n => await getBlockJson(n.api, height, false).then(b => b?.hash, () => undefined)))
    const finalHeights = await Promise.all(this.nodes.map(async n => (await n.status())?.height ?? NaN))
    const run: RunRecord = {
      plans: plan.nodes,
      logs: plan.nodes.map(p => readNodeLog(p.logFile)),
      chain: this.chain,
      commonHeight: height,
      finalHeights,
      loadStart: this.need(this.loadStart),
      converged: this.need(this.converged),
      ...(this.idle === undefined ? {} : { idleStart: this.idle.start, idleEnd: this.idle.end }),
      faults: this.faults,
      recoveryBoundMs: this.options.recoveryS * 1000
    }
    const outcomes = faultOutcomes(run)
    const names = plan.nodes.map(p => p.name)
    const acked = this.need(this.generator).acked
    const missing = missingIds(this.chain, height, acked)
    const once = exactlyOnce(this.chain, height, acked, missing.length === 0 ? undefined : await missingFate(this.nodes[0], missing.slice(0, FATE_SAMPLE)))
    const invariants = [
      commonChain(names, hashes, finalHeights, height, this.chain[height]?.hash),
      once.invariant,
      recovery(outcomes, names, this.options.recoveryS * 1000)
    ]
    return summarize({
      options: this.options,
      mode: this.need(this.net).mode,
      modeLine: this.need(this.net).description,
      invariants,
      rows: nodeRows(run, outcomes),
      figures: figures(run, outcomes),
      outcomes,
      names,
      inclusion: once.counts,
      load: this.need(this.loadStats),
      machine: machine.stop(),
      errors: run.logs.map((l, i) => ({ name: names[i], errors: l.errors, examples: l.errorExamples })).filter(e => e.errors > 0)
    })
  }

  /** SIGTERM to every node; SIGKILL for one that does not exit in 20 s. */
  async stop (): Promise<void> {
    await Promise.all(this.nodes.map(async n => { n.signal('SIGCONT'); await n.stop('SIGTERM') }))
    this.say('stop: every node stopped')
  }

  /** Kills what still runs, removes the namespaces, links and the run directory. Synchronous; runs once. */
  cleanupSync (): void {
    if (this.cleaned) return
    this.cleaned = true
    for (const node of this.nodes) { node.signal('SIGCONT'); node.killSync() }
    this.net?.removeSync()
    this.dir?.removeSync(this.options.keep)
    this.say(`cleanup: nodes, ${this.net?.mode === 'netns' ? 'namespaces, links, bridge, ' : ''}run directory ${this.options.keep ? `kept at ${this.dir?.path ?? ''}` : 'removed'}`)
  }

  /** Polls `check` every second until true; throws at the deadline unless `optional` (then returns false). */
  private async waitUntil (check: () => Promise<boolean>, timeoutMs: number, what: string, required = true): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      if (await check()) return true
      if (Date.now() > deadline) {
        if (required) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`)
        return false
      }
      await sleep(POLL_MS, undefined, { signal: this.signal })
    }
  }

  /** Whether the node's API answers; throws when its process exited, with the end of its log. */
  private async answers (node: TestnetNode): Promise<boolean> {
    if (!node.running) throw new Error(`${node.name} exited during start; the end of its log:\n${logTail(node.plan.logFile)}`)
    return (await node.status()) !== undefined
  }

  private need<T> (value: T | undefined): T {
    if (value === undefined) throw new Error('a stage ran before the one it depends on')
    return value
  }
}

/** What the leader says of each of `ids`: pending (admitted, no block yet), included later, or unknown (404). */
async function missingFate (leader: TestnetNode, ids: string[]): Promise<MissingFate> {
  const fate: MissingFate = { sampled: 0, pending: 0, includedLater: 0, unknown: 0 }
  for (const id of ids) {
    try {
      const res = await fetch(`${leader.api}/v1/messages/${id}`, { signal: AbortSignal.timeout(5000) })
      fate.sampled++
      if (res.status === 404) fate.unknown++
      else if (res.status === 200) {
        if ((await res.json() as { height: number | null }).height === null) fate.pending++
        else fate.includedLater++
      }
    } catch {
      // Not counted.
    }
  }
  return fate
}

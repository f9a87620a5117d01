// Do event-stream subscribers slow the node? A leader and a peer (real processes, 500 ms
// blocks of ~500 messages each), the same run alternating phases without subscribers and with
// 200 live /v1/events streams on each node (from a separate process). Per phase: the peer's
// block latency at `stored` (block timestamp to stored, from its 'block received' lines, the
// same instant as kimura_block_latency_seconds{stage="stored"}) and the leader's build time
// ('block produced' buildMs); with subscribers, also how late their blocks arrived.
// Run: npm run build && npm run build:dev && node build/benchmarks/events.bench.js [--phase-s 15] [--subscribers 200]
import { fork } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { startCluster, stopCluster, type Cluster } from './e2e/cluster.js'
import { Sender, submitMsgpack } from '../test/helpers/api-client.js'
import type { Message } from '../src/shared/types.js'

interface Report { streams: number, records: number, bytes: number, failures: number, lags: number[], cpuMs: number }
interface Phase { subscribers: number, from: number, to: number, report?: Report, cpuMs: Record<string, number>, subscriberCpuMs?: number, loadAvg: number }

const args = process.argv.slice(2)
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? Number(args[i + 1]) : fallback
}
const PHASE_S = option('phase-s', 15)
const SUBSCRIBERS = option('subscribers', 200)
const ROUNDS = option('rounds', 2)
const INTERVAL_MS = 500
const MESSAGES_PER_BLOCK = 500
/** Blocks after a phase change that count for neither phase. */
const SETTLE_BLOCKS = 2

function quantile (values: readonly number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]
}
const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length)

/** CPU time (user + system) of a process and its threads, ms, from /proc. */
function cpuMsOf (pid: number | undefined): number {
  if (pid === undefined) return NaN
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

/** Log fields by height, from a node's JSON lines with this `msg`. */
function logged (output: string, msg: string, field: string): Map<number, number> {
  const out = new Map<number, number>()
  for (const line of output.split('\n')) {
    if (!line.includes(`"msg":"${msg}"`)) continue
    try {
      const entry = JSON.parse(line) as Record<string, unknown>
      if (typeof entry.height === 'number' && typeof entry[field] === 'number') out.set(entry.height, entry[field])
    } catch {
      // A partial line.
    }
  }
  return out
}

async function ask<T> (child: ReturnType<typeof fork>, command: object): Promise<T> {
  return await new Promise(resolve => {
    child.once('message', answer => { resolve(answer as T) })
    child.send(command)
  })
}

async function main (): Promise<void> {
  const totalS = PHASE_S * 2 * ROUNDS
  process.stdout.write(`events bench: leader + 1 peer, ${INTERVAL_MS} ms blocks of ~${MESSAGES_PER_BLOCK} messages; ${ROUNDS} x (${PHASE_S} s without, ${PHASE_S} s with ${SUBSCRIBERS} subscribers on each node)\n`)
  // Signed before the clock starts.
  const senders = Array.from({ length: 8 }, () => new Sender())
  const batches: Message[][] = Array.from({ length: Math.ceil(totalS * 1000 / INTERVAL_MS) + 20 }, (_, i) => senders[i % senders.length].messages(MESSAGES_PER_BLOCK, 64, 'bench'))
  const cluster: Cluster = await startCluster({ peers: 1, blockIntervalMs: INTERVAL_MS })
  const child = fork(new URL('./events-subscribers.js', import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const [leader, peer] = cluster.nodes
  let submitting = true
  const load = (async () => {
    for (const batch of batches) {
      if (!submitting) break
      const started = Date.now()
      const answer = await submitMsgpack(leader, batch)
      if (answer.status !== 202) process.stderr.write(`submit answered ${answer.status}\n`)
      await new Promise(resolve => setTimeout(resolve, Math.max(0, INTERVAL_MS - (Date.now() - started))))
    }
  })()
  const phases: Phase[] = []
  try {
    await new Promise(resolve => setTimeout(resolve, 3_000))
    for (let round = 0; round < ROUNDS; round++) {
      for (const subscribers of [0, SUBSCRIBERS]) {
        if (subscribers > 0) await ask(child, { open: { urls: [leader.api, peer.api], perUrl: subscribers } })
        const before = await ask<Report>(child, { report: true })
        const from = await peer.height() + SETTLE_BLOCKS
        const cpuBefore = { leader: cpuMsOf(leader.proc?.pid), peer: cpuMsOf(peer.proc?.pid) }
        const loadBefore = loadavg()[0]
        await new Promise(resolve => setTimeout(resolve, PHASE_S * 1000))
        const phase: Phase = {
          subscribers,
          from,
          to: await peer.height(),
          cpuMs: { leader: cpuMsOf(leader.proc?.pid) - cpuBefore.leader, peer: cpuMsOf(peer.proc?.pid) - cpuBefore.peer },
          loadAvg: (loadBefore + loadavg()[0]) / 2
        }
        phase.report = await ask<Report>(child, { report: true })
        phase.subscriberCpuMs = phase.report.cpuMs - before.cpuMs
        if (subscribers > 0) await ask(child, { close: true })
        phases.push(phase)
      }
    }
  } finally {
    submitting = false
    await load
    child.kill()
    await stopCluster(cluster)
  }

  const stored = logged(peer.output, 'block received', 'latencyMs')
  const built = logged(leader.output, 'block produced', 'buildMs')
  const sizes = logged(leader.output, 'block produced', 'messages')
  const figures: Record<string, number> = {}
  process.stdout.write('\nphase  subscribers/node  gossip/all blocks  msgs/block  peer stored p50/p99/mean ms  leader build p50/p99 ms  subscriber lag p50/p99 ms  records  MB sent  CPU %% leader/peer/subscribers  load\n'.replace('%%', '%'))
  const byCondition = new Map<number, { stored: number[], built: number[], lags: number[], cpu: { leader: number, peer: number } }>()
  phases.forEach((phase, i) => {
    const heights = Array.from({ length: Math.max(0, phase.to - phase.from + 1) }, (_, k) => phase.from + k)
    const s = heights.map(h => stored.get(h)).filter((v): v is number => v !== undefined)
    const b = heights.map(h => built.get(h)).filter((v): v is number => v !== undefined)
    const m = heights.map(h => sizes.get(h)).filter((v): v is number => v !== undefined)
    const lags = phase.report?.lags ?? []
    const c = byCondition.get(phase.subscribers) ?? { stored: [], built: [], lags: [], cpu: { leader: 0, peer: 0 } }
    c.cpu.leader += phase.cpuMs.leader
    c.cpu.peer += phase.cpuMs.peer
    c.stored.push(...s)
    c.built.push(...b)
    c.lags.push(...lags)
    byCondition.set(phase.subscribers, c)
    process.stdout.write(`${String(i + 1).padEnd(7)}${String(phase.subscribers).padEnd(18)}${`${s.length}/${heights.length}`.padEnd(19)}${String(Math.round(mean(m))).padEnd(12)}` +
      `${`${quantile(s, 0.5)}/${quantile(s, 0.99)}/${mean(s).toFixed(1)}`.padEnd(30)}${`${quantile(b, 0.5)}/${quantile(b, 0.99)}`.padEnd(25)}` +
      `${lags.length === 0 ? '-' : `${quantile(lags, 0.5)}/${quantile(lags, 0.99)}`}`.padEnd(27) + `${String(phase.report?.records ?? 0).padEnd(9)}${((phase.report?.bytes ?? 0) / 1e6).toFixed(1).padEnd(9)}` +
      `${`${(phase.cpuMs.leader / PHASE_S / 10).toFixed(0)}/${(phase.cpuMs.peer / PHASE_S / 10).toFixed(0)}/${((phase.subscriberCpuMs ?? 0) / PHASE_S / 10).toFixed(0)}`.padEnd(31)}${phase.loadAvg.toFixed(1)}\n`)
  })
  for (const [subscribers, c] of byCondition) {
    const tag = subscribers === 0 ? 'without' : 'with'
    figures[`stored_p50_ms_${tag}`] = quantile(c.stored, 0.5)
    figures[`stored_p99_ms_${tag}`] = quantile(c.stored, 0.99)
    figures[`stored_mean_ms_${tag}`] = Number(mean(c.stored).toFixed(2))
    figures[`build_p50_ms_${tag}`] = quantile(c.built, 0.5)
    figures[`build_p99_ms_${tag}`] = quantile(c.built, 0.99)
    figures[`blocks_${tag}`] = c.stored.length
    figures[`leader_cpu_pct_${tag}`] = Number((c.cpu.leader / (PHASE_S * ROUNDS) / 10).toFixed(1))
    figures[`peer_cpu_pct_${tag}`] = Number((c.cpu.peer / (PHASE_S * ROUNDS) / 10).toFixed(1))
    if (subscribers > 0) {
      figures.subscribers_per_node = subscribers
      figures.subscriber_lag_p50_ms = quantile(c.lags, 0.5)
      figures.subscriber_lag_p99_ms = quantile(c.lags, 0.99)
    }
  }
  // A peer that fell behind caught up by sync: those blocks have no gossip latency (an overloaded machine).
  const synced = phases.reduce((n, p) => n + Math.max(0, p.to - p.from + 1), 0) - [...byCondition.values()].reduce((n, c) => n + c.stored.length, 0)
  figures.peer_blocks_not_by_gossip = synced
  if (synced > 0) process.stdout.write(`warning: ${synced} blocks reached the peer by sync, not gossip: the machine was too busy for these figures to mean much\n`)
  const failures = phases.reduce((n, p) => n + (p.report?.failures ?? 0), 0)
  figures.subscriber_failures = failures
  process.stdout.write(`\n${JSON.stringify(figures)}\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})

// `npm run bench:startup`: what a node costs to start, from `node dist/main.js` to a peer that
// has caught up. On a machine where many nodes share few cores, a restarted node gets a small
// share of a core, so its start-up CPU decides how long it stays behind (issue 11's recovery).
//
// A leader (500 ms blocks, test/helpers' NodeProcess) runs throughout; each round starts a
// fresh peer against it and reads the peer's CPU (every thread, /proc/<pid>/stat) as each of
// its start-up log lines arrives, until 'sync complete'. Also `node dist/main.js --version`
// (the CLI without the node). Last line: one JSON object.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { quantile } from '../test/helpers/api-client.js'
import { MAIN, NodeProcess } from '../test/helpers/node-process.js'
import { fmt, nowMs, positive, processCpuSeconds, readFlags, reapedChildrenCpuSeconds, sleep, UsageError } from './e2e/common.js'

/** The log lines timed, in the order a peer writes them. */
const MARKS = ['store opened', 'worker pool started', 'network started', 'peer connected', 'sync complete'] as const
type Mark = typeof MARKS[number]

const USAGE = `usage: node build/benchmarks/startup.js [--rounds N] [--threads N]
  --rounds N    peers started one after another (default 5)
  --threads N   each peer's pool threads (default: the node's own, one per core)`

interface Flags { rounds: number, threads: number | undefined }

function flags (): Flags {
  return readFlags(USAGE, () => {
    const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, threads: { type: 'string' } }, strict: true })
    return { rounds: positive('rounds', values.rounds), threads: values.threads === undefined ? undefined : positive('threads', values.threads) }
  })
}

/** A mark as a JSON key: `sync complete` -> `sync_complete`. */
function key (mark: Mark): string {
  return mark.replace(/ /g, '_')
}

function median (values: number[]): number {
  return Math.round(quantile(values, 0.5))
}

/** One figure per mark: wall ms since the spawn and CPU ms of the process at that line. */
type Timeline = Partial<Record<Mark, { wallMs: number, cpuMs: number }>>

/** Starts a fresh peer as a user would and times its start-up lines; it is killed after 'sync complete'. */
async function peerRound (dir: string, leaderAddr: string, leaderKey: string, threads: number | undefined): Promise<Timeline> {
  const args = ['--db', dir, '--leader-addr', leaderAddr, '--leader-key', leaderKey, '--log-format', 'json', '--log-level', 'info',
    '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', ...(threads === undefined ? [] : ['--threads', String(threads)])]
  const t0 = nowMs()
  // Its stdout is read here line by line, as each line arrives (NodeProcess gathers it whole).
  const peer = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise(resolveExit => peer.once('exit', resolveExit))
  const timeline: Timeline = {}
  try {
    for await (const line of createInterface({ input: peer.stdout })) {
      if (!line.startsWith('{')) continue
      const mark = MARKS.find(m => m === (JSON.parse(line) as { msg?: unknown }).msg)
      if (mark === undefined || timeline[mark] !== undefined || peer.pid === undefined) continue
      timeline[mark] = { wallMs: nowMs() - t0, cpuMs: (processCpuSeconds(peer.pid) ?? NaN) * 1000 }
      if (mark === 'sync complete') return timeline
    }
    throw new Error(`the peer exited (code ${String(peer.exitCode)}) before 'sync complete'`)
  } finally {
    peer.kill('SIGKILL')
    await exited
  }
}

/** CPU ms of `node dist/main.js --version`: the CLI alone, without the node. */
async function versionCpuMs (): Promise<number> {
  const before = reapedChildrenCpuSeconds()
  const child = spawn(process.execPath, [MAIN, '--version'], { stdio: 'ignore' })
  await new Promise(resolveExit => child.once('exit', resolveExit))
  // Once 'exit' is emitted the child has been reaped, and its CPU counts among this process's children's.
  return (reapedChildrenCpuSeconds() - before) * 1000
}

async function main (): Promise<void> {
  const { rounds, threads } = flags()
  const dir = mkdtempSync(join(tmpdir(), 'kimura-startup-'))
  const leader = new NodeProcess({ leader: true, dataDir: join(dir, 'leader'), blockIntervalMs: 500, name: 'leader', logLevel: 'info' })
  try {
    await leader.start()
    const { listen: [leaderAddr], leaderKey } = await leader.status()
    if (leaderAddr === undefined) throw new Error('the leader reports no listen address')
    // A few blocks, so that each peer has a chain to sync.
    await sleep(3000)
    const timelines: Timeline[] = []
    for (let i = 0; i < rounds; i++) {
      const timeline = await peerRound(join(dir, `peer-${i}`), leaderAddr, leaderKey, threads)
      timelines.push(timeline)
      console.error(`round ${i + 1}: ` + MARKS.map(m => `${m} ${fmt(timeline[m]?.wallMs)} ms (cpu ${fmt(timeline[m]?.cpuMs)} ms)`).join(', '))
    }
    const versionMs: number[] = []
    for (let i = 0; i < rounds; i++) versionMs.push(await versionCpuMs())
    const figures: Record<string, number> = { version_cpu_ms_p50: median(versionMs) }
    for (const mark of MARKS) {
      figures[`${key(mark)}_cpu_ms_p50`] = median(timelines.map(t => t[mark]?.cpuMs ?? NaN))
      figures[`${key(mark)}_wall_ms_p50`] = median(timelines.map(t => t[mark]?.wallMs ?? NaN))
    }
    console.table(MARKS.map(mark => ({ 'peer log line': mark, 'wall ms (p50)': figures[`${key(mark)}_wall_ms_p50`], 'CPU ms (p50)': figures[`${key(mark)}_cpu_ms_p50`] })))
    console.log(`node dist/main.js --version: ${fmt(figures.version_cpu_ms_p50)} ms of CPU (p50)`)
    console.log(JSON.stringify({ rounds, threads: threads ?? 'default', ...figures }))
  } finally {
    await leader.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof UsageError ? err.message : err instanceof Error ? err.stack ?? err.message : String(err))
  process.exitCode = err instanceof UsageError ? 2 : 1
})

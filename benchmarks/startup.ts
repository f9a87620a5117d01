// `npm run bench:startup`: what a node costs to start, from `node dist/main.js` to a peer that
// has caught up. On a machine where many nodes share few cores, a restarted node gets a small
// share of a core, so its start-up CPU decides how long it stays behind (issue 11's recovery).
//
// A leader (500 ms blocks) runs throughout; each round starts a fresh peer against it and reads
// the peer's CPU (every thread, /proc/<pid>/stat) as each of its start-up log lines arrives,
// until 'sync complete'. Also `node dist/main.js --version` (the CLI without the node). Last
// line: one JSON object.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { fmt, nowMs, percentile, positive, processCpuSeconds, readFlags, reapedChildrenCpuSeconds, sleep, UsageError } from './e2e/common.js'

const MAIN = resolve('dist/main.js')
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

/** One figure per mark: wall ms since the spawn and CPU ms of the process at that line. */
type Timeline = Partial<Record<Mark, { wallMs: number, cpuMs: number }>>

interface Running { proc: ChildProcess, lines: AsyncIterator<string> }

function startNode (args: string[]): Running {
  const proc = spawn(process.execPath, [MAIN, ...args, '--log-format', 'json', '--log-level', 'info', '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] })
  if (proc.stdout === null) throw new Error('no stdout')
  return { proc, lines: createInterface({ input: proc.stdout })[Symbol.asyncIterator]() }
}

async function stopNode (node: Running): Promise<void> {
  if (node.proc.exitCode !== null || node.proc.signalCode !== null) return
  const exited = new Promise(resolveExit => node.proc.once('exit', resolveExit))
  node.proc.kill('SIGKILL')
  await exited
}

/** Reads JSON log lines until `until` returns true; throws if the process ends first. */
async function readUntil (node: Running, until: (line: Record<string, unknown>) => boolean): Promise<void> {
  for (;;) {
    const next = await node.lines.next()
    if (next.done === true) throw new Error(`the node exited (code ${String(node.proc.exitCode)}) before the line awaited`)
    if (!next.value.startsWith('{')) continue
    if (until(JSON.parse(next.value) as Record<string, unknown>)) return
  }
}

/** Reads and drops the rest of a node's output, so that its pipe never fills. */
async function drain (node: Running): Promise<void> {
  for (let next = await node.lines.next(); next.done !== true; next = await node.lines.next()) {
    // Only the start-up lines are read.
  }
}

async function peerRound (dir: string, leaderAddr: string, leaderKey: string, threads: number | undefined): Promise<Timeline> {
  const t0 = nowMs()
  const peer = startNode(['--db', dir, '--leader-addr', leaderAddr, '--leader-key', leaderKey, ...(threads === undefined ? [] : ['--threads', String(threads)])])
  const timeline: Timeline = {}
  try {
    await readUntil(peer, line => {
      const mark = MARKS.find(m => m === line.msg)
      const pid = peer.proc.pid
      if (mark !== undefined && timeline[mark] === undefined && pid !== undefined) {
        timeline[mark] = { wallMs: nowMs() - t0, cpuMs: (processCpuSeconds(pid) ?? NaN) * 1000 }
      }
      return mark === 'sync complete'
    })
  } finally {
    await stopNode(peer)
  }
  return timeline
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
  const leader = startNode(['--leader', '--db', join(dir, 'leader'), '--block-interval-ms', '500'])
  try {
    let leaderAddr: string | undefined
    let leaderKey: string | undefined
    await readUntil(leader, line => {
      if (line.msg === 'network started' && Array.isArray(line.listen)) leaderAddr = String(line.listen[0])
      if (typeof line.publicKey === 'string') leaderKey = line.publicKey
      return line.msg === 'HTTP API listening'
    })
    if (leaderAddr === undefined || leaderKey === undefined) throw new Error('the leader did not log its address and key')
    void drain(leader)
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
    const figures: Record<string, number> = { version_cpu_ms_p50: Math.round(percentile(versionMs.sort((a, b) => a - b), 0.5)) }
    for (const mark of MARKS) {
      const key = mark.replace(/ /g, '_')
      const cpu = timelines.map(t => t[mark]?.cpuMs ?? NaN).sort((a, b) => a - b)
      const wall = timelines.map(t => t[mark]?.wallMs ?? NaN).sort((a, b) => a - b)
      figures[`${key}_cpu_ms_p50`] = Math.round(percentile(cpu, 0.5))
      figures[`${key}_wall_ms_p50`] = Math.round(percentile(wall, 0.5))
    }
    console.table(MARKS.map(mark => ({ 'peer log line': mark, 'wall ms (p50)': figures[`${mark.replace(/ /g, '_')}_wall_ms_p50`], 'CPU ms (p50)': figures[`${mark.replace(/ /g, '_')}_cpu_ms_p50`] })))
    console.log(`node dist/main.js --version: ${fmt(figures.version_cpu_ms_p50)} ms of CPU (p50)`)
    console.log(JSON.stringify({ rounds, threads: threads ?? 'default', ...figures }))
  } finally {
    await stopNode(leader)
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof UsageError ? err.message : err instanceof Error ? err.stack ?? err.message : String(err))
  process.exitCode = err instanceof UsageError ? 2 : 1
})

// The HTTP API under load (autocannon) against a real leader process: GET /v1/status,
// GET /v1/blocks/latest, and POST /v1/messages with 500-message batches (100-byte contents,
// 16 senders, signed before the clock starts, every batch new to the leader) as JSON and, when
// the server has it, as MessagePack. Any builds of the node can be measured side by side, each
// case alternating between them run after run, so that a machine's passing load touches both:
//
//   node build/benchmarks/api.bench.js [--server new=dist/main.js --server old=/tmp/old/dist/main.js]
//                                      [--env old:KIMURA_THREADS=2] [--duration 10] [--runs 1]
//                                      [--only status,latest,json,msgpack]
//
// A fresh leader (1 s blocks) serves each measurement; the figures are medians over the runs.
// Besides throughput, each measurement reports the CPU time the leader process spent per
// answered request (and per message), on its main thread and in all: on a shared machine that
// figure moves much less with the neighbours' load than requests per second do.
// The last line is one JSON object.
import '../src/shared/polyfill.js'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import { signMessage } from '../src/shared/block.js'
import { encodeMessage, joinEncodedMessages } from '../src/shared/codec.js'
import { messageToJson } from '../src/shared/json.js'
import { signingKeyFromSeed } from '../src/shared/keys.js'
import type { Message } from '../src/shared/types.js'
import { waitFor } from '../test/helpers/wait.js'

const BATCH = 500
const SENDERS = 16
const CONTENT_BYTES = 100
/** Concurrent clients: GETs are cheap, so more of them; POSTs as issue 10 measured them. */
const GET_CONNECTIONS = 10
const POST_CONNECTIONS = 4
const WARMUP_SECONDS = 2

type Case = 'status' | 'latest' | 'json' | 'msgpack'
const CASES: Case[] = ['status', 'latest', 'json', 'msgpack']

interface Measured {
  case: Case
  requestsPerSecond: number
  messagesPerSecond?: number
  latencyP50Ms: number
  latencyP99Ms: number
  /** The leader's CPU time per answered request: its main thread, and all its threads. */
  mainCpuUsPerRequest: number
  totalCpuUsPerRequest: number
  non2xx: number
  errors: number
}

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICK_US = 10_000

/** CPU time of a process so far, in µs: its main thread (tid = pid) and all its threads. */
function cpuUs (pid: number): { main: number, total: number } {
  const ticks = (stat: string): number => {
    // Fields after the command name, which may hold spaces: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[11]) + Number(fields[12])
  }
  let total = 0
  let main = 0
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let t: number
    try { t = ticks(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')) } catch { continue }
    total += t
    if (Number(tid) === pid) main = t
  }
  return { main: main * TICK_US, total: total * TICK_US }
}

const { values: args } = parseArgs({
  options: {
    server: { type: 'string', multiple: true, default: ['this build=dist/main.js'] },
    /** `label:NAME=value`: an environment variable for that server's process. */
    env: { type: 'string', multiple: true, default: [] },
    duration: { type: 'string', default: '10' },
    only: { type: 'string', default: CASES.join(',') },
    runs: { type: 'string', default: '1' }
  }
})
const duration = Number(args.duration)
const cases = args.only.split(',').filter((c): c is Case => (CASES as string[]).includes(c))
const servers = args.server.map(text => {
  const at = text.indexOf('=')
  const server = at < 0 ? { label: text, main: text } : { label: text.slice(0, at), main: text.slice(at + 1) }
  const env = Object.fromEntries(args.env.filter(e => e.startsWith(`${server.label}:`)).map(e => {
    const assignment = e.slice(server.label.length + 1)
    return [assignment.slice(0, assignment.indexOf('=')), assignment.slice(assignment.indexOf('=') + 1)]
  }))
  return { ...server, env }
})

/** Process groups of leaders still running: killed if this script exits first (Ctrl-C). */
const liveGroups = new Set<number>()
process.on('exit', () => { for (const pgid of liveGroups) process.kill(-pgid, 'SIGKILL') })
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { process.exit(130) })

/** A leader process on a temporary data directory; its API port is read from its banner. */
class Leader {
  private proc: ChildProcess | undefined
  private output = ''
  private readonly dir = mkdtempSync(join(tmpdir(), 'kimura-api-bench-'))
  api = ''

  get pid (): number {
    return this.proc?.pid ?? 0
  }

  async start (main: string, env: Record<string, string>): Promise<void> {
    const proc = spawn(process.execPath, [resolve(main), '--leader', '--db', this.dir, '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--log-level', 'warn', '--block-interval-ms', '1000'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('KIMURA_'))), ...env },
      detached: true
    })
    this.proc = proc
    if (proc.pid !== undefined) liveGroups.add(proc.pid)
    proc.stdout?.on('data', (chunk: Buffer) => { this.output += chunk.toString() })
    proc.stderr?.on('data', (chunk: Buffer) => { this.output += chunk.toString() })
    await waitFor(() => {
      if (proc.exitCode !== null) throw new Error(`the leader exited during start:\n${this.output}`)
      return /HTTP API +: (http:\/\/\S+)/.test(this.output)
    }, 30_000, 'the leader to print its API address')
    this.api = /HTTP API +: (http:\/\/\S+)/.exec(this.output)?.[1] ?? ''
  }

  async stop (): Promise<void> {
    const proc = this.proc
    if (proc?.pid !== undefined && proc.exitCode === null) {
      const exited = new Promise(resolveExit => proc.once('exit', resolveExit))
      process.kill(-proc.pid, 'SIGTERM')
      await exited
      liveGroups.delete(proc.pid)
    }
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** Batches of 500 messages, signed now, each message once. */
function signBatches (count: number): Message[][] {
  const keys = Array.from({ length: SENDERS }, () => signingKeyFromSeed(randomBytes(32)))
  const now = Date.now()
  const content = new Uint8Array(CONTENT_BYTES).fill(0x61)
  let nonce = 0
  return Array.from({ length: count }, () => Array.from({ length: BATCH }, (_, i) => {
    nonce++
    return signMessage(keys[i % SENDERS], { timestamp: now, nonce, content })
  }))
}

async function measure (leader: Leader, which: Case, bodies: Buffer[]): Promise<Measured> {
  let next = 0
  const options = which === 'status' || which === 'latest'
    ? { url: `${leader.api}/v1/${which === 'status' ? 'status' : 'blocks/latest'}`, connections: GET_CONNECTIONS }
    : {
        url: `${leader.api}/v1/messages`,
        connections: POST_CONNECTIONS,
        requests: [{
          method: 'POST',
          headers: { 'content-type': which === 'json' ? 'application/json' : 'application/msgpack' },
          setupRequest: (request: { body?: string | Buffer }) => ({ ...request, body: bodies[next++ % bodies.length] })
        }]
      }
  await autocannon({ ...options, duration: WARMUP_SECONDS })
  const cpuBefore = cpuUs(leader.pid)
  const result = await autocannon({ ...options, duration })
  const cpuAfter = cpuUs(leader.pid)
  const answered = Math.max(result['2xx'], 1)
  const requestsPerSecond = result['2xx'] / result.duration
  return {
    case: which,
    requestsPerSecond: Math.round(requestsPerSecond),
    ...(which === 'json' || which === 'msgpack' ? { messagesPerSecond: Math.round(requestsPerSecond * BATCH) } : {}),
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    mainCpuUsPerRequest: Math.round((cpuAfter.main - cpuBefore.main) / answered),
    totalCpuUsPerRequest: Math.round((cpuAfter.total - cpuBefore.total) / answered),
    non2xx: result.non2xx,
    errors: result.errors
  }
}

/** Whether the server reads MessagePack bodies (an older build answers MALFORMED_JSON). */
async function hasMsgpack (leader: Leader, body: Buffer): Promise<boolean> {
  const res = await fetch(`${leader.api}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/msgpack' }, body })
  await res.arrayBuffer()
  return res.status === 202
}

async function main (): Promise<void> {
  // Enough batches that none repeats within a run at the rates this machine reaches.
  const posts = cases.some(c => c === 'json' || c === 'msgpack')
  const batches = posts ? signBatches(Math.ceil(25_000 * (duration + WARMUP_SECONDS) / BATCH)) : []
  const json = batches.map(b => Buffer.from(JSON.stringify(b.map(messageToJson))))
  const msgpack = batches.map(b => Buffer.from(joinEncodedMessages(b.map(encodeMessage))))
  const probe = Buffer.from(joinEncodedMessages(signBatches(1)[0].slice(0, 1).map(encodeMessage)))
  const runs = new Map<string, Measured[]>()
  for (let run = 0; run < Number(args.runs); run++) {
    for (const which of cases) {
      for (const server of servers) {
        const leader = new Leader()
        try {
          await leader.start(server.main, server.env)
          if (which === 'msgpack' && !await hasMsgpack(leader, probe)) continue
          const measured = await measure(leader, which, which === 'json' ? json : msgpack)
          const key = `${server.label}\t${which}`
          runs.set(key, [...(runs.get(key) ?? []), measured])
          console.error(`run ${run + 1} ${server.label} ${which}: ${JSON.stringify(measured)}`)
        } finally {
          await leader.stop()
        }
      }
    }
  }
  const results = [...runs].map(([key, measured]) => ({ server: key.split('\t')[0], runs: measured.length, ...median(measured) }))
  console.table(results)
  console.log(JSON.stringify({ durationS: duration, servers, results }))
}

/** The run with the median throughput. */
function median (measured: Measured[]): Measured {
  const sorted = [...measured].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)
  return sorted[Math.floor((sorted.length - 1) / 2)]
}

await main()

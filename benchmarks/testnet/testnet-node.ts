// One node process of the testnet: `node dist/main.js` (in its namespace when there are
// namespaces), fixed address and ports, stdout and stderr appended to its log file by the
// process itself (the runner reads the logs at the end, so it spends nothing per log line).
// It keeps the CPU time of earlier incarnations, so a restarted node's CPU adds up.
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { resolve } from 'node:path'
import type { StatusJson } from '../../src/main/api/backend.js'
import { processCpuSeconds } from '../e2e/common.js'
import { API_PORT } from './host-network.js'

export const MAIN = resolve('dist/main.js')

export interface NodePlan {
  index: number
  name: string
  leader: boolean
  address: string
  peerId: string
  /** /ip4/<address>/tcp/<port>/p2p/<peer id> */
  multiaddr: string
  dataDir: string
  logFile: string
  /** The node's options (after dist/main.js). */
  args: string[]
  /** Options for node itself (before dist/main.js). */
  nodeArgs: string[]
  /** Niceness added to the runner's (through nice(1), which execs: the pid stays the node's, and every thread it starts inherits it). */
  nice: number
  /** Hops from the leader in the known-peers graph. */
  hops: number
}

export class TestnetNode {
  private proc: ChildProcess | undefined
  private exited: Promise<void> = Promise.resolve()
  private earlierCpu = 0
  private currentCpu = 0
  /** Process ids of every incarnation, in order. */
  readonly pids: number[] = []
  running = false

  constructor (readonly plan: NodePlan, private readonly wrap: (argv: string[]) => string[], private readonly onPid: (pid: number) => void) {}

  get name (): string {
    return this.plan.name
  }

  get api (): string {
    return `http://${this.plan.address}:${API_PORT}`
  }

  get pid (): number | undefined {
    return this.running ? this.proc?.pid : undefined
  }

  start (): void {
    if (this.running) throw new Error(`${this.name} is already running`)
    const node = [process.execPath, ...this.plan.nodeArgs, MAIN, ...this.plan.args]
    const [command, ...args] = this.wrap(this.plan.nice > 0 ? ['nice', '-n', String(this.plan.nice), ...node] : node)
    const log = openSync(this.plan.logFile, 'a')
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('KIMURA_')))
    let proc: ChildProcess
    try {
      // detached: its own process group, so that Ctrl-C at the terminal reaches the runner alone.
      proc = spawn(command, args, { stdio: ['ignore', log, log], env, detached: true })
    } finally {
      closeSync(log)
    }
    this.proc = proc
    this.running = true
    this.currentCpu = 0
    if (proc.pid !== undefined) { this.pids.push(proc.pid); this.onPid(proc.pid) }
    this.exited = new Promise(resolveExit => {
      const done = (): void => {
        if (this.proc === proc) {
          this.running = false
          this.earlierCpu += this.currentCpu
          this.currentCpu = 0
        }
        resolveExit()
      }
      proc.once('exit', done)
      proc.once('error', done)
    })
  }

  /** Reads the current incarnation's CPU; call it right before a signal that may end it. */
  sampleCpu (): void {
    const pid = this.pid
    if (pid === undefined) return
    const seconds = processCpuSeconds(pid)
    if (seconds !== undefined) this.currentCpu = seconds
  }

  /** CPU seconds (user + system, every thread) over every incarnation so far. */
  cpuSeconds (): number {
    this.sampleCpu()
    return this.earlierCpu + this.currentCpu
  }

  signal (signal: NodeJS.Signals): void {
    const pid = this.pid
    if (pid === undefined) return
    if (signal === 'SIGKILL' || signal === 'SIGTERM') this.sampleCpu()
    try {
      process.kill(signal === 'SIGKILL' ? -pid : pid, signal)
    } catch {
      // Already gone.
    }
  }

  /** Sends `signal` and waits for the exit; SIGKILL of the group when it outlasts `timeoutMs`. */
  async stop (signal: NodeJS.Signals, timeoutMs = 20_000): Promise<void> {
    if (!this.running) return
    this.signal(signal)
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<void>(resolveLate => {
      timer = setTimeout(() => { this.signal('SIGCONT'); this.signal('SIGKILL'); resolveLate() }, timeoutMs)
    })
    await Promise.race([this.exited, late])
    clearTimeout(timer)
    await this.exited
  }

  /** SIGKILL to the process group, synchronously (for exit handlers). */
  killSync (): void {
    const pid = this.pid
    if (pid === undefined) return
    try { process.kill(-pid, 'SIGKILL') } catch { /* gone */ }
  }

  async status (timeoutMs = 3000): Promise<StatusJson | undefined> {
    try {
      const res = await fetch(`${this.api}/v1/status`, { signal: AbortSignal.timeout(timeoutMs) })
      if (res.status !== 200) return undefined
      return await res.json() as StatusJson
    } catch {
      return undefined
    }
  }

  async metrics (timeoutMs = 5000): Promise<string | undefined> {
    try {
      const res = await fetch(`${this.api}/metrics`, { signal: AbortSignal.timeout(timeoutMs) })
      return res.status === 200 ? await res.text() : undefined
    } catch {
      return undefined
    }
  }
}

// Real Kimura node processes for multi-node tests: 127.0.0.1, free ports, temporary data
// directories, and a teardown that always kills the process and removes its files.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { ExecutionContext } from 'ava'
import type { StatusJson } from '../../src/main/api/backend.js'
import { waitFor } from './wait.js'

/** The built entry point, as users run it. */
export const MAIN = resolve('dist/main.js')

/**
 * When set, every node's output is written to this directory at teardown (one file per node
 * and test), so a failed run can be read afterwards.
 */
const KEEP_LOGS_DIR = process.env.KIMURA_TEST_LOGS

export async function freePort (): Promise<number> {
  return await new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => { resolvePort(port) })
    })
  })
}

export type { StatusJson }

export interface NodeSpec {
  leader: boolean
  dataDir: string
  p2pPort: number
  apiPort: number
  blockIntervalMs: number
  leaderAddr?: string
  leaderKey?: string
  extraArgs?: string[]
  /** A name for logs and messages (`leader`, `peer-1`). */
  name?: string
  /** `debug` unless given. */
  logLevel?: 'debug' | 'info' | 'warn' | 'error'
  /** Leave out --block-interval-ms, so the node runs with the default interval. */
  defaultInterval?: boolean
  /** Pass every option as a KIMURA_<NAME> environment variable instead of a flag. */
  viaEnv?: boolean
}

export interface StopOutcome {
  code: number | null
  signal: NodeJS.Signals | null
  /** From the signal to the process's exit. */
  ms: number
}

export class NodeProcess {
  proc: ChildProcess | undefined
  /** Everything the process printed, stdout and stderr, across restarts. */
  output = ''
  exitCode: number | null = null
  exitSignal: NodeJS.Signals | null = null
  /** How many times start() spawned the process. */
  starts = 0
  private exited: Promise<number | null> = Promise.resolve(null)

  constructor (readonly spec: NodeSpec) {}

  get name (): string {
    return this.spec.name ?? (this.spec.leader ? 'leader' : 'peer')
  }

  get api (): string {
    return `http://127.0.0.1:${this.spec.apiPort}`
  }

  /** The libp2p address the process listens on, without the peer id. */
  get listenAddr (): string {
    return `/ip4/127.0.0.1/tcp/${this.spec.p2pPort}`
  }

  get running (): boolean {
    return this.proc !== undefined && this.exitCode === null && this.exitSignal === null
  }

  /** The node options as [flag, value] pairs (value undefined for a switch). */
  private options (): Array<[string, string | undefined]> {
    const s = this.spec
    const options: Array<[string, string | undefined]> = [
      ...(s.leader ? [['--leader', undefined] as [string, undefined]] : []),
      ['--db', s.dataDir],
      ['--listen', this.listenAddr],
      ['--api', `127.0.0.1:${s.apiPort}`],
      ['--log-level', s.logLevel ?? 'debug']
    ]
    if (s.defaultInterval !== true) options.push(['--block-interval-ms', String(s.blockIntervalMs)])
    if (s.leaderAddr !== undefined) options.push(['--leader-addr', s.leaderAddr])
    if (s.leaderKey !== undefined) options.push(['--leader-key', s.leaderKey])
    return options
  }

  args (): string[] {
    const flags = this.spec.viaEnv === true ? [] : this.options().flatMap(([flag, value]) => value === undefined ? [flag] : [flag, value])
    return [MAIN, ...flags, ...(this.spec.extraArgs ?? [])]
  }

  /** The process environment: the test runner's without KIMURA_* (or, viaEnv, with the node's options as KIMURA_*). */
  env (): NodeJS.ProcessEnv {
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('KIMURA_')))
    if (this.spec.viaEnv === true) {
      for (const [flag, value] of this.options()) env[`KIMURA_${flag.slice(2).replace(/-/g, '_').toUpperCase()}`] = value ?? '1'
    }
    return env
  }

  /** Starts the process (again, on the same data directory and ports) and waits until its API answers. */
  async start (): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`)
    this.exitCode = null
    this.exitSignal = null
    this.starts++
    if (this.starts > 1) this.output += `\n----- ${this.name}: restart ${this.starts - 1} -----\n`
    const proc = spawn(process.execPath, this.args(), { stdio: ['ignore', 'pipe', 'pipe'], env: this.env() })
    this.proc = proc
    proc.stdout?.on('data', (chunk: Buffer) => { this.output += chunk.toString() })
    proc.stderr?.on('data', (chunk: Buffer) => { this.output += chunk.toString() })
    this.exited = new Promise(resolveExit => proc.once('exit', (code, signal) => {
      this.exitCode = code
      this.exitSignal = signal
      resolveExit(code)
    }))
    await waitFor(async () => {
      if (!this.running) throw new Error(`${this.name} exited with ${this.exitCode ?? this.exitSignal} during start:\n${this.output.slice(-3000)}`)
      return await this.status().then(() => true, () => false)
    }, 30_000, `${this.name}'s API to answer`)
  }

  async status (): Promise<StatusJson> {
    const res = await fetch(`${this.api}/v1/status`)
    if (res.status !== 200) throw new Error(`status answered ${res.status}`)
    return await res.json() as StatusJson
  }

  async height (): Promise<number> {
    return (await this.status()).height
  }

  async waitForHeight (height: number, timeoutMs = 30_000): Promise<void> {
    await waitFor(async () => (await this.height().catch(() => -1)) >= height, timeoutMs, `${this.name} to reach height ${height}`)
  }

  /** Waits until the output printed after `since` (an offset into `output`) matches. */
  async waitForOutput (pattern: RegExp, timeoutMs = 15_000, since = 0): Promise<void> {
    await waitFor(() => pattern.test(this.output.slice(since)), timeoutMs, `${this.name} to print ${String(pattern)}`)
  }

  /** Sends a signal and waits for the exit; returns the exit code. */
  async stop (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.proc === undefined || !this.running) return this.exitCode
    this.proc.kill(signal)
    return await this.exited
  }

  /** Like stop(), also measuring the time from the signal to the exit. */
  async stopTimed (signal: NodeJS.Signals = 'SIGTERM'): Promise<StopOutcome> {
    const started = performance.now()
    const code = await this.stop(signal)
    return { code, signal: this.exitSignal, ms: performance.now() - started }
  }

  async kill (): Promise<void> {
    await this.stop('SIGKILL')
  }

  /** Writes the output to KIMURA_TEST_LOGS, when set. */
  saveLog (testTitle: string): void {
    if (KEEP_LOGS_DIR === undefined || this.output === '') return
    mkdirSync(KEEP_LOGS_DIR, { recursive: true })
    const file = `${testTitle.replace(/[^a-z0-9]+/gi, '-').slice(0, 80)}.${this.name}.log`
    writeFileSync(join(KEEP_LOGS_DIR, file), this.output)
  }
}

export interface Cluster {
  leader: NodeProcess
  peers: NodeProcess[]
}

/** A temporary directory removed when the test ends, pass or fail. */
export function tempDir (t: ExecutionContext, prefix = 'kimura-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  return dir
}

/**
 * A node process whose teardown kills it (registered after its data directory's, so it runs
 * first: ava runs teardowns in reverse order). Not started.
 */
export async function createNodeProcess (t: ExecutionContext, spec: Omit<NodeSpec, 'dataDir' | 'p2pPort' | 'apiPort'> & Partial<NodeSpec>): Promise<NodeProcess> {
  const node = new NodeProcess({
    ...spec,
    dataDir: spec.dataDir ?? tempDir(t),
    p2pPort: spec.p2pPort ?? await freePort(),
    apiPort: spec.apiPort ?? await freePort()
  })
  t.teardown(async () => {
    await node.kill()
    node.saveLog(t.title)
  })
  return node
}

export interface LeaderOptions {
  blockIntervalMs?: number
  extraArgs?: string[]
  logLevel?: NodeSpec['logLevel']
  /** Run with the default interval (no --block-interval-ms). */
  defaultInterval?: boolean
  name?: string
}

export async function startLeader (t: ExecutionContext, blockIntervalMs: number | LeaderOptions = 300, extraArgs: string[] = []): Promise<NodeProcess> {
  const options = typeof blockIntervalMs === 'number' ? { blockIntervalMs, extraArgs } : blockIntervalMs
  const node = await createNodeProcess(t, {
    leader: true,
    blockIntervalMs: options.blockIntervalMs ?? 300,
    extraArgs: options.extraArgs ?? extraArgs,
    ...(options.logLevel === undefined ? {} : { logLevel: options.logLevel }),
    ...(options.defaultInterval === undefined ? {} : { defaultInterval: options.defaultInterval }),
    ...(options.name === undefined ? {} : { name: options.name })
  })
  await node.start()
  return node
}

export interface PeerOptions {
  extraArgs?: string[]
  logLevel?: NodeSpec['logLevel']
  name?: string
  /** Create the process without starting it. */
  noStart?: boolean
}

export async function startPeer (t: ExecutionContext, leader: NodeProcess, extraArgs: string[] | PeerOptions = []): Promise<NodeProcess> {
  const options = Array.isArray(extraArgs) ? { extraArgs } : extraArgs
  const status = await leader.status()
  const node = await createNodeProcess(t, {
    leader: false,
    blockIntervalMs: leader.spec.blockIntervalMs,
    leaderAddr: status.listen[0],
    leaderKey: status.leaderKey,
    extraArgs: options.extraArgs ?? [],
    ...(options.logLevel === undefined ? {} : { logLevel: options.logLevel }),
    ...(options.name === undefined ? {} : { name: options.name })
  })
  if (options.noStart !== true) await node.start()
  return node
}

export interface ClusterOptions {
  peers: number
  blockIntervalMs?: number
  logLevel?: NodeSpec['logLevel']
  /** Wait until every peer is connected to the leader (its status shows a peer). Default true. */
  waitConnected?: boolean
}

/** A leader and `peers` peers, started in parallel; each peer named peer-1, peer-2, ... */
export async function startCluster (t: ExecutionContext, options: ClusterOptions): Promise<Cluster> {
  const leader = await startLeader(t, {
    blockIntervalMs: options.blockIntervalMs ?? 300,
    ...(options.logLevel === undefined ? {} : { logLevel: options.logLevel })
  })
  const peers = await Promise.all(Array.from({ length: options.peers }, async (_, i) =>
    await startPeer(t, leader, { name: `peer-${i + 1}`, ...(options.logLevel === undefined ? {} : { logLevel: options.logLevel }) })))
  if (options.waitConnected !== false) {
    await waitFor(async () => (await leader.status()).peers >= options.peers, 20_000, `the leader to see ${options.peers} peers`)
    for (const peer of peers) await waitForLeaderLink(peer)
  }
  return { leader, peers }
}

/** Waits until a peer is connected to its leader (its status counts at least one peer). */
export async function waitForLeaderLink (peer: NodeProcess, timeoutMs = 20_000): Promise<void> {
  await waitFor(async () => ((await peer.status().catch(() => undefined))?.peers ?? 0) >= 1, timeoutMs, `${peer.name} to connect to its leader`)
}

// Real Kimura node processes for multi-node tests: 127.0.0.1, random free ports kept across
// restarts (test-ports.ts), temporary data directories, and a teardown that always kills the
// process and removes its files.
//
// Each node runs in its own process group, killed whole at teardown and, through an exit hook,
// whenever the ava worker exits (a timeout included), so that no node outlives its test file.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { ExecutionContext } from 'ava'
import type { StatusJson } from '../../src/main/api/backend.js'
import { tempDir } from './temp-dir.js'
import { claimPort, releasePort } from './test-ports.js'
import { waitFor } from './wait.js'

export { tempDir }
export type { StatusJson }

/** The built entry point, as users run it. */
export const MAIN = resolve('dist/main.js')

/**
 * When set, every node's output is written to this directory at teardown (one file per node
 * and test), so a failed run can be read afterwards.
 */
const KEEP_LOGS_DIR = process.env.KIMURA_TEST_LOGS

// ---- Process groups, and the exit hook that kills those still alive ----

/** Process group ids (the group leader's pid) of nodes not yet seen to exit. */
const liveGroups = new Set<number>()
let exitHookInstalled = false

function killGroup (pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL')
  } catch {
    // ESRCH: the group is already gone.
  }
}

function killLiveGroups (): void {
  for (const pgid of liveGroups) killGroup(pgid)
  liveGroups.clear()
}

/**
 * Kills every live node group when this process exits: normally, by process.exit() (an ava
 * failure or an uncaught error), or by a signal (ava sends SIGTERM to a worker that timed out;
 * Ctrl-C sends SIGINT). The group kill is synchronous, so it runs even in an 'exit' handler. A
 * signal handler would keep the worker alive: after killing the groups it removes itself and
 * raises the signal again, so the worker still dies of it. Only SIGKILL of the worker cannot be
 * caught.
 */
function installExitHook (): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', killLiveGroups)
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killLiveGroups()
      process.off(signal, onSignal)
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
    }
    process.on(signal, onSignal)
  }
}

// ---- What a node logs about the ports it bound ----

/** The ports a node reports in its JSON log lines on stdout. */
interface BoundAddresses {
  /** From 'network started': the port of its first 127.0.0.1 listen multiaddr. */
  p2pPort?: number
  /** From 'HTTP API listening': `api: { host, port }`. */
  apiPort?: number
}

/** Reads one stdout line; fills in what a 'network started' or 'HTTP API listening' line reports. */
function readBoundAddresses (line: string, into: BoundAddresses): void {
  if (!line.startsWith('{')) return
  let entry: unknown
  try {
    entry = JSON.parse(line)
  } catch {
    return
  }
  if (typeof entry !== 'object' || entry === null || !('msg' in entry)) return
  if (entry.msg === 'network started' && 'listen' in entry && Array.isArray(entry.listen)) {
    const port = entry.listen.map(a => typeof a === 'string' ? /^\/ip4\/127\.0\.0\.1\/tcp\/(\d+)\//.exec(a)?.[1] : undefined).find(p => p !== undefined)
    if (port !== undefined) into.p2pPort = Number(port)
  } else if (entry.msg === 'HTTP API listening' && 'api' in entry && typeof entry.api === 'object' && entry.api !== null &&
      'port' in entry.api && typeof entry.api.port === 'number') {
    into.apiPort = entry.api.port
  }
}

export interface NodeSpec {
  leader: boolean
  dataDir: string
  /**
   * Fixed ports, normally absent: the first start then claims free ports (`claimPort`), kept
   * for every restart (see `p2pPort` and `apiPort` on NodeProcess).
   */
  p2pPort?: number
  apiPort?: number
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
  /**
   * Run `node <commandLine...>` exactly as given instead of the command built from this spec
   * (for a command line a user copies, such as the one the leader prints).
   */
  commandLine?: string[]
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
  /** What the current run logged about its ports (read for a node run from a given command line). */
  private bound: BoundAddresses = {}
  /** Ports claimed before the first start, reused on every restart. */
  private claimed: { p2pPort?: number, apiPort?: number } = {}
  private stdoutRest = ''
  private readonly lineListeners = new Set<(line: string) => void>()

  constructor (readonly spec: NodeSpec) {}

  get name (): string {
    return this.spec.name ?? (this.spec.leader ? 'leader' : 'peer')
  }

  /** The libp2p TCP port: fixed in the spec, claimed for the first start, or (a given command line) the one the run logged. */
  get p2pPort (): number | undefined {
    return this.spec.p2pPort ?? this.claimed.p2pPort ?? this.bound.p2pPort
  }

  /** The HTTP API port: fixed in the spec, claimed for the first start, or (a given command line) the one the run logged. */
  get apiPort (): number | undefined {
    return this.spec.apiPort ?? this.claimed.apiPort ?? this.bound.apiPort
  }

  get api (): string {
    const port = this.apiPort
    if (port === undefined) throw new Error(`${this.name} has not reported its API port yet (not started?)`)
    return `http://127.0.0.1:${port}`
  }

  /** The libp2p address the process listens on, without the peer id (port 0 until it reported its port). */
  get listenAddr (): string {
    return `/ip4/127.0.0.1/tcp/${this.p2pPort ?? 0}`
  }

  /** The running process's id (its main thread's too), if it runs. */
  get pid (): number | undefined {
    return this.running ? this.proc?.pid : undefined
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
      ['--api', `127.0.0.1:${this.apiPort ?? 0}`],
      ['--log-level', s.logLevel ?? 'debug']
    ]
    if (s.defaultInterval !== true) options.push(['--block-interval-ms', String(s.blockIntervalMs)])
    if (s.leaderAddr !== undefined) options.push(['--leader-addr', s.leaderAddr])
    if (s.leaderKey !== undefined) options.push(['--leader-key', s.leaderKey])
    return options
  }

  args (): string[] {
    if (this.spec.commandLine !== undefined) return this.spec.commandLine
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

  /**
   * Starts the process and waits until its API answers. The first start claims the ports; a
   * restart (same data directory) asks for those same ports again, since peers were configured
   * with this node's address.
   */
  async start (): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`)
    if (this.spec.commandLine === undefined) {
      if (this.p2pPort === undefined) this.claimed.p2pPort = await claimPort()
      if (this.apiPort === undefined) this.claimed.apiPort = await claimPort()
    }
    this.exitCode = null
    this.exitSignal = null
    this.bound = {}
    this.stdoutRest = ''
    this.starts++
    if (this.starts > 1) this.output += `\n----- ${this.name}: restart ${this.starts - 1} -----\n`
    installExitHook()
    // detached: the node leads its own process group, so a group kill reaches all it started.
    const proc = spawn(process.execPath, this.args(), { stdio: ['ignore', 'pipe', 'pipe'], env: this.env(), detached: true })
    this.proc = proc
    const pgid = proc.pid
    if (pgid !== undefined) liveGroups.add(pgid)
    // Decoded as a stream, so a character split across chunks stays whole.
    proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => { this.onStdout(chunk) })
    proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => { this.output += chunk })
    this.exited = new Promise(resolveExit => {
      proc.once('exit', (code, signal) => {
        this.exitCode = code
        this.exitSignal = signal
        // Whatever the node left in its group goes with it.
        if (pgid !== undefined && liveGroups.delete(pgid)) killGroup(pgid)
        resolveExit(code)
      })
      // A process that could not be spawned never exits: count it as exited, with code -1.
      proc.once('error', err => {
        this.output += `\n${this.name}: spawn failed: ${err.message}\n`
        if (pgid === undefined) { this.exitCode = -1; resolveExit(-1) }
      })
    })
    await waitFor(async () => {
      if (!this.running) throw new Error(`${this.name} exited with ${this.exitCode ?? this.exitSignal} during start:\n${this.output.slice(-3000)}`)
      if (this.apiPort === undefined) return false
      return await this.status().then(() => true, () => false)
    }, 30_000, `${this.name}'s API to answer`)
  }

  /** Gives back the ports claimed for this node (at teardown; its process is gone). */
  releasePorts (): void {
    for (const port of [this.claimed.p2pPort, this.claimed.apiPort]) if (port !== undefined) releasePort(port)
    this.claimed = {}
  }

  private onStdout (text: string): void {
    this.output += text
    const lines = (this.stdoutRest + text).split('\n')
    this.stdoutRest = lines.pop() ?? ''
    // Only a node run from a given command line has ports this helper did not claim.
    const readPorts = this.spec.commandLine !== undefined
    for (const line of lines) {
      if (readPorts) readBoundAddresses(line, this.bound)
      for (const listener of this.lineListeners) listener(line)
    }
  }

  /** Calls `listener` with each whole line the node prints on stdout from now on; returns the unsubscribe. */
  onLine (listener: (line: string) => void): () => void {
    this.lineListeners.add(listener)
    return () => { this.lineListeners.delete(listener) }
  }

  async status (): Promise<StatusJson> {
    // A node run from a given command line has no port until it logs one.
    const port = this.apiPort
    if (port === undefined) throw new Error(`${this.name} has not reported its API port`)
    const res = await fetch(`http://127.0.0.1:${port}/v1/status`)
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

  /**
   * Sends a signal and waits for the exit; returns the exit code. SIGKILL goes to the whole
   * process group; another signal (a graceful SIGTERM) to the node alone, as a supervisor sends it.
   */
  async stop (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const proc = this.proc
    if (proc === undefined || !this.running) return this.exitCode
    if (signal === 'SIGKILL' && proc.pid !== undefined) killGroup(proc.pid)
    else proc.kill(signal)
    return await this.exited
  }

  /** Like stop(), also measuring the time from the signal to the exit. */
  async stopTimed (signal: NodeJS.Signals = 'SIGTERM'): Promise<StopOutcome> {
    const started = performance.now()
    const code = await this.stop(signal)
    return { code, signal: this.exitSignal, ms: performance.now() - started }
  }

  /** SIGKILL to the node's process group; waits for the exit. */
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

/**
 * A node process whose teardown kills it (registered after its data directory's, so it runs
 * first: ava runs teardowns in reverse order). Not started.
 */
export function createNodeProcess (t: ExecutionContext, spec: Omit<NodeSpec, 'dataDir'> & Partial<NodeSpec>): NodeProcess {
  const node = new NodeProcess({ ...spec, dataDir: spec.dataDir ?? tempDir(t) })
  t.teardown(async () => {
    await node.kill()
    node.releasePorts()
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
  const node = createNodeProcess(t, {
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
  const node = createNodeProcess(t, {
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

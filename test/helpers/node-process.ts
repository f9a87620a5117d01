// Real Kimura node processes for multi-node tests: 127.0.0.1, free ports, temporary data
// directories, and a teardown that always kills the process and removes its files.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { ExecutionContext } from 'ava'
import { waitFor } from './wait.js'

/** The built entry point, as users run it. */
export const MAIN = resolve('dist/main.js')

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

export interface StatusJson {
  role: string
  peerId: string
  listen: string[]
  leaderKey: string
  height: number
  hash: string
  peers: number
  pending: number
}

export interface NodeSpec {
  leader: boolean
  dataDir: string
  p2pPort: number
  apiPort: number
  blockIntervalMs: number
  leaderAddr?: string
  leaderKey?: string
  extraArgs?: string[]
}

export class NodeProcess {
  proc: ChildProcess | undefined
  output = ''
  exitCode: number | null = null
  private exited: Promise<number | null> = Promise.resolve(null)

  constructor (readonly spec: NodeSpec) {}

  get api (): string {
    return `http://127.0.0.1:${this.spec.apiPort}`
  }

  args (): string[] {
    const s = this.spec
    return [
      MAIN, ...(s.leader ? ['--leader'] : []),
      '--db', s.dataDir,
      '--listen', `/ip4/127.0.0.1/tcp/${s.p2pPort}`,
      '--api', `127.0.0.1:${s.apiPort}`,
      '--block-interval-ms', String(s.blockIntervalMs),
      '--log-level', 'debug',
      ...(s.leaderAddr === undefined ? [] : ['--leader-addr', s.leaderAddr]),
      ...(s.leaderKey === undefined ? [] : ['--leader-key', s.leaderKey]),
      ...(s.extraArgs ?? [])
    ]
  }

  /** Starts the process and waits until its API answers. */
  async start (): Promise<void> {
    this.exitCode = null
    const proc = spawn(process.execPath, this.args(), { stdio: ['ignore', 'pipe', 'pipe'] })
    this.proc = proc
    proc.stdout?.on('data', (chunk: Buffer) => { this.output += chunk.toString() })
    proc.stderr?.on('data', (chunk: Buffer) => { this.output += chunk.toString() })
    this.exited = new Promise(resolveExit => proc.once('exit', code => { this.exitCode = code; resolveExit(code) }))
    await waitFor(async () => {
      if (this.exitCode !== null) throw new Error(`node exited with ${this.exitCode} during start:\n${this.output.slice(-3000)}`)
      return await this.status().then(() => true, () => false)
    }, 30_000, 'node API to answer')
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
    await waitFor(async () => (await this.height().catch(() => -1)) >= height, timeoutMs, `height ${height}`)
  }

  /** Sends a signal and waits for the exit; returns the exit code. */
  async stop (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.proc === undefined || this.exitCode !== null) return this.exitCode
    this.proc.kill(signal)
    return await this.exited
  }

  async kill (): Promise<void> {
    await this.stop('SIGKILL')
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

export async function startLeader (t: ExecutionContext, blockIntervalMs = 300, extraArgs: string[] = []): Promise<NodeProcess> {
  const node = new NodeProcess({ leader: true, dataDir: tempDir(t), p2pPort: await freePort(), apiPort: await freePort(), blockIntervalMs, extraArgs })
  t.teardown(async () => { await node.kill() })
  await node.start()
  return node
}

export async function startPeer (t: ExecutionContext, leader: NodeProcess, extraArgs: string[] = []): Promise<NodeProcess> {
  const status = await leader.status()
  const node = new NodeProcess({
    leader: false,
    dataDir: tempDir(t),
    p2pPort: await freePort(),
    apiPort: await freePort(),
    blockIntervalMs: leader.spec.blockIntervalMs,
    leaderAddr: status.listen[0],
    leaderKey: status.leaderKey,
    extraArgs
  })
  t.teardown(async () => { await node.kill() })
  await node.start()
  return node
}

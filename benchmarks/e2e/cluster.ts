// Real node processes for the whole-node benchmarks: `node dist/main.js` on 127.0.0.1, each in
// its own process group on a temporary data directory, ports bound at 0 and read from the
// node's log (test/helpers/node-process.ts). Every group is killed and every directory removed
// when the cluster stops, when this process exits, and on Ctrl-C or SIGTERM.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NodeProcess } from '../../test/helpers/node-process.js'
import { waitFor } from '../../test/helpers/wait.js'

export interface Cluster {
  leader: NodeProcess
  peers: NodeProcess[]
  /** Leader first. */
  nodes: NodeProcess[]
  blockIntervalMs: number
}

/** A graceful stop that takes longer than this is cut short (the node's own deadline is 15 s). */
const STOP_TIMEOUT_MS = 20_000

const liveDirs = new Set<string>()
const liveNodes = new Set<NodeProcess>()
const exitTasks = new Set<() => void>()
let hooksInstalled = false

/** Something to do, synchronously, however this process ends (the load generator's kill, say). */
export function onExit (task: () => void): void {
  installHooks()
  exitTasks.add(task)
}

/** SIGKILL to every live node's process group (synchronous, so it runs in an 'exit' handler too). */
function killLiveNodes (): void {
  for (const node of liveNodes) {
    const pid = node.proc?.pid
    try {
      if (pid !== undefined && node.running) process.kill(-pid, 'SIGKILL')
    } catch {
      // ESRCH: already gone.
    }
  }
  liveNodes.clear()
}

function removeLiveDirs (): void {
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true })
  liveDirs.clear()
}

/**
 * NodeProcess kills every live node group on exit and on signals; on top of that the data
 * directories go, and a signal ends the run with the usual 128 + n status.
 */
function installHooks (): void {
  if (hooksInstalled) return
  hooksInstalled = true
  process.on('exit', () => {
    for (const task of exitTasks) task()
    killLiveNodes()
    removeLiveDirs()
  })
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.on(signal, () => {
      process.stderr.write(`\n${signal}: stopping the nodes and removing their data\n`)
      process.exit(code)
    })
  }
}

function tempDataDir (): string {
  installHooks()
  const dir = mkdtempSync(join(tmpdir(), 'kimura-e2e-'))
  liveDirs.add(dir)
  return dir
}

export interface ClusterOptions {
  peers: number
  blockIntervalMs: number
  /** Extra node options, for every node. */
  extraArgs?: string[]
}

/** Starts a leader, then its peers against the leader's multiaddr and key; waits until all are linked. */
export async function startCluster (options: ClusterOptions): Promise<Cluster> {
  const common = { blockIntervalMs: options.blockIntervalMs, logLevel: 'info' as const, extraArgs: options.extraArgs ?? [] }
  // The reports give the leader's event-loop p99 (scraped from /metrics): sampled every 10 ms,
  // as before the node's default became 100 ms, so that p99 rests on enough samples and
  // compares with earlier runs.
  const leader = new NodeProcess({ ...common, extraArgs: [...common.extraArgs, '--event-loop-resolution-ms', '10'], leader: true, dataDir: tempDataDir(), name: 'leader' })
  const cluster: Cluster = { leader, peers: [], nodes: [leader], blockIntervalMs: options.blockIntervalMs }
  liveNodes.add(leader)
  try {
    await leader.start()
    const status = await leader.status()
    for (let i = 1; i <= options.peers; i++) {
      const peer = new NodeProcess({ ...common, leader: false, dataDir: tempDataDir(), name: `peer-${i}`, leaderAddr: status.listen[0], leaderKey: status.leaderKey })
      cluster.peers.push(peer)
      cluster.nodes.push(peer)
      liveNodes.add(peer)
    }
    await Promise.all(cluster.peers.map(async peer => { await peer.start() }))
    await waitFor(async () => (await leader.status()).peers >= options.peers, 30_000, `the leader to see ${options.peers} peers`)
    for (const peer of cluster.peers) {
      await waitFor(async () => ((await peer.status().catch(() => undefined))?.peers ?? 0) >= 1, 30_000, `${peer.name} to connect to the leader`)
    }
    return cluster
  } catch (err) {
    await stopCluster(cluster)
    throw err
  }
}

/** The process ids of the cluster's nodes, by name. */
export function nodePids (cluster: Cluster): Map<string, number> {
  const pids = new Map<string, number>()
  for (const node of cluster.nodes) if (node.proc?.pid !== undefined) pids.set(node.name, node.proc.pid)
  return pids
}

/** Stops every node gracefully (SIGTERM, then SIGKILL of its group if it hangs) and removes its data. */
export async function stopCluster (cluster: Cluster): Promise<void> {
  await Promise.all(cluster.nodes.map(async node => {
    const timer = setTimeout(() => { void node.kill() }, STOP_TIMEOUT_MS)
    try {
      await node.stop('SIGTERM')
    } finally {
      clearTimeout(timer)
      await node.kill()
      liveNodes.delete(node)
    }
  }))
  for (const node of cluster.nodes) {
    rmSync(node.spec.dataDir, { recursive: true, force: true })
    liveDirs.delete(node.spec.dataDir)
  }
}

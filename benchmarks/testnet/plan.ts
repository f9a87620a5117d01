// The testnet's plan, made before anything runs: the topology, each node's keys, address and
// command line, which peers take load and the fault schedule. All of it follows from the seed.
import { scheduleFaults, type FaultPlan } from './faults.js'
import { P2P_PORT, API_PORT, type HostNetwork } from './host-network.js'
import { createLeaderKey, createPeerKey } from './keys.js'
import type { TestnetOptions } from './options.js'
import { Rng } from './rng.js'
import type { RunDirectory } from './run-directory.js'
import type { NodePlan } from './testnet-node.js'
import { buildTopology } from './topology.js'

export interface TestnetPlan {
  nodes: NodePlan[]
  leaderKey: string
  /** Node indexes the load goes to: the leader first. */
  loadTargets: number[]
  faults: FaultPlan[]
}

/** Independent streams, so that changing one flag (the load, say) keeps the topology and keys. */
export function rngFor (seed: number, purpose: 'topology' | 'keys' | 'load' | 'faults'): Rng {
  const salt = { topology: 0, keys: 0x1f123bb5, load: 0x2545f491, faults: 0x9e3779b9 }[purpose]
  return new Rng((seed ^ salt) >>> 0)
}

export async function makePlan (options: TestnetOptions, net: HostNetwork, dir: RunDirectory): Promise<TestnetPlan> {
  const topology = buildTopology(options.nodes, options.seed)
  const keys = rngFor(options.seed, 'keys')
  const base: Array<Pick<NodePlan, 'dataDir' | 'address' | 'peerId' | 'multiaddr'>> = []
  for (let i = 0; i < options.nodes; i++) {
    const dataDir = dir.nodeDir(i)
    const address = net.address(i)
    const peerId = await createPeerKey(dataDir, keys)
    base.push({ dataDir, address, peerId, multiaddr: `/ip4/${address}/tcp/${P2P_PORT}/p2p/${peerId}` })
  }
  const leaderKey = createLeaderKey(base[0].dataDir, keys)
  const nodes: NodePlan[] = base.map((b, i) => {
    const known = topology.known[i]
    const others = known.filter(j => j !== 0).map(j => base[j].multiaddr)
    const args = [
      '--db', b.dataDir,
      '--listen', `/ip4/${b.address}/tcp/${P2P_PORT}`,
      '--api', `${b.address}:${API_PORT}`,
      '--log-format', 'json',
      '--log-level', 'info',
      '--block-interval-ms', String(options.blockIntervalMs),
      ...(options.threads === undefined ? [] : ['--threads', String(options.threads)])
    ]
    if (i === 0) args.push('--leader')
    else args.push('--leader-key', leaderKey, ...(known.includes(0) ? ['--leader-addr', base[0].multiaddr] : []))
    if (others.length > 0) args.push('--peers', others.join(','))
    return { index: i, name: i === 0 ? 'leader' : `peer-${i}`, leader: i === 0, ...b, logFile: dir.logFile(i), args, nodeArgs: options.nodeArgs, nice: options.nodeNice, hops: topology.hops[i] }
  })
  const peers = Array.from({ length: options.nodes - 1 }, (_, i) => i + 1)
  const loadPeers = rngFor(options.seed, 'load').shuffle(peers).slice(0, Math.min(options.loadPeers, Math.max(0, peers.length - 1)))
  const loadTargets = [0, ...loadPeers.sort((a, b) => a - b)]
  const faults = scheduleFaults({
    kinds: options.faults,
    count: options.faultCount,
    eligible: peers.filter(p => !loadTargets.includes(p)),
    durationMs: options.durationS * 1000,
    faultMs: options.faultMs,
    recoveryMs: options.recoveryS * 1000
  }, rngFor(options.seed, 'faults'))
  return { nodes, leaderKey, loadTargets, faults }
}

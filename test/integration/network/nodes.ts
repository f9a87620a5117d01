// createNode() for network tests: a Network on 127.0.0.1 with a temp data dir, a recording
// gossip handler and an in-memory chain, stopped and removed at teardown. Tests observe a node
// the way the rest of Kimura does: through its handler calls, publish results, the events the
// node itself listens to (leader:connected) and connectedPeerCount().
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ExecutionContext } from 'ava'
import { pino } from 'pino'
import { Network } from '../../../src/main/network/network.js'
import type { NetworkInit } from '../../../src/main/network/options.js'
import type { BlockSource, GossipHandler, GossipVerdict } from '../../../src/main/network/types.js'
import { waitFor } from '../../helpers/wait.js'
import { LEADER_KEY, MemoryChain, statusOf } from './memory-chain.js'

export const silentLogger = pino({ level: 'silent' })

/** Payloads that start with these bytes are probes (see reachSubscribers), kept apart from real traffic. */
const PROBE_PREFIX = new TextEncoder().encode('kimura-test-probe/')

function isProbe (data: Uint8Array): boolean {
  return data.byteLength > PROBE_PREFIX.byteLength && PROBE_PREFIX.every((b, i) => data[i] === b)
}

export class RecordingHandler implements GossipHandler {
  readonly blocks: Array<{ data: Uint8Array, from: string }> = []
  readonly messages: Array<{ data: Uint8Array, from: string }> = []
  /** Probes received on either topic; answered 'ignore', so never forwarded. */
  readonly probes: Array<{ data: Uint8Array, from: string }> = []
  blockVerdict: (data: Uint8Array) => GossipVerdict = () => 'accept'
  messageVerdict: (data: Uint8Array) => GossipVerdict = () => 'accept'

  async onBlock (data: Uint8Array, from: string): Promise<GossipVerdict> {
    if (isProbe(data)) return this.probe(data, from)
    this.blocks.push({ data, from })
    return await Promise.resolve(this.blockVerdict(data))
  }

  async onMessage (data: Uint8Array, from: string): Promise<GossipVerdict> {
    if (isProbe(data)) return this.probe(data, from)
    this.messages.push({ data, from })
    return await Promise.resolve(this.messageVerdict(data))
  }

  private probe (data: Uint8Array, from: string): GossipVerdict {
    this.probes.push({ data, from })
    return 'ignore'
  }
}

export interface TestNode {
  network: Network
  handler: RecordingHandler
  chain: MemoryChain
  dataDir: string
  /**
   * How many times the configured leader (leaderAddr) answered a status that verified: once per
   * connection (peer:status, the event the sync client listens to).
   */
  leaderConnections: { count: number }
}

export interface NodeInit extends Partial<NetworkInit> {
  handler?: RecordingHandler
  chain?: MemoryChain
  blockSource?: BlockSource
  /** Do not start the node (the test starts it). */
  noStart?: boolean
}

export async function tempDir (t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kimura-net-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

export async function createNode (t: ExecutionContext, init: NodeInit = {}): Promise<TestNode> {
  const { handler = new RecordingHandler(), chain = new MemoryChain(), blockSource, noStart, ...options } = init
  const dataDir = options.dataDir ?? await tempDir(t)
  const network = new Network({
    listen: ['/ip4/127.0.0.1/tcp/0'],
    maxBlockBytes: 4 * 1024 * 1024,
    leaderKey: LEADER_KEY.publicKey,
    redialIntervalMs: 250,
    ...options,
    dataDir
  }, { logger: silentLogger, gossipHandler: handler, blockSource: blockSource ?? chain, statusAnswer: () => statusOf(blockSource ?? chain) })
  const leaderConnections = { count: 0 }
  const leaderId = options.leaderAddr?.split('/p2p/').at(-1)
  network.on('peer:status', event => { if (event.peerId === leaderId) leaderConnections.count++ })
  t.teardown(async () => { await network.stop() })
  if (noStart !== true) await network.start()
  return { network, handler, chain, dataDir, leaderConnections }
}

/** Waits until a peer's leader has answered its status `times` times in all (peer:status). */
export async function waitForLeader (node: TestNode, times = 1, timeoutMs = 10_000): Promise<void> {
  await waitFor(() => node.leaderConnections.count >= times, timeoutMs, `the leader's status #${times}`)
}

/**
 * Waits until what `node` publishes on `topic` reaches `count` peers: publishes a fresh probe
 * every 50 ms until one is sent to that many subscribers (the receivers' handlers record the
 * probes apart and ignore them). This is how a publisher learns who subscribes: by publishing.
 */
export async function reachSubscribers (node: TestNode, topic: 'blocks' | 'messages', count: number, timeoutMs = 10_000): Promise<void> {
  await waitFor(async () => {
    const probe = new Uint8Array([...PROBE_PREFIX, ...randomBytes(16)])
    const sent = topic === 'blocks' ? await node.network.publishBlock(probe) : await node.network.publishMessage(probe)
    return sent >= count
  }, timeoutMs, `a ${topic} publish to reach ${count} subscribers`, 50)
}

/** The TCP port a started node listens on. */
export function portOf (network: Network): number {
  const addr = network.getMultiaddrs()[0]
  const match = addr === undefined ? null : /\/tcp\/(\d+)\//.exec(addr)
  if (match === null) throw new Error(`no TCP listen address: ${String(addr)}`)
  return Number(match[1])
}

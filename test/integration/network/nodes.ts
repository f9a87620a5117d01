// createNode() for network tests: a Network on 127.0.0.1 with a temp data dir, a recording
// gossip handler and an in-memory chain, stopped and removed at teardown.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ExecutionContext } from 'ava'
import { pino } from 'pino'
import { Network } from '../../../src/main/network/network.js'
import type { NetworkInit } from '../../../src/main/network/options.js'
import type { BlockSource, GossipHandler, GossipVerdict } from '../../../src/main/network/types.js'
import { MemoryChain } from './memory-chain.js'

export const silentLogger = pino({ level: 'silent' })

export class RecordingHandler implements GossipHandler {
  readonly blocks: Array<{ data: Uint8Array, from: string }> = []
  readonly messages: Array<{ data: Uint8Array, from: string }> = []
  blockVerdict: (data: Uint8Array) => GossipVerdict = () => 'accept'
  messageVerdict: (data: Uint8Array) => GossipVerdict = () => 'accept'

  async onBlock (data: Uint8Array, from: string): Promise<GossipVerdict> {
    this.blocks.push({ data, from })
    return await Promise.resolve(this.blockVerdict(data))
  }

  async onMessage (data: Uint8Array, from: string): Promise<GossipVerdict> {
    this.messages.push({ data, from })
    return await Promise.resolve(this.messageVerdict(data))
  }
}

export interface TestNode {
  network: Network
  handler: RecordingHandler
  chain: MemoryChain
  dataDir: string
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
    redialMinMs: 50,
    redialMaxMs: 500,
    ...options,
    dataDir
  }, { logger: silentLogger, gossipHandler: handler, blockSource: blockSource ?? chain })
  t.teardown(async () => { await network.stop() })
  if (noStart !== true) await network.start()
  return { network, handler, chain, dataDir }
}

/** The TCP port a started node listens on. */
export function portOf (network: Network): number {
  const addr = network.getMultiaddrs()[0]
  const match = addr === undefined ? null : /\/tcp\/(\d+)\//.exec(addr)
  if (match === null) throw new Error(`no TCP listen address: ${String(addr)}`)
  return Number(match[1])
}

// What the load submitted and where it ended up: every acknowledged message (answered 202) by
// its id, and, for every node, the height of the block that holds it, read from the node's
// GET /v1/blocks/{h}. From it: the exactly-once check (every acknowledged id in exactly one
// block on every node, every node's chain the leader's), and each phase's figures.
import { toHex } from '../../src/shared/bytes.js'
import { getBlock, type ApiTarget } from '../../test/helpers/api-client.js'
import { BATCH_MESSAGES, percentile } from './common.js'
import type { RunReply } from './load-protocol.js'

/** Blocks read at once from one node. */
const READ_WINDOW = 4
/** Examples of each kind of problem kept for the report. */
const MAX_EXAMPLES = 3

interface NodeChain {
  /** heightOf[n]: the height of the block holding message n on this node; 0 when none does. */
  heightOf: Int32Array
  /** hashes[h]: the block hash at height h on this node. */
  hashes: string[]
  /** Message ids in this node's blocks that no 202 acknowledged (a request that failed after admission). */
  unacknowledged: number
  duplicates: number
  examples: string[]
}

export class ChainLedger {
  /** Message id (hex) to its number n (message n is the i-th of batch floor(n / 500)). */
  private readonly byId = new Map<string, number>()
  private readonly acked: Uint8Array
  private readonly chains = new Map<string, NodeChain>()

  /** `ids`: 32 bytes for each message of batches 0 .. ids.length / 16000, as the generator signed them. */
  constructor (private readonly ids: Uint8Array, nodeNames: readonly string[]) {
    const messages = ids.byteLength / 32
    this.acked = new Uint8Array(messages)
    for (const name of nodeNames) this.chains.set(name, { heightOf: new Int32Array(messages), hashes: [''], unacknowledged: 0, duplicates: 0, examples: [] })
  }

  /** Records the acknowledged batches of a run over batches [from, ...). */
  acknowledge (run: RunReply, from: number): void {
    for (let i = 0; i < run.ackAt.length; i++) {
      if (Number.isNaN(run.ackAt[i])) continue
      const first = (from + i) * BATCH_MESSAGES
      for (let n = first; n < first + BATCH_MESSAGES; n++) {
        this.acked[n] = 1
        this.byId.set(toHex(this.ids.subarray(32 * n, 32 * n + 32)), n)
      }
    }
  }

  /** How many messages were acknowledged. */
  get ackedMessages (): number {
    return this.byId.size
  }

  heightOf (name: string, n: number): number {
    return this.chain(name).heightOf[n]
  }

  /** Reads the node's blocks after those already read, up to `upTo`, and places their messages. */
  async scan (name: string, node: ApiTarget, upTo: number): Promise<void> {
    const chain = this.chain(name)
    for (let h = chain.hashes.length; h <= upTo; h += READ_WINDOW) {
      const heights = Array.from({ length: Math.min(READ_WINDOW, upTo - h + 1) }, (_, i) => h + i)
      const blocks = await Promise.all(heights.map(async height => await getBlock(node, height)))
      blocks.forEach((block, i) => {
        const height = heights[i]
        if (block === undefined) throw new Error(`${name} has no block at height ${height}, though its status said so`)
        chain.hashes[height] = block.hash
        for (const id of block.messageIds) {
          const n = this.byId.get(id)
          if (n === undefined) {
            chain.unacknowledged++
          } else if (chain.heightOf[n] !== 0) {
            chain.duplicates++
            if (chain.examples.length < MAX_EXAMPLES) chain.examples.push(`${id} is in blocks ${chain.heightOf[n]} and ${height}`)
          } else {
            chain.heightOf[n] = height
          }
        }
      })
    }
  }

  /** Everything that breaks "every acknowledged id in exactly one block on every node, the same chain everywhere". */
  problems (leader: string): string[] {
    const out: string[] = []
    const leaderChain = this.chain(leader)
    for (const [name, chain] of this.chains) {
      let missing = 0
      const examples: string[] = []
      for (let n = 0; n < this.acked.length; n++) {
        if (this.acked[n] === 1 && chain.heightOf[n] === 0) {
          missing++
          if (examples.length < MAX_EXAMPLES) examples.push(toHex(this.ids.subarray(32 * n, 32 * n + 32)))
        }
      }
      if (missing > 0) out.push(`${name}: ${missing} acknowledged messages are in no block (e.g. ${examples.join(', ')})`)
      if (chain.duplicates > 0) out.push(`${name}: ${chain.duplicates} messages are in more than one block (${chain.examples.join('; ')})`)
      const common = Math.min(chain.hashes.length, leaderChain.hashes.length)
      for (let h = 1; h < common; h++) {
        if (chain.hashes[h] !== leaderChain.hashes[h]) {
          out.push(`${name}: block ${h} is ${chain.hashes[h]}, the leader's is ${leaderChain.hashes[h]}`)
          break
        }
      }
    }
    return out
  }

  /** Messages in blocks that no 202 acknowledged, by node. */
  unacknowledged (): Record<string, number> {
    return Object.fromEntries([...this.chains].map(([name, chain]) => [name, chain.unacknowledged]))
  }

  private chain (name: string): NodeChain {
    const chain = this.chains.get(name)
    if (chain === undefined) throw new Error(`no node named ${name}`)
    return chain
  }
}

export interface PhaseFigures {
  ackedMessages: number
  /** Acknowledged messages over the time from the first request to the last 202. */
  ingestPerS: number
  /** Per node: acknowledged messages over the time from the first request to the node holding the last of them. */
  committedPerS: Record<string, number>
  /** The slowest node's. */
  committedMinPerS: number
  /** The highest block holding a message of the phase. */
  lastHeight: number
  /** 202 to the first sight of the holding block on the leader, ms. */
  latencyP50Ms: number
  latencyP99Ms: number
  latencyMaxMs: number
}

/**
 * A run's figures, once the leader's blocks holding its messages have been scanned. `seen`
 * holds each node's first-seen times by height (HeightWatcher), the leader's under `leader`.
 */
export function phaseFigures (ledger: ChainLedger, run: RunReply, from: number, leader: string, seen: ReadonlyMap<string, readonly number[]>): PhaseFigures {
  const leaderSeen = seen.get(leader) ?? []
  const latencies: number[] = []
  let lastAck = run.startedAt
  let lastHeight = 0
  for (let i = 0; i < run.ackAt.length; i++) {
    const ackAt = run.ackAt[i]
    if (Number.isNaN(ackAt)) continue
    lastAck = Math.max(lastAck, ackAt)
    const first = (from + i) * BATCH_MESSAGES
    for (let n = first; n < first + BATCH_MESSAGES; n++) {
      const height = ledger.heightOf(leader, n)
      if (height === 0) continue // reported by problems()
      lastHeight = Math.max(lastHeight, height)
      latencies.push(leaderSeen[height] - ackAt)
    }
  }
  const sorted = Float64Array.from(latencies).sort()
  const ackedMessages = run.ackAt.reduce((count, at) => Number.isNaN(at) ? count : count + BATCH_MESSAGES, 0)
  const committedPerS: Record<string, number> = {}
  for (const [name, firstSeen] of seen) {
    const heldAt = firstSeen[lastHeight]
    committedPerS[name] = heldAt === undefined ? NaN : ackedMessages / ((heldAt - run.startedAt) / 1000)
  }
  return {
    ackedMessages,
    ingestPerS: ackedMessages / ((lastAck - run.startedAt) / 1000),
    committedPerS,
    committedMinPerS: Math.min(...Object.values(committedPerS)),
    lastHeight,
    latencyP50Ms: percentile(sorted, 0.5),
    latencyP99Ms: percentile(sorted, 0.99),
    latencyMaxMs: percentile(sorted, 1)
  }
}

/**
 * An order-free fingerprint of a multiset of message ids (count and two sums of 32-bit words
 * mod 2^32), for runs too long to keep every id: equal tallies of what was acknowledged and of
 * what the blocks hold mean, but for a 2^-64 accident, each acknowledged message exactly once.
 */
export class IdTally {
  count = 0
  private a = 0
  private b = 0

  /** Adds the 32-byte id at `offset` of `ids`. */
  addBytes (ids: Uint8Array, offset: number): void {
    const view = new DataView(ids.buffer, ids.byteOffset + offset, 8)
    this.add(view.getUint32(0), view.getUint32(4))
  }

  addHex (id: string): void {
    this.add(parseInt(id.slice(0, 8), 16), parseInt(id.slice(8, 16), 16))
  }

  equals (other: IdTally): boolean {
    return this.count === other.count && this.a === other.a && this.b === other.b
  }

  private add (a: number, b: number): void {
    this.count++
    this.a = (this.a + a) >>> 0
    this.b = (this.b + b) >>> 0
  }
}

/**
 * A node's blocks above `base`, read once each: how many messages are stored up to each
 * height (counting `baseMessages` for the blocks up to `base`), and the tally of their ids.
 */
export class BlockTally {
  private readonly storedUpTo: number[]
  private readonly hashes: string[] = []
  readonly ids = new IdTally()

  constructor (private readonly base: number, baseMessages: number) {
    this.storedUpTo = [baseMessages]
  }

  /** The highest height read. */
  get scanned (): number {
    return this.base + this.storedUpTo.length - 1
  }

  /** Messages in blocks 1..height; a height at or below `base` counts `baseMessages`, one above `scanned` what was scanned. */
  storedAt (height: number): number {
    return this.storedUpTo[Math.max(0, Math.min(height, this.scanned) - this.base)]
  }

  hashAt (height: number): string | undefined {
    return this.hashes[height - this.base - 1]
  }

  async scan (node: ApiTarget, upTo: number): Promise<void> {
    for (let h = this.scanned + 1; h <= upTo; h += READ_WINDOW) {
      const heights = Array.from({ length: Math.min(READ_WINDOW, upTo - h + 1) }, (_, i) => h + i)
      const blocks = await Promise.all(heights.map(async height => await getBlock(node, height)))
      blocks.forEach((block, i) => {
        if (block === undefined) throw new Error(`no block at height ${heights[i]}, though the node's status said so`)
        for (const id of block.messageIds) this.ids.addHex(id)
        this.storedUpTo.push(this.storedUpTo[this.storedUpTo.length - 1] + block.messageIds.length)
        this.hashes.push(block.hash)
      })
    }
  }
}

// How gossipsub's RPCs leave a node. @libp2p/gossipsub 17 encodes and sends every RPC on its
// own: a relayed Message forwarded to 5 mesh peers is 5 RPCs, and each IDONTWANT is an RPC of
// its own for each mesh peer. On the receiver every RPC costs a length-prefix decode, a
// protobuf decode and a pass through handleReceivedRpc, whatever it carries. This merges the
// RPCs a node gives one peer within one turn of the event loop into one RPC (as go-libp2p-pubsub
// merges its queued RPCs): the Messages of a batch validated together, the IDONTWANTs of every
// Message first received in that turn, gossip (IHAVE, IWANT) riding along.
//
// With that, IDONTWANT for every payload pays (gossip.ts). In a 12-node testnet on loopback
// (two thirds of the load submitted to peers, seed 11), at 300 msg/s a peer's CPU per stored
// message went from 364 to 335-339 us, the leader's upload from 8.0 to 6.1-6.2 x the block and
// propagation p99 from 2.9 s to 0.5-0.9 s; at 150 msg/s one peer received 7,681 copies of
// about 4,000 relayed Messages, about two each. Each change alone did not pay: IDONTWANTs
// sent one RPC each cost more than the copies they saved, and merged RPCs without them moved
// the figure less than the run-to-run spread.
//
// What is merged, and why it is safe: only RPCs that carry no subscription, GRAFT or PRUNE, so
// that mesh and subscription changes keep their order relative to each other and to the
// Messages around them; Messages and IHAVE/IWANT/IDONTWANT entries keep their order within the
// merged RPC. A merged RPC stays far below what receivers accept (gossipsub's decoder allows
// 5,000 Messages and 512 ids per IDONTWANT entry; Kimura's frame limit is maxBlockBytes +
// 1 MiB). The RPCs go out on setImmediate, after the microtasks of the current turn: the
// delay is one turn, not a timer. A peer whose stream closed in between is skipped, as
// gossipsub skips it (the stream's own abort would drop the bytes as well). A large publish
// (a block) is still encoded once for all its recipients and sent at once.
import type { RPC } from '@libp2p/gossipsub/message'
import type { Logger } from '../logger.js'

export interface RpcBatchLimits {
  /** Message payload bytes in one merged RPC. */
  maxDataBytes: number
  /** Messages in one merged RPC. */
  maxMessages: number
  /** Message ids in one IDONTWANT entry (gossipsub's decoder refuses more than 512). */
  maxIdsPerEntry: number
}

export const RPC_BATCH_LIMITS: Readonly<RpcBatchLimits> = Object.freeze({
  maxDataBytes: 1024 * 1024,
  maxMessages: 1000,
  maxIdsPerEntry: 512
})

/** A publish whose payload is larger is encoded once for all its recipients and sent at once. */
export const LARGE_PUBLISH_BYTES = 64 * 1024

interface PendingRpc {
  rpc: RPC
  /** Whether Messages and gossip may be added: no subscription, GRAFT or PRUNE. */
  mergeable: boolean
  dataBytes: number
}

/**
 * The RPCs waiting for one turn, per peer, in the order they were given. `send` is called for
 * each (merged) RPC when the turn ends.
 */
export class RpcBatcher {
  private readonly waiting = new Map<string, PendingRpc[]>()
  private scheduled = false

  constructor (
    private readonly send: (peer: string, rpc: RPC) => void,
    private readonly limits: Readonly<RpcBatchLimits> = RPC_BATCH_LIMITS
  ) {}

  /** Queues `rpc` for `peer`, merged into the RPC before it when both allow it. Never mutates `rpc`. */
  add (peer: string, rpc: RPC): void {
    let queue = this.waiting.get(peer)
    if (queue === undefined) {
      queue = []
      this.waiting.set(peer, queue)
    }
    const bytes = dataBytes(rpc)
    const mergeable = isMergeable(rpc)
    const last = queue.at(-1)
    if (last !== undefined && last.mergeable && mergeable && this.fits(last, rpc, bytes)) {
      merge(last.rpc, rpc)
      last.dataBytes += bytes
    } else {
      queue.push({ rpc: copyRpc(rpc), mergeable, dataBytes: bytes })
    }
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(() => { this.flush() })
    }
  }

  /** Sends everything waiting now, peer by peer, each peer's RPCs in order. */
  flush (): void {
    this.scheduled = false
    const waiting = [...this.waiting]
    this.waiting.clear()
    for (const [peer, queue] of waiting) {
      for (const pending of queue) this.send(peer, finish(pending.rpc, this.limits.maxIdsPerEntry))
    }
  }

  private fits (last: PendingRpc, rpc: RPC, bytes: number): boolean {
    return last.dataBytes + bytes <= this.limits.maxDataBytes &&
      last.rpc.messages.length + rpc.messages.length <= this.limits.maxMessages
  }
}

/** The parts of @libp2p/gossipsub 17's GossipSub (private methods) this wraps, per instance. */
interface GossipsubShape {
  streamsOutbound: Map<string, unknown>
  sendRpc: (id: string, rpc: RPC) => boolean
  sendRpcInBatch: (tosend: Set<string>, rpc: RPC) => void
}

/**
 * Makes `pubsub` (a libp2p gossipsub service, before it starts) merge the RPCs of one
 * event-loop turn per peer. Returns false, changing nothing, when the instance no longer has
 * the shape this wraps (a major version changed it): RPCs are then sent one by one.
 */
export function installGossipRpcBatching (pubsub: unknown, log: Logger): boolean {
  if (!hasShape(pubsub)) return false
  const sendNow = pubsub.sendRpc.bind(pubsub)
  const sendBatchNow = pubsub.sendRpcInBatch.bind(pubsub)
  const batcher = new RpcBatcher((peer, rpc) => {
    // gossipsub logs and skips a peer whose stream closed since; nothing to add here.
    if (!sendNow(peer, rpc)) log.debug({ peer, messages: rpc.messages.length }, 'gossip RPC not sent: the stream closed meanwhile')
  })
  pubsub.sendRpc = (id: string, rpc: RPC): boolean => {
    // No stream: let gossipsub say so now (its callers count recipients by the answer).
    if (!pubsub.streamsOutbound.has(id)) return sendNow(id, rpc)
    batcher.add(id, rpc)
    return true
  }
  pubsub.sendRpcInBatch = (tosend: Set<string>, rpc: RPC): void => {
    if (dataBytes(rpc) > LARGE_PUBLISH_BYTES) { sendBatchNow(tosend, rpc); return }
    for (const id of tosend) {
      if (!pubsub.sendRpc(id, rpc)) tosend.delete(id)
    }
  }
  return true
}

function hasShape (value: unknown): value is GossipsubShape {
  if (typeof value !== 'object' || value === null) return false
  const shape = value as Partial<Record<keyof GossipsubShape, unknown>>
  return shape.streamsOutbound instanceof Map && typeof shape.sendRpc === 'function' && typeof shape.sendRpcInBatch === 'function'
}

function isMergeable (rpc: RPC): boolean {
  return rpc.subscriptions.length === 0 && (rpc.control?.graft.length ?? 0) === 0 && (rpc.control?.prune.length ?? 0) === 0
}

function dataBytes (rpc: RPC): number {
  let bytes = 0
  for (const message of rpc.messages) bytes += message.data?.byteLength ?? 0
  return bytes
}

/** A copy whose arrays this module may append to; the Messages and entries are shared, never changed. */
function copyRpc (rpc: RPC): RPC {
  const c = rpc.control
  return {
    subscriptions: [...rpc.subscriptions],
    messages: [...rpc.messages],
    ...(c === undefined
      ? {}
      : { control: { ihave: [...c.ihave], iwant: [...c.iwant], graft: [...c.graft], prune: [...c.prune], idontwant: [...c.idontwant] } })
  }
}

function merge (into: RPC, rpc: RPC): void {
  into.messages.push(...rpc.messages)
  const c = rpc.control
  if (c === undefined) return
  into.control ??= { ihave: [], iwant: [], graft: [], prune: [], idontwant: [] }
  into.control.ihave.push(...c.ihave)
  into.control.iwant.push(...c.iwant)
  into.control.idontwant.push(...c.idontwant)
}

/** Joins the IDONTWANT entries (one id each, as gossipsub makes them) into as few as the decoder allows. */
function finish (rpc: RPC, maxIdsPerEntry: number): RPC {
  const control = rpc.control
  if (control === undefined || control.idontwant.length < 2) return rpc
  const ids = control.idontwant.flatMap(entry => entry.messageIDs)
  control.idontwant = []
  for (let i = 0; i < ids.length; i += maxIdsPerEntry) control.idontwant.push({ messageIDs: ids.slice(i, i + maxIdsPerEntry) })
  return rpc
}

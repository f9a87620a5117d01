// The fault schedule (from the seed) and the faults themselves. Faults hit peers that take no
// load (a peer's 202 is a relay, not durability: a peer killed right after its 202 may lose
// what it relayed, and the exactly-once invariant is about the leader's promise). Each fault
// on its own node while there are nodes; a node is used again only once its last fault and
// the recovery bound are over.
import { setTimeout as sleep } from 'node:timers/promises'
import type { HostNetwork } from './host-network.js'
import type { FaultKind } from './options.js'
import type { Rng } from './rng.js'
import type { TestnetNode } from './testnet-node.js'

export interface FaultPlan {
  kind: FaultKind
  node: number
  /** Offset from the start of the load, ms. */
  atMs: number
}

export interface FaultRecord extends FaultPlan {
  /** Epoch ms at which the fault began (signal sent, link down). */
  startedAt?: number
  /** Epoch ms at which it ended: the node started again, resumed or reconnected. */
  endedAt?: number
  /** Why it did not run. */
  skipped?: string
}

export interface ScheduleInput {
  kinds: readonly FaultKind[]
  count: number
  eligible: readonly number[]
  durationMs: number
  faultMs: number
  recoveryMs: number
}

/** Faults spread over the middle of the load (15 % in, ending before its last tenth), in time order. */
export function scheduleFaults (input: ScheduleInput, rng: Rng): FaultPlan[] {
  const { kinds, count, eligible, durationMs, faultMs, recoveryMs } = input
  if (kinds.length === 0 || count === 0 || eligible.length === 0) return []
  const from = 0.15 * durationMs
  const to = Math.max(from, 0.9 * durationMs - faultMs)
  const order = rng.shuffle(eligible)
  const busyUntil = new Map<number, number>()
  const plans: FaultPlan[] = []
  for (let k = 0; k < count; k++) {
    const atMs = Math.round(from + (k + rng.next()) * (to - from) / count)
    const kind = kinds[k % kinds.length]
    const free = order.filter(n => (busyUntil.get(n) ?? -Infinity) <= atMs)
    if (free.length === 0) continue
    // Prefer nodes not faulted yet, in the shuffled order.
    const node = free.find(n => !busyUntil.has(n)) ?? free[0]
    busyUntil.set(node, atMs + faultMs + recoveryMs)
    plans.push({ kind, node, atMs })
  }
  return plans
}

/** Runs one fault on its node; the record gets its start and end times (or why it was skipped). */
export async function runFault (record: FaultRecord, node: TestnetNode, net: HostNetwork, faultMs: number, signal: AbortSignal): Promise<void> {
  switch (record.kind) {
    case 'kill':
      record.startedAt = Date.now()
      await node.stop('SIGKILL')
      node.start()
      record.endedAt = Date.now()
      return
    case 'restart':
      record.startedAt = Date.now()
      await node.stop('SIGTERM')
      node.start()
      record.endedAt = Date.now()
      return
    case 'pause':
      record.startedAt = Date.now()
      node.signal('SIGSTOP')
      try {
        await sleep(faultMs, undefined, { signal })
      } finally {
        node.signal('SIGCONT')
        record.endedAt = Date.now()
      }
      return
    case 'partition': {
      const setLink = net.setLink?.bind(net)
      if (setLink === undefined) {
        record.skipped = 'loopback: no link to take down'
        return
      }
      record.startedAt = Date.now()
      await setLink(node.plan.index, false)
      try {
        await sleep(faultMs, undefined, { signal })
      } finally {
        await setLink(node.plan.index, true)
        record.endedAt = Date.now()
      }
    }
  }
}

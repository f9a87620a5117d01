// The three invariants of a run. Each gives ok and a line that says what was seen.
import type { FaultOutcome } from './analysis.js'
import type { ChainBlock } from './chain.js'

export interface Invariant {
  name: 'common-chain' | 'exactly-once' | 'recovery'
  ok: boolean
  detail: string
}

const EXAMPLES = 3

/** Every node holds the leader's block at `height` (so, by the hash chain, the whole chain up to it). */
export function commonChain (names: readonly string[], hashes: ReadonlyArray<string | undefined>, heights: readonly number[], height: number, leaderHash: string | undefined): Invariant {
  const wrong: string[] = []
  names.forEach((name, i) => {
    if (hashes[i] === leaderHash && leaderHash !== undefined) return
    wrong.push(hashes[i] === undefined ? `${name} (height ${heights[i]}) has no block ${height}` : `${name} holds ${hashes[i]?.slice(0, 12)} at ${height}`)
  })
  return {
    name: 'common-chain',
    ok: wrong.length === 0 && leaderHash !== undefined && height > 0,
    detail: wrong.length === 0
      ? `all ${names.length} nodes hold block ${height} ${leaderHash?.slice(0, 16) ?? ''}`
      : `${wrong.length} of ${names.length} nodes do not hold the leader's block ${height}: ${wrong.slice(0, EXAMPLES).join('; ')}`
  }
}

/** What the leader says of a sample of the missing messages (GET /v1/messages/{id}). */
export interface MissingFate {
  sampled: number
  /** Admitted, still waiting for a block. */
  pending: number
  /** In a block above the height checked, stored after the wait gave up. */
  includedLater: number
  /** 404: the leader never admitted it (a peer's relay that did not arrive, or was dropped). */
  unknown: number
}

export interface InclusionCounts {
  acked: number
  missing: number
  /** Missing ones by the node whose 202 acknowledged them. */
  missingBy: Record<string, number>
  leaderFate?: MissingFate
  /** Acknowledged ids in more than one block. */
  duplicated: number
  /** Ids in blocks that no 202 acknowledged (a request whose answer was lost, say). */
  unacknowledged: number
}

/** The acknowledged ids in no block of 1..height. */
export function missingIds (chain: readonly ChainBlock[], height: number, acked: ReadonlyMap<string, string>): string[] {
  const seen = new Set<string>()
  for (let h = 1; h <= height; h++) for (const id of chain[h]?.messageIds ?? []) seen.add(id)
  return [...acked.keys()].filter(id => !seen.has(id))
}

/** Every acknowledged id in exactly one block of the leader's chain 1..height. */
export function exactlyOnce (chain: readonly ChainBlock[], height: number, acked: ReadonlyMap<string, string>, leaderFate: MissingFate | undefined): { invariant: Invariant, counts: InclusionCounts } {
  const seen = new Map<string, number>()
  for (let h = 1; h <= height; h++) for (const id of chain[h]?.messageIds ?? []) seen.set(id, (seen.get(id) ?? 0) + 1)
  const missing: string[] = []
  let duplicated = 0
  const missingBy: Record<string, number> = {}
  for (const [id, by] of acked) {
    const times = seen.get(id) ?? 0
    if (times === 0) { missing.push(id); missingBy[by] = (missingBy[by] ?? 0) + 1 }
    else if (times > 1) duplicated++
  }
  let unacknowledged = 0
  let anyDuplicate = 0
  for (const [id, times] of seen) {
    if (!acked.has(id)) unacknowledged++
    if (times > 1) anyDuplicate++
  }
  const counts: InclusionCounts = { acked: acked.size, missing: missing.length, missingBy, duplicated, unacknowledged, ...(leaderFate === undefined ? {} : { leaderFate }) }
  const ok = missing.length === 0 && anyDuplicate === 0
  return {
    counts,
    invariant: {
      name: 'exactly-once',
      ok,
      detail: ok
        ? `${acked.size} acknowledged messages, each in exactly one block of 1..${height} (${unacknowledged} unacknowledged ones included too)`
        : `${missing.length} acknowledged messages missing${missing.length > 0
          ? ` (acknowledged by ${Object.entries(missingBy).map(([n, c]) => `${n} ${c}`).join(', ')}; e.g. ${missing.slice(0, EXAMPLES).join(', ')})${leaderFate === undefined ? '' : `; of ${leaderFate.sampled} looked up on the leader, ${leaderFate.pending} pending, ${leaderFate.includedLater} in a later block, ${leaderFate.unknown} unknown to it`}`
          : ''}, ${anyDuplicate} ids in more than one block`
    }
  }
}

/** Every fault that ran ended with its node back at the leader's height within the bound. */
export function recovery (outcomes: readonly FaultOutcome[], names: readonly string[], boundMs: number): Invariant {
  const ran = outcomes.filter(f => f.skipped === undefined)
  const late = ran.filter(f => f.recoveryMs === undefined || f.recoveryMs > boundMs)
  const worst = Math.max(0, ...ran.map(f => f.recoveryMs ?? Infinity))
  return {
    name: 'recovery',
    ok: late.length === 0,
    detail: ran.length === 0
      ? 'no fault ran'
      : late.length === 0
        ? `${ran.length} faulted nodes back within ${(boundMs / 1000).toFixed(0)} s (slowest ${(worst / 1000).toFixed(1)} s)`
        : `${late.length} of ${ran.length} faulted nodes not back within ${(boundMs / 1000).toFixed(0)} s: ${late.slice(0, EXAMPLES).map(f =>
          `${names[f.node]} after ${f.kind} ${f.recoveryMs === undefined ? `never reached height ${f.targetHeight ?? '?'}` : `took ${(f.recoveryMs / 1000).toFixed(1)} s`}`).join('; ')}`
  }
}

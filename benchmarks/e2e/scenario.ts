// One measurement of `npm run bench:e2e`: a fresh cluster (the leader alone, or with peers),
// one submission path. Warm up, then drive the leader to saturation with pre-signed batches
// (closed loop), wait until every node holds every acknowledged message, then an open-loop
// load at half of the slowest node's committed rate; read every node's chain and check it.
import { startCluster, stopCluster } from './cluster.js'
import { BATCH_MESSAGES } from './common.js'
import { ClusterLoad, type BatchRange, type Phase } from './cluster-load.js'
import type { LoadGenerator } from './load-client.js'
import type { SubmissionPath } from './messages.js'
import type { EventLoopWindow } from './observe.js'

export type { Phase }

export interface ScenarioOptions {
  peers: number
  blockIntervalMs: number
  path: SubmissionPath
  generator: LoadGenerator
  /** The ids of every signed batch, from batch 0. */
  ids: Uint8Array
  warmup: BatchRange
  /** Saturation takes batches from `load.from` on; the half-rate phase the next unsent ones. */
  load: BatchRange
  durationS: number
  halfDurationS: number
  clients: number
}

export type ScenarioResult =
  | { available: false, reason: string }
  | {
    available: true
    /** The leader's event-loop delay over 2 s without load, after the warmup. */
    idleEventLoop: EventLoopWindow
    saturation: Phase
    half: (Phase & { targetPerS: number }) | undefined
    unacknowledged: Record<string, number>
    problems: string[]
  }

/** Connections of the open-loop load: enough that a paced request never waits for a socket. */
const OPEN_LOOP_CLIENTS = 32
const IDLE_WINDOW_MS = 2000

export async function runScenario (options: ScenarioOptions): Promise<ScenarioResult> {
  const cluster = await startCluster({ peers: options.peers, blockIntervalMs: options.blockIntervalMs })
  const load = new ClusterLoad({
    path: options.path,
    generator: options.generator,
    ids: options.ids,
    clients: options.clients,
    drainTimeoutMs: Math.max(60_000, 6000 * options.durationS)
  }, cluster)
  try {
    load.start()
    const warm = await load.warmUp(options.warmup)
    if (!warm.available) return warm
    const idleEventLoop = await load.idleEventLoop(IDLE_WINDOW_MS)

    const saturation = await load.phase(options.load, 'closed', options.clients, options.durationS * 1000)
    let half: (Phase & { targetPerS: number }) | undefined
    const targetPerS = saturation.committedMinPerS / 2
    const next = options.load.from + saturation.sent
    if (Number.isFinite(targetPerS) && next < options.load.to) {
      const batches = Math.ceil(targetPerS * options.halfDurationS / BATCH_MESSAGES)
      const range = { from: next, to: Math.min(options.load.to, next + batches) }
      half = { ...await load.phase(range, 'open', OPEN_LOOP_CLIENTS, options.halfDurationS * 1000, targetPerS), targetPerS }
    }
    const problems = [...await load.check(), ...saturation.problems, ...(half?.problems ?? [])]
    return { available: true, idleEventLoop, saturation, half, unacknowledged: load.ledger.unacknowledged(), problems }
  } finally {
    load.stop()
    await stopCluster(cluster)
  }
}

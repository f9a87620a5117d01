// Prometheus metrics (prom-client). Names end in their unit; labels are stable codes, never
// free text. Gauges that mirror state are read at scrape time through `collect`.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { DEFAULT_EVENT_LOOP_RESOLUTION_MS } from './config.js'

/** Seconds: block latencies on loopback are milliseconds; a slow link or a big block, seconds. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export interface MetricsOptions {
  /** How often the event-loop delay is sampled (config.ts: DEFAULT_EVENT_LOOP_RESOLUTION_MS). */
  eventLoopResolutionMs: number
}

export interface MetricsSources {
  height: () => number
  pending: () => number
  poolQueue: () => number
  peers: () => number
}

export class NodeMetrics {
  readonly registry = new Registry()
  readonly blocksProduced: Counter
  readonly blocksReceived: Counter<'source'>
  readonly blocksRejected: Counter<'code'>
  readonly messagesAdmitted: Counter<'source'>
  readonly messagesRejected: Counter<'code'>
  readonly gossipReceiveLatency: Histogram
  /** Time from a block's header timestamp to each stage on this node. */
  readonly blockStageLatency: Histogram<'stage'>
  readonly validationTime: Histogram
  readonly buildTime: Histogram
  readonly workerTaskTime: Histogram<'task'>
  readonly apiRequests: Counter<'route' | 'status'>
  readonly equivocations: Counter

  constructor (sources: MetricsSources, options: MetricsOptions = { eventLoopResolutionMs: DEFAULT_EVENT_LOOP_RESOLUTION_MS }) {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry, prefix: 'kimura_', eventLoopMonitoringPrecision: options.eventLoopResolutionMs })
    this.blocksProduced = new Counter({ name: 'kimura_blocks_produced_total', help: 'Blocks this leader built and committed', registers })
    this.blocksReceived = new Counter({ name: 'kimura_blocks_received_total', help: 'Blocks validated and stored from the network', labelNames: ['source'], registers })
    this.blocksRejected = new Counter({ name: 'kimura_blocks_rejected_total', help: 'Blocks refused, by error code', labelNames: ['code'], registers })
    this.messagesAdmitted = new Counter({ name: 'kimura_messages_admitted_total', help: 'Messages accepted into pending (leader) or relayed (peer)', labelNames: ['source'], registers })
    this.messagesRejected = new Counter({ name: 'kimura_messages_rejected_total', help: 'Messages refused, by error code', labelNames: ['code'], registers })
    this.gossipReceiveLatency = new Histogram({ name: 'kimura_gossip_receive_latency_seconds', help: 'From a block\'s timestamp to its arrival by gossip', buckets: LATENCY_BUCKETS, registers })
    this.blockStageLatency = new Histogram({ name: 'kimura_block_latency_seconds', help: 'From a block\'s timestamp to each stage: received, validated, stored', labelNames: ['stage'], buckets: LATENCY_BUCKETS, registers })
    this.validationTime = new Histogram({ name: 'kimura_block_validation_seconds', help: 'Validation and commit of a gossiped block in the pool', buckets: LATENCY_BUCKETS, registers })
    this.buildTime = new Histogram({ name: 'kimura_block_build_seconds', help: 'Building, signing and committing a block (leader)', buckets: LATENCY_BUCKETS, registers })
    this.workerTaskTime = new Histogram({ name: 'kimura_worker_task_seconds', help: 'Worker pool task time, queueing included', labelNames: ['task'], buckets: LATENCY_BUCKETS, registers })
    this.equivocations = new Counter({ name: 'kimura_equivocations_total', help: 'Leader-signed blocks seen that conflict with a stored block at the same height', registers })
    this.apiRequests = new Counter({ name: 'kimura_api_requests_total', help: 'HTTP API requests by route and status', labelNames: ['route', 'status'], registers })
    const gauge = (name: string, help: string, read: () => number): void => {
       
      new Gauge({ name, help, registers, collect () { this.set(read()) } })
    }
    gauge('kimura_block_height', 'Height of the stored tip', sources.height)
    gauge('kimura_pending_messages', 'Messages waiting in the pending pool (leader)', sources.pending)
    gauge('kimura_worker_pool_queue_size', 'Tasks waiting for a worker', sources.poolQueue)
    gauge('kimura_peers', 'Connected libp2p peers', sources.peers)
  }
}

// Gossiped messages arrive one per gossip message; a pool task per message would cost more in
// round trips than in verification. The batcher gathers them for a moment and sends one task.
import { decodeMessage, joinEncodedMessages } from '../../shared/codec.js'
import type { AdmitMessagesOutput } from '../../shared/thread-contract.js'
import type { GossipVerdict } from '../network/types.js'

export interface MessageBatcherOptions {
  /** A batch is sent once it holds this many messages... */
  maxBatch: number
  /** ...or this long after its first message arrived. */
  maxDelayMs: number
  /** Messages waiting beyond this are ignored (dropped, not penalised): the pool is behind. */
  maxQueued: number
  /**
   * Whether a valid message goes on through the mesh (`accept`): a peer relays it. The leader
   * is where messages go: once admitted, its verdict is `ignore`, which gossipsub neither
   * forwards nor penalises. Peers get the message in its block.
   */
  forwardValid: boolean
}

export const DEFAULT_BATCHER_OPTIONS: MessageBatcherOptions = { maxBatch: 256, maxDelayMs: 5, maxQueued: 20_000, forwardValid: true }

interface Waiting {
  /** The gossip payload: one complete encoded Message (checked by the strict decoder). */
  data: Uint8Array
  resolve: (verdict: GossipVerdict) => void
}

export class MessageBatcher {
  private queue: Waiting[] = []
  private inFlight = 0
  private timer: NodeJS.Timeout | undefined

  constructor (
    private readonly options: MessageBatcherOptions,
    private readonly admit: (batch: Uint8Array) => Promise<AdmitMessagesOutput>
  ) {}

  /** Resolves with the gossip verdict for one encoded message. Never rejects. */
  async add (data: Uint8Array): Promise<GossipVerdict> {
    // Structure only, so one malformed payload cannot spoil a batch; signatures are the pool's.
    if (!decodeMessage(data).ok) return 'reject'
    if (this.queue.length + this.inFlight >= this.options.maxQueued) return 'ignore'
    return await new Promise<GossipVerdict>(resolve => {
      this.queue.push({ data, resolve })
      if (this.queue.length >= this.options.maxBatch) this.flush()
      else this.timer ??= setTimeout(() => { this.flush() }, this.options.maxDelayMs)
    })
  }

  /** Sends what waits now; used by stop() too. */
  flush (): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    const batch = this.queue
    if (batch.length === 0) return
    this.queue = []
    this.inFlight += batch.length
    this.admit(joinEncodedMessages(batch.map(w => w.data))).then(output => {
      if (!output.ok) { for (const w of batch) w.resolve(output.code === 'MALFORMED' ? 'reject' : 'ignore'); return }
      const rejected = new Set(output.rejected.map(r => r.index))
      const valid = this.options.forwardValid ? 'accept' : 'ignore'
      batch.forEach((w, i) => { w.resolve(rejected.has(i) ? 'reject' : valid) })
    }, () => {
      // Overloaded or stopping: drop without penalising the sender.
      for (const w of batch) w.resolve('ignore')
    }).finally(() => { this.inFlight -= batch.length })
  }
}

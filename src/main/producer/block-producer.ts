// The leader's schedule: block n is due at start + n × blockIntervalMs, whatever the previous
// build cost, so timer lateness never accumulates. A slot missed entirely is skipped (logged),
// never built late in a burst.
import { errorCode, errorMessage } from '../../shared/errors.js'
import type { Logger } from '../logger.js'
import type { NodeMetrics } from '../metrics.js'
import type { BuildBlockOutput } from '../../shared/thread-contract.js'

export interface BlockProducerOptions {
  blockIntervalMs: number
  maxBlockMessages: number
}

/** A build, or a reason the node declined to build this slot (its code is logged). */
export type BuildResult = BuildBlockOutput | { ok: false, code: string, reason: string }

export interface BlockProducerModules {
  build: (timestamp: number, maxMessages: number) => Promise<BuildResult>
  publish: (block: Uint8Array) => Promise<number>
  logger: Logger
  metrics: NodeMetrics
}

export class BlockProducer {
  private timer: NodeJS.Timeout | undefined
  private startedAt = 0
  private slot = 0
  private current: Promise<void> = Promise.resolve()
  private running = false
  /** The code of the failure production is stuck on: logged once when it starts and once when it ends. */
  private failing: string | undefined

  constructor (private readonly options: BlockProducerOptions, private readonly modules: BlockProducerModules) {}

  start (): void {
    if (this.running) return
    this.running = true
    this.startedAt = Date.now()
    this.slot = 1
    this.schedule()
  }

  /** Stops the schedule and waits for a block being built to be committed and published. */
  async stop (): Promise<void> {
    this.running = false
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    await this.current
  }

  /** A failure that repeats every tick (a full disk) is logged when it starts, not every tick. */
  private failed (code: string, reason: string): void {
    const { logger } = this.modules
    if (code === this.failing) {
      logger.debug({ code, reason }, 'block production still failing')
      return
    }
    this.failing = code
    logger.error({ code, reason }, 'block production failed; retrying every slot (logged again when it changes or resumes)')
  }

  private schedule (): void {
    if (!this.running) return
    const due = this.startedAt + this.slot * this.options.blockIntervalMs
    this.timer = setTimeout(() => {
      this.current = this.tick(due)
    }, Math.max(0, due - Date.now()))
  }

  private async tick (due: number): Promise<void> {
    const { logger, metrics } = this.modules
    const started = Date.now()
    try {
      const built = await this.modules.build(started, this.options.maxBlockMessages)
      metrics.buildTime.observe((Date.now() - started) / 1000)
      if (!built.ok) {
        this.failed(built.code, built.reason)
      } else {
        if (this.failing !== undefined) logger.info({ height: built.height, after: this.failing }, 'block production resumed')
        this.failing = undefined
        metrics.blocksProduced.inc()
        const recipients = await this.modules.publish(new Uint8Array(built.block))
        logger.info({ height: built.height, hash: built.hash, messages: built.messageCount, lateMs: started - due, buildMs: Date.now() - started, recipients }, 'block produced')
        for (const dropped of built.dropped) logger.error({ id: dropped.id, reason: dropped.reason }, 'a pending message no longer decoded (a damaged store): removed from pending')
      }
    } catch (err) {
      this.failed(errorCode(err), errorMessage(err))
    }
    // The next slot still in the future; slots that passed during a slow build are skipped.
    const next = Math.max(this.slot + 1, Math.floor((Date.now() - this.startedAt) / this.options.blockIntervalMs) + 1)
    if (next > this.slot + 1) logger.warn({ skipped: next - this.slot - 1 }, 'block slots skipped: production fell behind the schedule')
    this.slot = next
    this.schedule()
  }
}

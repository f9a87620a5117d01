// Peer role: keeps a connection to the configured leader. Dials on start and after every
// disconnect or failed dial, with jittered exponential backoff, until stop().
import type { Logger } from 'pino'
import { errorMessage } from '../../shared/errors.js'

export interface LeaderLinkInit {
  leaderAddr: string
  minDelayMs: number
  maxDelayMs: number
  /** Opens (or reuses) a connection to the leader; rejects when the dial fails. */
  dial: (signal: AbortSignal) => Promise<void>
  logger: Logger
}

export class LeaderLink {
  private readonly controller = new AbortController()
  private timer: NodeJS.Timeout | undefined
  private dialing = false
  /** Failed attempts since the last successful connection: the backoff exponent. */
  private failures = 0

  constructor (private readonly init: LeaderLinkInit) {}

  start (): void {
    this.dialNow()
  }

  stop (): void {
    this.controller.abort()
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }

  /** The connection is up (whoever dialed): the next outage starts from the shortest delay. */
  onConnected (): void {
    this.failures = 0
  }

  /** The connection to the leader closed: schedule a redial. */
  onDisconnected (): void {
    this.schedule()
  }

  /** Delay before the next attempt: min * 2^failures, capped, jittered to [d/2, d]. */
  nextDelayMs (): number {
    const { minDelayMs, maxDelayMs } = this.init
    const exponent = Math.min(this.failures, 30)
    const delay = Math.min(maxDelayMs, minDelayMs * 2 ** exponent)
    return Math.round(delay / 2 + Math.random() * delay / 2)
  }

  private dialNow (): void {
    if (this.controller.signal.aborted || this.dialing) return
    this.dialing = true
    this.init.dial(this.controller.signal).then(
      () => { this.failures = 0 },
      (err: unknown) => {
        if (this.controller.signal.aborted) return
        this.failures++
        // The first failure of an outage is worth a warning; the retries that follow are not.
        const level = this.failures === 1 ? 'warn' : 'debug'
        this.init.logger[level]({ leader: this.init.leaderAddr, attempt: this.failures, err: errorMessage(err) }, 'leader dial failed')
        this.schedule()
      }
    ).finally(() => { this.dialing = false })
  }

  private schedule (): void {
    if (this.controller.signal.aborted || this.timer !== undefined) return
    const delay = this.nextDelayMs()
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.dialNow()
    }, delay)
  }
}

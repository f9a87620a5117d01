// A peer's 202 says a message reached a subscribed peer (SPEC 8), but a hop may still drop it:
// under overload a validation queue answers `ignore`, and gossipsub never sends an ignored
// message on. So a peer keeps what it acknowledged until a block it stores includes it, and
// publishes it again when none has after `resendAfterMs`, then after twice as long each time up
// to `maxResendIntervalMs`: an overloaded mesh may drop a resend too (4 sends over 135 s lost
// 1,716 of 9,491 messages in a 50-node run on 2 cores), while a message that keeps failing costs
// ever less. The first wait must be longer than gossipsub's seen cache (GOSSIP_SEEN_TTL_MS),
// which otherwise drops the same bytes as a duplicate on every node that saw them. The leader
// admits a message at most once, so a resend is never included twice. Kept in memory: what a
// peer acknowledged before a restart is not resent.
//
// "In no block" is judged against the chain this peer holds, so a message is resent only once
// the peer stores a block the leader made after the message fell due (the block's timestamp):
// a peer that lags behind the chain cannot tell a lost message from one its missing blocks
// include. Without that, a saturated 50-node run collapsed: the lagging load peers resent
// nearly everything, and the leader admitted 30-36k relayed messages for 7.5-8.4k acknowledged.
import { toHex } from '../../shared/bytes.js'
import type { Logger } from '../logger.js'
import { GOSSIP_SEEN_TTL_MS } from '../network/gossip.js'

export interface RelayRetryOptions {
  /** Publish again a message no stored block includes this long after its first send; each later wait doubles. */
  resendAfterMs: number
  /** The longest wait between two sends. */
  maxResendIntervalMs: number
  /** How often to look for messages due. */
  checkIntervalMs: number
  /** Sends per message before it is given up (logged). */
  maxSends: number
  /** Messages tracked at most; beyond, the oldest are given up (logged once per overflow). */
  maxTracked: number
}

export interface RelayRetryModules {
  /** Whether a stored block includes the message. */
  isIncluded: (id: Uint8Array) => boolean
  /** The timestamp of the newest stored block (the leader's clock); 0 before the first. */
  chainTime: () => number
  /** Publishes one message on the messages topic; resolves to the peers it reached. */
  publish: (payload: Uint8Array) => Promise<number>
  logger: Logger
  onResent?: (count: number) => void
}

interface Tracked {
  id: Uint8Array
  payload: Uint8Array
  /** When it is next published unless a block includes it. */
  dueAt: number
  sends: number
}

export const DEFAULT_RELAY_RETRY: RelayRetryOptions = {
  resendAfterMs: GOSSIP_SEEN_TTL_MS + 15_000,
  maxResendIntervalMs: 300_000,
  checkIntervalMs: 5_000,
  // Sends at 0, 45, 135, 315 and 615 s, then every 5 min: the tenth about 35 min after the first.
  maxSends: 10,
  maxTracked: 200_000
}

export class RelayRetry {
  /** By id (hex). */
  private readonly tracked = new Map<string, Tracked>()
  private timer: ReturnType<typeof setInterval> | undefined
  private overflowing = false

  constructor (private readonly options: RelayRetryOptions, private readonly modules: RelayRetryModules) {}

  start (): void {
    if (this.timer !== undefined) return
    this.timer = setInterval(() => { void this.resendDue() }, this.options.checkIntervalMs)
    this.timer.unref()
  }

  stop (): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
    this.tracked.clear()
  }

  /** Messages this peer just acknowledged, each with its id and wire bytes (views are kept as they are). */
  track (messages: ReadonlyArray<{ id: Uint8Array, encoded: Uint8Array }>, now = Date.now()): void {
    for (const { id, encoded } of messages) {
      const key = toHex(id)
      if (!this.tracked.has(key)) this.tracked.set(key, { id, payload: encoded, dueAt: now + this.options.resendAfterMs, sends: 1 })
    }
    this.evictOverflow()
  }

  private evictOverflow (): void {
    const over = this.tracked.size - this.options.maxTracked
    if (over <= 0) { this.overflowing = false; return }
    const keys = this.tracked.keys()
    for (let i = 0; i < over; i++) this.tracked.delete(keys.next().value as string)
    if (!this.overflowing) this.modules.logger.warn({ tracked: this.options.maxTracked }, 'too many relayed messages wait for a block: the oldest will not be resent if lost')
    this.overflowing = true
  }

  /** Publishes again what is due and still in no block; forgets what blocks include. */
  private async resendDue (now = Date.now()): Promise<void> {
    const { resendAfterMs, maxResendIntervalMs, maxSends } = this.options
    const due: Tracked[] = []
    const chainTime = this.modules.chainTime()
    // A message is looked up once per send, not once per check; an idle peer tracks nothing.
    for (const [key, entry] of this.tracked) {
      if (now < entry.dueAt || chainTime < entry.dueAt) continue
      if (this.modules.isIncluded(entry.id)) { this.tracked.delete(key); continue }
      if (entry.sends >= maxSends) {
        this.tracked.delete(key)
        this.modules.logger.warn({ id: key, sends: entry.sends }, 'a relayed message is in no block after every resend; giving it up')
        continue
      }
      due.push(entry)
    }
    if (due.length === 0) return
    for (const entry of due) {
      entry.dueAt = now + Math.min(maxResendIntervalMs, resendAfterMs * 2 ** entry.sends)
      entry.sends++
    }
    const sent = await Promise.allSettled(due.map(async entry => await this.modules.publish(entry.payload)))
    const failed = sent.filter(s => s.status === 'rejected').length
    this.modules.logger.info({ resent: due.length, failed, tracked: this.tracked.size }, 'resent relayed messages that no block includes yet')
    this.modules.onResent?.(due.length)
  }
}

// The producer's group commit of admissions: every append that arrives while the producer is
// busy (a commit's fsync, a build) waits for the next turn, and they all share one durable
// transaction. Pool workers only verify, so they never wait on LMDB's write lock, and one
// thread writes `pending` and blocks alike.
import { errorCode, errorMessage } from '../shared/errors.js'
import type { ChainStore } from '../shared/store/index.js'
import type { AppendPendingOutput, VerifiedMessages } from '../shared/thread-contract.js'
import { splitVerified } from '../shared/verified-messages.js'

interface QueuedAppend {
  verified: VerifiedMessages
  resolve: (output: AppendPendingOutput) => void
  reject: (err: unknown) => void
}

export class PendingAppender {
  private queued: QueuedAppend[] = []
  private scheduled = false

  /** `maxPending`: --max-pending, the most messages `pending` may hold. */
  constructor (private readonly store: ChainStore, private readonly maxPending: number) {}

  async append (verified: VerifiedMessages): Promise<AppendPendingOutput> {
    return await new Promise<AppendPendingOutput>((resolve, reject) => {
      this.queued.push({ verified, resolve, reject })
      if (this.scheduled) return
      this.scheduled = true
      // After the messages already delivered to this thread: they join the same transaction.
      setImmediate(() => { this.flush() })
    })
  }

  private flush (): void {
    this.scheduled = false
    const appends = this.queued
    this.queued = []
    if (appends.length === 0) return
    let results
    try {
      results = this.store.appendPending(appends.map(a => splitVerified(a.verified)), { maxPending: this.maxPending })
    } catch (err) {
      if (errorCode(err) !== 'ERR_STORAGE_FULL') {
        for (const a of appends) a.reject(err)
        return
      }
      const full: AppendPendingOutput = { ok: false, code: 'STORAGE_FULL', reason: `the node's disk is full; retry once space returns (${errorMessage(err)})` }
      for (const a of appends) a.resolve(full)
      return
    }
    results.forEach((result, i) => {
      appends[i].resolve(result.ok
        ? { ok: true, added: result.outcomes.filter(o => o === 'added').length }
        : { ok: false, code: result.code, reason: result.reason })
    })
  }
}

// Per-peer limits for the sync server: concurrent streams and a request-rate token bucket.
// No timers: buckets refill from the clock passed in, so tests drive time.

/** Buckets kept at most; beyond it, full (idle) buckets are dropped first. */
const MAX_TRACKED_PEERS = 1024

interface Bucket {
  tokens: number
  updatedAt: number
}

export interface SyncLimitsInit {
  maxStreamsPerPeer: number
  requestsPerSecond: number
  burst: number
}

export type AdmitVerdict = 'ok' | 'too-many-streams' | 'rate-limited'

export class SyncLimits {
  private readonly buckets = new Map<string, Bucket>()
  private readonly active = new Map<string, number>()

  constructor (private readonly init: SyncLimitsInit) {}

  /** Admits one more stream from `peer` at time `now` (ms); on 'ok' the caller must call release(). */
  admit (peer: string, now: number): AdmitVerdict {
    const open = this.active.get(peer) ?? 0
    if (open >= this.init.maxStreamsPerPeer) return 'too-many-streams'
    if (!this.takeToken(peer, now)) return 'rate-limited'
    this.active.set(peer, open + 1)
    return 'ok'
  }

  release (peer: string): void {
    const open = (this.active.get(peer) ?? 0) - 1
    if (open <= 0) this.active.delete(peer)
    else this.active.set(peer, open)
  }

  activeStreams (peer: string): number {
    return this.active.get(peer) ?? 0
  }

  private takeToken (peer: string, now: number): boolean {
    const { burst, requestsPerSecond } = this.init
    let bucket = this.buckets.get(peer)
    if (bucket === undefined) {
      if (this.buckets.size >= MAX_TRACKED_PEERS) this.prune(now)
      bucket = { tokens: burst, updatedAt: now }
      this.buckets.set(peer, bucket)
    } else {
      // A clock that steps backwards refills nothing rather than draining the bucket.
      const elapsedMs = Math.max(0, now - bucket.updatedAt)
      bucket.tokens = Math.min(burst, bucket.tokens + elapsedMs * requestsPerSecond / 1000)
      bucket.updatedAt = now
    }
    if (bucket.tokens < 1) return false
    bucket.tokens -= 1
    return true
  }

  /** Drops buckets that would be full by now (forgetting them changes nothing), else the oldest. */
  private prune (now: number): void {
    const { burst, requestsPerSecond } = this.init
    for (const [peer, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.updatedAt) * requestsPerSecond / 1000 >= burst) this.buckets.delete(peer)
    }
    if (this.buckets.size >= MAX_TRACKED_PEERS) {
      const oldest = this.buckets.keys().next()
      if (oldest.done !== true) this.buckets.delete(oldest.value)
    }
  }
}

// Limits for the sync server, per peer and across all peers: concurrent streams, a request-rate
// token bucket, and the response bytes held in memory at once. Peer ids cost nothing to make,
// so the totals (not the per-peer limits) are what bound the server's memory. No timers:
// buckets refill from the clock passed in, so tests drive time.

/** Buckets kept at most; beyond it, full (idle) buckets are dropped first. */
const MAX_TRACKED_PEERS = 1024

interface Bucket {
  tokens: number
  updatedAt: number
}

export interface SyncLimitsInit {
  maxStreamsPerPeer: number
  /** Sync streams served at once across all peers. */
  maxStreamsTotal: number
  requestsPerSecond: number
  burst: number
  /** Response bytes read from the store and not yet drained to the network, across all streams. */
  maxBytesInFlight: number
}

export type RefusedVerdict = 'too-many-streams' | 'server-busy' | 'rate-limited'

/**
 * A stream waiting this long for its reader to take more bytes may be closed to make room for
 * a new stream when every slot is taken: an honest reader drains a response continuously, so
 * only readers that stopped reading lose their slot.
 */
export const STALLED_STREAM_EVICT_MS = 1_000
/**
 * Evictions per second across all peers (token bucket, burst twice that): each admitted stream
 * reads at least one block from the store, so this caps the memory a flood of fresh peer ids
 * reopening streams can churn through, while still freeing a slot for a new reader quickly.
 */
export const EVICTIONS_PER_SECOND = 4

/** One admitted stream: its bytes and whether it waits on its reader. Released exactly once. */
export class SyncTicket {
  /** Set while the stream waits for its reader to drain what was sent. */
  stalledSince: number | undefined
  bytes = 0
  released = false

  constructor (readonly peer: string, private readonly limits: SyncLimits, readonly evict: () => void) {}

  /** Reserves `n` response bytes for this stream; false when the server holds too much already. */
  reserve (n: number): boolean {
    return this.limits.reserve(this, n)
  }

  release (): void {
    this.limits.release(this)
  }
}

export class SyncLimits {
  private readonly buckets = new Map<string, Bucket>()
  private readonly perPeer = new Map<string, number>()
  private readonly tickets = new Set<SyncTicket>()
  private bytes = 0
  private readonly evictions: Bucket = { tokens: 2 * EVICTIONS_PER_SECOND, updatedAt: 0 }

  constructor (private readonly init: SyncLimitsInit) {}

  /**
   * Admits one more stream from `peer` at time `now` (ms); the caller must release the ticket.
   * When every slot is taken, a stream stalled on its reader for STALLED_STREAM_EVICT_MS is
   * evicted (its `evict` runs) to make room.
   */
  admit (peer: string, now: number, evict: () => void): SyncTicket | RefusedVerdict {
    const open = this.perPeer.get(peer) ?? 0
    if (open >= this.init.maxStreamsPerPeer) return 'too-many-streams'
    if (this.tickets.size >= this.init.maxStreamsTotal && !this.evictStalled(now)) return 'server-busy'
    if (!this.takeToken(peer, now)) return 'rate-limited'
    this.perPeer.set(peer, open + 1)
    const ticket = new SyncTicket(peer, this, evict)
    this.tickets.add(ticket)
    return ticket
  }

  /** @internal SyncTicket.reserve */
  reserve (ticket: SyncTicket, n: number): boolean {
    if (ticket.released) return false
    // When nothing is held a block always fits, else one larger than the budget could never be served.
    if (this.bytes > 0 && this.bytes + n > this.init.maxBytesInFlight) return false
    this.bytes += n
    ticket.bytes += n
    return true
  }

  /** @internal SyncTicket.release */
  release (ticket: SyncTicket): void {
    if (ticket.released) return
    ticket.released = true
    this.tickets.delete(ticket)
    this.bytes = Math.max(0, this.bytes - ticket.bytes)
    const open = (this.perPeer.get(ticket.peer) ?? 0) - 1
    if (open <= 0) this.perPeer.delete(ticket.peer)
    else this.perPeer.set(ticket.peer, open)
  }

  private evictStalled (now: number): boolean {
    const bucket = this.evictions
    bucket.tokens = Math.min(2 * EVICTIONS_PER_SECOND, bucket.tokens + Math.max(0, now - bucket.updatedAt) * EVICTIONS_PER_SECOND / 1000)
    bucket.updatedAt = now
    if (bucket.tokens < 1) return false
    for (const ticket of this.tickets) {
      if (ticket.stalledSince !== undefined && now - ticket.stalledSince >= STALLED_STREAM_EVICT_MS) {
        bucket.tokens -= 1
        ticket.release()
        ticket.evict()
        return true
      }
    }
    return false
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

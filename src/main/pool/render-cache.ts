// A least-recently-used map bounded by the size of its values, for answers that never change
// once made (stored blocks are final: their rendered JSON and their Merkle trees). Concurrent
// misses for one key share one computation.

export interface ByteCacheOptions {
  /** The most bytes the values may hold together. */
  maxBytes: number
  /** A value larger than this is computed but never kept (it would evict everything else). */
  maxEntryBytes: number
}

export class ByteCache<V> {
  /** Insertion order is recency: a hit moves its key to the end. */
  private readonly entries = new Map<string, { value: V, bytes: number }>()
  private readonly computing = new Map<string, Promise<V>>()
  private bytes = 0

  constructor (private readonly options: ByteCacheOptions, private readonly sizeOf: (value: V) => number) {}

  get size (): number {
    return this.entries.size
  }

  get totalBytes (): number {
    return this.bytes
  }

  get (key: string): V | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined) return undefined
    this.entries.delete(key)
    this.entries.set(key, entry)
    return entry.value
  }

  /**
   * The cached value, or `compute()`'s, kept when `keep(value)` says so (a block not stored yet
   * must not be remembered as missing). One computation runs per key at a time.
   */
  async getOrCompute (key: string, compute: () => Promise<V>, keep: (value: V) => boolean = () => true): Promise<V> {
    const hit = this.get(key)
    if (hit !== undefined) return hit
    const running = this.computing.get(key)
    if (running !== undefined) return await running
    const promise = compute()
    this.computing.set(key, promise)
    try {
      const value = await promise
      if (keep(value)) this.set(key, value)
      return value
    } finally {
      this.computing.delete(key)
    }
  }

  set (key: string, value: V): void {
    const bytes = this.sizeOf(value)
    const old = this.entries.get(key)
    if (old !== undefined) {
      this.entries.delete(key)
      this.bytes -= old.bytes
    }
    if (bytes > this.options.maxEntryBytes) return
    this.entries.set(key, { value, bytes })
    this.bytes += bytes
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.options.maxBytes) break
      this.entries.delete(oldest)
      this.bytes -= entry.bytes
    }
  }
}

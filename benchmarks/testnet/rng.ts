// A seeded pseudo-random generator (mulberry32), so that one --seed gives the same topology,
// keys and fault schedule on every run.

export class Rng {
  private state: number

  constructor (seed: number) {
    this.state = seed >>> 0
  }

  /** A float in [0, 1). */
  next (): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** An integer in [from, to] (both included). */
  int (from: number, to: number): number {
    return from + Math.floor(this.next() * (to - from + 1))
  }

  pick<T> (items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list')
    return items[this.int(0, items.length - 1)]
  }

  /** A shuffled copy (Fisher-Yates). */
  shuffle<T> (items: readonly T[]): T[] {
    const out = [...items]
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i)
      const swap = out[i]
      out[i] = out[j]
      out[j] = swap
    }
    return out
  }

  /** `n` bytes, for key seeds. */
  bytes (n: number): Uint8Array {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i++) out[i] = Math.floor(this.next() * 256)
    return out
  }
}

// RFC 9162 section 2.1.3.1's PATH(m, D[n]) over SPEC 3's tree, written independently of the
// client's verifier (from the RFC's recursive definition, on src/shared's BLAKE3), for tests.
// Subtree hashes are computed once per tree, so every path of a 10,000-leaf tree is cheap.
import { b3 } from '../../../src/shared/hash.js'

export class MerkleTree {
  private readonly memo = new Map<string, Uint8Array>()

  constructor (private readonly ids: readonly Uint8Array[]) {}

  /** MTH(D[start:end]). */
  hash (start = 0, end = this.ids.length): Uint8Array {
    const key = `${start}:${end}`
    const known = this.memo.get(key)
    if (known !== undefined) return known
    let value: Uint8Array
    if (end - start === 0) {
      value = b3(new Uint8Array(0))
    } else if (end - start === 1) {
      value = b3(new Uint8Array([0x00, ...this.ids[start]]))
    } else {
      const k = split(end - start)
      value = b3(new Uint8Array([0x01, ...this.hash(start, start + k), ...this.hash(start + k, end)]))
    }
    this.memo.set(key, value)
    return value
  }

  /** PATH(m, D[start:end]), lowest level first. */
  path (m: number, start = 0, end = this.ids.length): Uint8Array[] {
    const n = end - start
    if (n <= 1) return []
    const k = split(n)
    return m < k
      ? [...this.path(m, start, start + k), this.hash(start + k, end)]
      : [...this.path(m - k, start + k, end), this.hash(start, start + k)]
  }
}

/** The largest power of two smaller than n (n >= 2). */
function split (n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

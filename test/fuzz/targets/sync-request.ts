// decodeSyncRequest: the 12 bytes a sync server reads from any connected peer. Checked
// against the independent reading; what it accepts is exactly the encoding of its value.
import fc from 'fast-check'
import { decodeSyncRequest, encodeSyncRequest } from '../../../src/main/network/sync-protocol.js'
import { check, agreesWithReference, show } from '../lib/checks.js'
import { byteMutated } from '../lib/mutations.js'
import { referenceSyncRequest } from '../lib/reference.js'
import { defineTarget } from '../lib/target.js'
import { bytes, safeUint } from '../lib/values.js'

const count = fc.oneof(fc.constantFrom(0, 1, 2, 511, 512, 513, 0xffff_ffff), fc.nat({ max: 0xffff_ffff }))
const valid = fc.tuple(safeUint, count).map(([from, n]) => encodeSyncRequest({ from, count: n }))

/** Twelve bytes whose first word crosses 2^53 (the high word's 21-bit limit). */
const nearLimit = fc.tuple(fc.constantFrom(0x1f_ffff, 0x20_0000, 0xffff_ffff, 0), fc.nat({ max: 0xffff_ffff }), count).map(([high, low, n]) => {
  const out = new Uint8Array(12)
  const view = new DataView(out.buffer)
  view.setUint32(0, high)
  view.setUint32(4, low)
  view.setUint32(8, n)
  return out
})

export const target = defineTarget({
  name: 'sync-request',
  about: 'decodeSyncRequest (sync server): reference agreement, canonical round trip',
  files: ['src/main/network/sync-protocol.ts'],
  input: fc.oneof(valid, nearLimit, byteMutated(valid), bytes(0, 16), bytes(12, 12)),
  runs: 150_000,
  quickRuns: 1_500,
  check (input) {
    const decoded = decodeSyncRequest(input)
    const result = decoded === undefined ? { ok: false as const, reason: 'undefined' } : { ok: true as const, value: decoded }
    agreesWithReference(result, referenceSyncRequest(input), 'decodeSyncRequest')
    if (decoded === undefined) return
    const again = encodeSyncRequest(decoded)
    check(again.byteLength === input.byteLength && again.every((b, i) => b === input[i]), () => `${show(decoded)} encodes to other bytes`)
  }
})

// decodeStatus: the answer of /kimura/status/1.0.0, read before a peer is trusted with
// anything. Checked against the independent reading; what it accepts re-encodes to the same
// status.
import fc from 'fast-check'
import { GENESIS_BLOCK } from '../../../src/shared/block.js'
import { decodeStatus, encodeStatus, networkId } from '../../../src/shared/status.js'
import { check, checkHeaderRules, agreesWithReference, sameValue } from '../lib/checks.js'
import { wireInput } from '../lib/inputs.js'
import { referenceStatus } from '../lib/reference.js'
import { signedBlocks } from '../lib/signed.js'
import { defineTarget } from '../lib/target.js'
import { bytes, headerValue, statusTree } from '../lib/values.js'

const tip = fc.oneof(fc.constant(GENESIS_BLOCK.header), fc.constantFrom(...signedBlocks.map(b => b.block.header)), headerValue)

export const target = defineTarget({
  name: 'status',
  about: 'decodeStatus (status answer): reference agreement, round trip',
  files: ['src/shared/codec.ts', 'src/shared/status.ts'],
  input: wireInput({ tree: statusTree, encoded: fc.tuple(bytes(32, 32), tip).map(([key, t]) => encodeStatus({ networkId: networkId(key), tip: t })) }),
  runs: 120_000,
  quickRuns: 1_200,
  check (input) {
    const decoded = decodeStatus(input)
    agreesWithReference(decoded, referenceStatus(input), 'decodeStatus')
    if (!decoded.ok) return
    check(decoded.value.networkId.byteLength === 32, 'networkId is not 32 bytes')
    checkHeaderRules(decoded.value.tip, 'tip')
    const again = decodeStatus(encodeStatus(decoded.value))
    check(again.ok && sameValue(again.value, decoded.value), 'the re-encoded status decodes to another status')
  }
})

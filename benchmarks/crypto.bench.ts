// Ed25519 verification on one core (the machine's limit that pool validation is judged
// against) and hashing: blake3-wasm (the protocol hash) against node:crypto's SHA-256.
import { createHash } from 'node:crypto'
import { b3, messageId } from '../src/shared/hash.js'
import { verifyDigest } from '../src/shared/keys.js'
import { signedMessages } from './fixtures.js'
import { LIGHT, measure, type BenchContext, type Figures } from './util.js'

/** Verifications per call: one call is ~6 ms, far above the timer's resolution. */
const VERIFY_BATCH = 100
/** Small hashes per call, for the same reason. */
const SMALL_HASH_BATCH = 1000
const MIB = 1024 * 1024
const MB = 1_000_000

export async function cryptoBenchmarks (ctx: BenchContext): Promise<Figures> {
  // Distinct messages from the fixture senders: each verification is of a different signature.
  const signed = signedMessages(VERIFY_BATCH).map(m => ({ sender: m.sender, id: messageId(m), signature: m.signature }))
  for (const s of signed) verifyDigest(s.sender, s.id, s.signature) // fills the key cache

  const verify = await measure(ctx, {
    name: `verify / ed25519 cached key / ${VERIFY_BATCH} sigs / 1 core`,
    async: false,
    units: { perCall: VERIFY_BATCH, name: 'verifies' },
    fn: () => {
      for (const s of signed) if (!verifyDigest(s.sender, s.id, s.signature)) throw new Error('a fixture signature did not verify')
    }
  }, { ...LIGHT, time: 2500 })

  const big = new Uint8Array(MIB).map((_, i) => i % 251)
  const small = new Uint8Array(256).map((_, i) => i)
  const sha256 = (data: Uint8Array): Buffer => createHash('sha256').update(data).digest()

  const blake3Big = await measure(ctx, {
    name: 'hash / blake3-wasm / 1 MiB', async: false, units: { perCall: MIB / MB, name: 'MB' }, fn: () => b3(big)
  }, LIGHT)
  const sha256Big = await measure(ctx, {
    name: 'hash / sha256 node:crypto / 1 MiB', async: false, units: { perCall: MIB / MB, name: 'MB' }, fn: () => sha256(big)
  }, LIGHT)
  const blake3Small = await measure(ctx, {
    name: `hash / blake3-wasm / 256 B x ${SMALL_HASH_BATCH}`,
    async: false,
    units: { perCall: SMALL_HASH_BATCH, name: 'hashes' },
    fn: () => { for (let i = 0; i < SMALL_HASH_BATCH; i++) b3(small) }
  }, LIGHT)
  const sha256Small = await measure(ctx, {
    name: `hash / sha256 node:crypto / 256 B x ${SMALL_HASH_BATCH}`,
    async: false,
    units: { perCall: SMALL_HASH_BATCH, name: 'hashes' },
    fn: () => { for (let i = 0; i < SMALL_HASH_BATCH; i++) sha256(small) }
  }, LIGHT)

  return {
    verify_per_s_1core: verify.unitsPerSecond,
    blake3_mb_per_s: blake3Big.unitsPerSecond,
    sha256_mb_per_s: sha256Big.unitsPerSecond,
    blake3_256b_ops_per_s: blake3Small.unitsPerSecond,
    sha256_256b_ops_per_s: sha256Small.unitsPerSecond
  }
}

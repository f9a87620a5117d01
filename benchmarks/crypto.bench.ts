// Ed25519 verification, the machine's limit that pool validation and the node are judged
// against: libsodium (the node's verifier, src/shared/keys.ts) and node:crypto (public keys
// imported once and cached), on one thread and on one thread per core at once (worker
// threads). The limit reported is the faster verifier's. Then hashing: blake3-wasm (the
// protocol hash) against node:crypto's SHA-256.
import { createHash } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { b3, messageId } from '../src/shared/hash.js'
import { verifyDigest } from '../src/shared/keys.js'
import { signedMessages } from './fixtures.js'
import { customRow, formatRate, LIGHT, measure, threads, type BenchContext, type Figures } from './util.js'
import { nodeCryptoVerifier, type Verifier, type VerifyWorkerData, type VerifyWorkerResult } from './verify-worker.js'

/** Verifications per call: one call is several ms, far above the timer's resolution. */
const VERIFY_BATCH = 100
/** How long every thread of the all-cores run verifies. */
const ALL_CORES_MS = 2500
/** Small hashes per call, for the same reason. */
const SMALL_HASH_BATCH = 1000
const MIB = 1024 * 1024
const MB = 1_000_000

type Signed = VerifyWorkerData['signed']

/** Verifications per second with `count` threads verifying at once, each for ALL_CORES_MS. */
async function verifyOnThreads (verifier: Verifier, count: number, signed: Signed): Promise<number> {
  const data: VerifyWorkerData = { verifier, durationMs: ALL_CORES_MS, signed }
  const workers = Array.from({ length: count }, () => new Worker(new URL('./verify-worker.js', import.meta.url), { workerData: data }))
  try {
    await Promise.all(workers.map(async w => await new Promise<void>((resolve, reject) => {
      w.once('message', () => { resolve() })
      w.once('error', reject)
    })))
    const results = await Promise.all(workers.map(async w => await new Promise<VerifyWorkerResult>((resolve, reject) => {
      w.once('message', resolve)
      w.once('error', reject)
      w.postMessage('go')
    })))
    const verified = results.reduce((sum, r) => sum + r.verified, 0)
    return verified / Math.max(...results.map(r => r.seconds))
  } finally {
    await Promise.all(workers.map(async w => await w.terminate()))
  }
}

export async function cryptoBenchmarks (ctx: BenchContext): Promise<Figures> {
  // Distinct messages from the fixture senders: each verification is of a different signature.
  const signed: Signed = signedMessages(VERIFY_BATCH).map(m => ({ sender: m.sender, id: messageId(m), signature: m.signature }))
  const verifiers: Record<Verifier, (publicKey: Uint8Array, digest: Uint8Array, signature: Uint8Array) => boolean> = {
    libsodium: verifyDigest,
    'node:crypto': nodeCryptoVerifier()
  }
  const cores = availableParallelism()
  const oneThread: Partial<Record<Verifier, number>> = {}
  const allCores: Partial<Record<Verifier, number>> = {}
  for (const name of ['libsodium', 'node:crypto'] as const) {
    const check = verifiers[name]
    for (const s of signed) check(s.sender, s.id, s.signature) // fills node:crypto's key cache
    const one = await measure(ctx, {
      name: `verify / ed25519 ${name}${name === 'node:crypto' ? ' cached key' : ''} / ${VERIFY_BATCH} sigs / 1 thread`,
      async: false,
      units: { perCall: VERIFY_BATCH, name: 'verifies' },
      fn: () => {
        for (const s of signed) if (!check(s.sender, s.id, s.signature)) throw new Error('a fixture signature did not verify')
      }
    }, { ...LIGHT, time: 2000 })
    oneThread[name] = one.unitsPerSecond
    const all = await verifyOnThreads(name, cores, signed)
    allCores[name] = all
    ctx.rows.push(customRow(`verify / ed25519 ${name} / ${VERIFY_BATCH} sigs / ${threads(cores)} at once (one per core)`, `${formatRate(all)} verifies/s`, `${cores} threads`))
  }
  const sodium1 = oneThread.libsodium ?? 0
  const node1 = oneThread['node:crypto'] ?? 0
  const sodiumAll = allCores.libsodium ?? 0
  const nodeAll = allCores['node:crypto'] ?? 0

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
    // The faster verifier's: the limit every other figure is compared with.
    verify_per_s_1core: Math.max(sodium1, node1),
    verify_limit_per_s: Math.max(sodiumAll, nodeAll),
    verify_sodium_per_s_1core: sodium1,
    verify_node_per_s_1core: node1,
    verify_sodium_per_s_all_cores: sodiumAll,
    verify_node_per_s_all_cores: nodeAll,
    verify_sodium_vs_node_1core: node1 > 0 ? sodium1 / node1 : 0,
    blake3_mb_per_s: blake3Big.unitsPerSecond,
    sha256_mb_per_s: sha256Big.unitsPerSecond,
    blake3_256b_ops_per_s: blake3Small.unitsPerSecond,
    sha256_256b_ops_per_s: sha256Small.unitsPerSecond
  }
}

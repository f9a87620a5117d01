// Full SPEC 3 validation of 1,000-message blocks: inline on the main thread (decodeBlock then
// validateBlock), and through the pool (BlockImporter.validateBlock, which splits a block's
// signatures across the workers) with 2 threads and with 1, so the default pool size rests on a
// figure. The store's tip is genesis and every block extends it, so a block validates again and
// again; the pool path also reads the tip and looks every message id up in LMDB, as in a node.
// The same for blocks of 10,000 messages (SPEC's maxBlockMessages), inline and on 2 threads.
import { join } from 'node:path'
import { decodeBlock } from '../src/shared/codec.js'
import { DEFAULT_PARAMS } from '../src/shared/params.js'
import { validateBlock } from '../src/shared/validation.js'
import type { WorkerPool } from '../src/main/pool/worker-pool.js'
import type { ChainStore } from '../src/shared/store/index.js'
import { BLOCK_MESSAGES, blocksOnGenesis, cycle, leaderKey, signedChain, withNode } from './fixtures.js'
import { HEAVY, measure, threads, withTempDir, type BenchContext, type Figures, type TaskSpec } from './util.js'

/** Distinct blocks validated in turn. */
const BLOCK_VARIANTS = 4
/**
 * Validations kept in flight on the 2-thread pool: each is 2 verify slices then 1 import task,
 * so with 3 in flight a worker always has the next slice queued while the main thread waits.
 */
export const POOL_IN_FLIGHT = 3
/** On 1 thread (no split), 2 in flight are enough to keep the worker busy. */
const POOL_1THREAD_IN_FLIGHT = 2
/** The largest block SPEC allows (maxBlockMessages); 2 distinct ones, each ~3.7 MB with 256-byte contents. */
const MAX_BLOCK_MESSAGES = DEFAULT_PARAMS.maxBlockMessages
const MAX_BLOCK_VARIANTS = 2
/** A 10,000-message validation is split into one slice per worker: 2 in flight keep both busy. */
const MAX_BLOCK_POOL_IN_FLIGHT = 2

export async function validateBenchmarks (ctx: BenchContext): Promise<Figures> {
  const blocks = blocksOnGenesis(BLOCK_VARIANTS).map(b => b.encoded)
  const largest = Array.from({ length: MAX_BLOCK_VARIANTS }, () => signedChain(1, MAX_BLOCK_MESSAGES)[0].encoded)
  return await withTempDir('validate', async dir => {
    const figures: Figures = {}

    await withNode(join(dir, 'pool2'), 2, async ({ store, pool: workers }) => {
      const inline = await measure(ctx, inlineTask(store, blocks, BLOCK_MESSAGES), { ...HEAVY, time: 3000 })
      figures.validate_inline_msgs_per_s = inline.unitsPerSecond

      const single = await measure(ctx, poolTask(workers, blocks, BLOCK_MESSAGES, 2, 1), { ...HEAVY, time: 1500 })
      figures.validate_pool_1inflight_latency_ms = single.latencyMeanMs
      const pool = await measure(ctx, poolTask(workers, blocks, BLOCK_MESSAGES, 2, POOL_IN_FLIGHT), { ...HEAVY, time: 3000, iterations: 10_000 })
      figures.validate_pool_msgs_per_s = pool.unitsPerSecond

      const inline10k = await measure(ctx, inlineTask(store, largest, MAX_BLOCK_MESSAGES), { ...HEAVY, iterations: 3, warmupIterations: 1 })
      figures.validate_10k_inline_msgs_per_s = inline10k.unitsPerSecond
      const single10k = await measure(ctx, poolTask(workers, largest, MAX_BLOCK_MESSAGES, 2, 1), { ...HEAVY, iterations: 3, warmupIterations: 1 })
      figures.validate_10k_pool_1inflight_latency_ms = single10k.latencyMeanMs
      const pool10k = await measure(ctx, poolTask(workers, largest, MAX_BLOCK_MESSAGES, 2, MAX_BLOCK_POOL_IN_FLIGHT), { ...HEAVY, time: 3000, iterations: 10_000, warmupIterations: 1 })
      figures.validate_10k_pool_msgs_per_s = pool10k.unitsPerSecond
    })

    await withNode(join(dir, 'pool1'), 1, async ({ pool: workers }) => {
      const pool1 = await measure(ctx, poolTask(workers, blocks, BLOCK_MESSAGES, 1, POOL_1THREAD_IN_FLIGHT), { ...HEAVY, iterations: 10_000 })
      figures.validate_pool_1thread_msgs_per_s = pool1.unitsPerSecond
    })
    return figures
  })
}

function label (messages: number): string {
  return `${messages} signed msgs`
}

/** decodeBlock then validateBlock on the main thread, the blocks in turn. */
function inlineTask (store: ChainStore, blocks: Uint8Array[], messages: number): TaskSpec {
  const next = cycle(blocks)
  return {
    name: `validate / ${label(messages)} / inline`,
    async: false,
    units: { perCall: messages, name: 'msgs' },
    fn: () => {
      const bytes = next()
      const decoded = decodeBlock(bytes)
      if (!decoded.ok) throw new Error(`fixture block does not decode: ${decoded.reason}`)
      const rules = { params: DEFAULT_PARAMS, leaderKey: leaderKey.publicKey, now: Date.now() }
      const verdict = validateBlock(decoded.value, bytes.byteLength, store.tip(), rules, id => store.messages.has(id))
      if (!verdict.ok) throw new Error(`fixture block is invalid: ${verdict.code} ${verdict.reason}`)
    }
  }
}

function poolTask (pool: WorkerPool, blocks: Uint8Array[], messages: number, threadCount: number, inFlight: number): TaskSpec {
  const next = cycle(blocks)
  return {
    name: `validate / ${label(messages)} / pool ${threads(threadCount)} / ${inFlight} in flight`,
    async: true,
    inFlight,
    units: { perCall: messages, name: 'msgs' },
    fn: async () => { await validateOnPool(pool, next()) }
  }
}

/**
 * One block's checks on the pool, as BlockImporter runs them for a large block (hashBlock on
 * one worker, then one signature slice per worker), without the commit: the chain does not
 * grow, so the same blocks can be checked again and again. Throws unless every check passes.
 */
export async function validateOnPool (pool: WorkerPool, block: Uint8Array): Promise<void> {
  const shared = new SharedArrayBuffer(block.byteLength)
  new Uint8Array(shared).set(block)
  const hashed = await pool.hashBlock({ block: shared })
  if (!hashed.ok) throw new Error(`fixture block did not hash on the pool: ${hashed.code} ${hashed.reason}`)
  const count = hashed.offsets.byteLength / 8
  const ids = toShared(hashed.ids)
  const offsets = toShared(hashed.offsets)
  const size = Math.ceil(count / pool.threads)
  const parts = await Promise.all(Array.from({ length: pool.threads }, async (_, i) =>
    await pool.verifyMessages({ block: shared, ids, offsets, start: i * size, end: Math.min(count, (i + 1) * size) })))
  const failed = parts.find(p => !p.ok)
  if (failed !== undefined && !failed.ok) throw new Error(`fixture block did not verify on the pool: ${failed.code} ${failed.reason}`)
}

function toShared (buffer: ArrayBuffer): SharedArrayBuffer {
  const shared = new SharedArrayBuffer(buffer.byteLength)
  new Uint8Array(shared).set(new Uint8Array(buffer))
  return shared
}

// Durable admission as the leader does it: the pool verifies (WorkerPool.admitMessages), then the
// producer worker appends to `pending`, group-committing the appends that arrive together.
// Batches of 500 pre-signed messages, each batch new, so every message is verified and really
// written; several batches in flight.
import { encodeMessageBatch } from '../test/helpers/message-batch.js'
import { signedMessages, withLeader } from './fixtures.js'
import { measure, withTempDir, type BenchContext, type Figures } from './util.js'

export const ADMIT_BATCH = 500
/** Batches in flight: two per worker, so no worker waits for the main thread or the producer. */
const ADMIT_IN_FLIGHT = 4
const WARMUP_BATCHES = 4
/** Cap on measured batches (60,000 messages, signed up front in ~1.5 s): 2 s at 30,000 msgs/s. */
const RUN_BATCHES = 120

export async function admitBenchmarks (ctx: BenchContext): Promise<Figures> {
  // Encoded up front, as the API hands the pool an encoded batch; the pool transfers each.
  const batches: Uint8Array[] = []
  for (let i = 0; i < WARMUP_BATCHES + RUN_BATCHES; i++) batches.push(encodeMessageBatch(signedMessages(ADMIT_BATCH)))
  let next = 0

  return await withTempDir('admit', async dir => await withLeader(dir, 2, async ({ pool, store, producer }) => {
    const admit = await measure(ctx, {
      name: `admit / ${ADMIT_BATCH}-msg batches / pool 2 threads / durable`,
      async: true,
      inFlight: ADMIT_IN_FLIGHT,
      units: { perCall: ADMIT_BATCH, name: 'msgs' },
      fn: async () => {
        const batch = batches[next++]
        if (batch === undefined) throw new Error('admission benchmark ran out of pre-signed batches')
        const verified = await pool.admitMessages(batch, { mode: 'all' })
        if (!verified.ok) throw new Error(`fixture batch was refused: ${verified.code} ${verified.reason}`)
        const out = await producer.appendPending(verified.verified)
        if (!out.ok) throw new Error(`fixture batch was refused: ${out.code} ${out.reason}`)
        if (out.added !== ADMIT_BATCH) throw new Error(`only ${out.added} of ${ADMIT_BATCH} messages were new`)
      }
    }, { time: 2000, iterations: RUN_BATCHES, warmupTime: 300, warmupIterations: WARMUP_BATCHES })
    const pending = store.pending.count()
    if (pending !== next * ADMIT_BATCH) throw new Error(`pending holds ${pending} messages, expected ${next * ADMIT_BATCH}`)
    return { admit_durable_msgs_per_s: admit.unitsPerSecond }
  }))
}

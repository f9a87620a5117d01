// The WorkerPool's admitMessages task through real Piscina workers, followed (as on the leader)
// by the producer's append (SPEC 8's batch rules: whole or nothing, ids in request order,
// replays not duplicated), its backpressure, and stopping with work in flight.
import '../../../src/shared/polyfill.js'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import test, { type ExecutionContext } from 'ava'
import { toHex } from '../../../src/shared/bytes.js'
import { encodeMessage } from '../../../src/shared/codec.js'
import { KimuraError } from '../../../src/shared/errors.js'
import { messageId } from '../../../src/shared/hash.js'
import type { AdmitMessagesOutput } from '../../../src/shared/thread-contract.js'
import type { Message } from '../../../src/shared/types.js'
import { leaderKey, makeChain, makeMessages } from '../../helpers/fixtures.js'
import type { StopReport } from '../../helpers/stop-pool-with-work.js'
import { admitToPending, commitOf, forgeSignature, idHex, producerFor, snapshot, startPool, type LeaderAdmitOutput, type TestPool } from '../../helpers/store-fixtures.js'
import type { ProducerClient } from '../../../src/main/producer/producer-client.js'
import { tempDir } from '../../helpers/temp-dir.js'
import { encodeMessageBatch } from '../../helpers/message-batch.js'

/** A stop() with a few small batches in flight takes well under a second (the child's start included). */
const STOP_TIMEOUT_MS = 10_000
const STOP_SCRIPT = fileURLToPath(new URL('../../helpers/stop-pool-with-work.js', import.meta.url))

const ids = (messages: readonly Message[]): string[] => messages.map(idHex)

function okOutput<T extends AdmitMessagesOutput | LeaderAdmitOutput> (t: { fail: (message: string) => void }, output: T): Extract<T, { ok: true }> | undefined {
  if (output.ok) return output as Extract<T, { ok: true }>
  t.fail(`expected ok, got ${output.code}: ${output.reason}`)
  return undefined
}

/** A pool and, as on the leader, a started producer that appends what the pool verified. */
async function startLeader (t: ExecutionContext, options: Parameters<typeof startPool>[1] = {}): Promise<TestPool & { producer: ProducerClient, admit: (batch: Uint8Array, mode?: 'all' | 'each') => Promise<LeaderAdmitOutput> }> {
  const node = await startPool(t, options)
  const producer = producerFor(t, node.dataDir)
  await producer.start()
  return {
    ...node,
    producer,
    admit: async (batch, mode = 'all') => {
      const output = await admitToPending(node.pool, producer, batch, { mode })
      // The producer committed on its own thread: renew this thread's snapshot to read it.
      node.store.refresh()
      return output
    }
  }
}

test.serial('a valid batch is admitted: ids in request order, all pending in that order', async t => {
  const { admit, store } = await startLeader(t)
  // Nonces descending: request order is not nonce or id order.
  const messages = makeMessages(8).reverse()
  const output = okOutput(t, await admit(encodeMessageBatch(messages)))
  t.deepEqual(output?.ids, ids(messages))
  t.is(output?.added, 8)
  t.deepEqual(output?.rejected, [])

  t.is(store.pending.count(), 8)
  t.deepEqual(store.pending.takeOldest(100).map(e => toHex(e.id)), ids(messages))
})

test.serial('a forged signature fails the whole batch with MESSAGE_BAD_SIGNATURE and its index; nothing is admitted', async t => {
  const { admit, store } = await startLeader(t)
  const messages = makeMessages(5)
  messages[3] = forgeSignature(messages[3])
  const before = snapshot(store, messages)

  const output = await admit(encodeMessageBatch(messages))
  t.like(output, { ok: false, code: 'MESSAGE_BAD_SIGNATURE', index: 3 })
  t.deepEqual(snapshot(store, messages), before)
  t.is(store.pending.count(), 0)
})

test.serial('a message signed by another sender than it names is MESSAGE_BAD_SIGNATURE', async t => {
  const { admit, store } = await startLeader(t)
  const [honest, other] = makeMessages(2)
  // Signed by the fixture sender, but naming the leader as its sender.
  const impostor: Message = { ...other, sender: leaderKey.publicKey }
  const output = await admit(encodeMessageBatch([honest, impostor]))
  t.like(output, { ok: false, code: 'MESSAGE_BAD_SIGNATURE', index: 1 })
  t.is(store.pending.get(messageId(honest)), undefined)
})

test.serial('malformed bytes are MALFORMED and admit nothing', async t => {
  const { admit, store } = await startLeader(t)
  const valid = encodeMessageBatch(makeMessages(3))
  for (const bytes of [
    new Uint8Array([0xc1]),
    valid.subarray(0, valid.byteLength - 5),
    new Uint8Array([...valid, 0x00]),
    new Uint8Array(0)
  ]) {
    const output = await admit(bytes)
    t.like(output, { ok: false, code: 'MALFORMED' })
  }
  t.is(store.pending.count(), 0)
})

test.serial('an empty batch is EMPTY_BATCH', async t => {
  const { admit, store } = await startLeader(t)
  t.like(await admit(encodeMessageBatch([])), { ok: false, code: 'EMPTY_BATCH' })
  t.is(store.pending.count(), 0)
})

test.serial('a replayed batch is ok with added 0 and nothing duplicated, pending or included', async t => {
  const { admit, store } = await startLeader(t)
  const [block1] = makeChain(1, { messagesPerBlock: 2 })
  const messages = makeMessages(4, { nonceStart: 100 })
  t.like(await admit(encodeMessageBatch(messages)), { ok: true, added: 4 })

  const replay = okOutput(t, await admit(encodeMessageBatch(messages)))
  t.is(replay?.added, 0)
  t.deepEqual(replay?.ids, ids(messages), 'a replay still answers every id')
  t.is(store.pending.count(), 4)
  t.deepEqual(store.pending.takeOldest(100).map(e => toHex(e.id)), ids(messages))

  // Already in the chain: answered, not made pending again.
  store.commitBlock(commitOf(block1))
  const mixed = [...block1.block.messages, messages[0], ...makeMessages(1, { nonceStart: 200 })]
  const output = okOutput(t, await admit(encodeMessageBatch(mixed)))
  t.is(output?.added, 1)
  t.deepEqual(output?.ids, ids(mixed))
  t.is(store.pending.count(), 5)
  t.is(store.pending.get(block1.messageIds[0]), undefined)
})

test.serial('each mode admits the valid messages and reports the invalid ones; the pool alone writes nothing', async t => {
  const { admit, pool, store } = await startLeader(t)
  const messages = makeMessages(4)
  messages[1] = forgeSignature(messages[1])
  // The pool verifies and hands on the valid messages' bytes and ids; it never writes `pending`.
  const verifiedOnly = okOutput(t, await pool.admitMessages(encodeMessageBatch(messages), { mode: 'each' }))
  t.is(store.pending.count(), 0)
  const valid = [messages[0], messages[2], messages[3]]
  t.deepEqual(verifiedOnly?.verified.ends, valid.map(m => encodeMessage(m).byteLength).map((_, i, all) => all.slice(0, i + 1).reduce((a, b) => a + b, 0)))
  t.is(toHex(new Uint8Array(verifiedOnly?.verified.wire ?? new ArrayBuffer(0))), valid.map(m => toHex(encodeMessage(m))).join(''))
  t.is(toHex(new Uint8Array(verifiedOnly?.verified.ids ?? new ArrayBuffer(0))), ids(valid).join(''))

  const output = okOutput(t, await admit(encodeMessageBatch(messages), 'each'))
  t.deepEqual(output?.ids, [idHex(messages[0]), null, idHex(messages[2]), idHex(messages[3])])
  t.is(output?.added, 3)
  t.deepEqual(output?.rejected.map(r => [r.index, r.code]), [[1, 'MESSAGE_BAD_SIGNATURE']])
  t.deepEqual(store.pending.takeOldest(10).map(e => toHex(e.id)), ids(valid))
})

test.serial('backpressure: beyond maxAdmitQueue admissions reject with ERR_POOL_OVERLOADED', async t => {
  const { pool } = await startPool(t, { maxAdmitQueue: 2 })
  t.true(pool.canAcceptWork())
  const batches = Array.from({ length: 8 }, (_, i) => makeMessages(20, { nonceStart: i * 20 }))
  const runs = batches.map(async batch => await pool.admitMessages(encodeMessageBatch(batch)))
  t.false(pool.canAcceptWork(), 'full while the first two are queued or running')

  const settled = await Promise.allSettled(runs)
  const admitted = settled.filter(s => s.status === 'fulfilled')
  const refused = settled.filter(s => s.status === 'rejected')
  t.is(admitted.length, 2)
  t.is(refused.length, 6)
  for (const r of refused) {
    t.true(r.reason instanceof KimuraError)
    t.is((r.reason as KimuraError).code, 'ERR_POOL_OVERLOADED')
  }
  for (const [i, a] of admitted.entries()) {
    t.like(a.value, { ok: true })
    if (a.status === 'fulfilled' && a.value.ok) t.deepEqual(a.value.ids, ids(batches[i]), 'the first two batches were verified')
  }

  t.true(pool.canAcceptWork(), 'accepts again once the queue drained')
  t.like(await pool.admitMessages(encodeMessageBatch(makeMessages(1, { nonceStart: 1000 }))), { ok: true })
})

test.serial('stop() lets every started admission finish', async t => {
  // In a child process: a stop() that never returns leaves a thread that keeps its process alive.
  const dataDir = tempDir(t)
  const child = spawn(process.execPath, [STOP_SCRIPT, dataDir, '6'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  const outcome = await Promise.race([exited, sleep(STOP_TIMEOUT_MS, 'timeout' as const, { ref: false })])
  if (outcome === 'timeout') {
    child.kill('SIGKILL')
    await exited
    t.fail(`stop() with admissions in flight did not return within ${STOP_TIMEOUT_MS} ms`)
    return
  }
  t.deepEqual(outcome, [0, null], stderr)
  const report = JSON.parse(stdout) as StopReport
  t.deepEqual(report.settled, Array(6).fill({ status: 'fulfilled', ok: true, verified: 30 }), 'every started admission resolves, each message verified')
})

test.serial('after stop(), new tasks reject with ERR_POOL_STOPPED', async t => {
  const { pool } = await startPool(t)
  await pool.stop()
  t.false(pool.canAcceptWork())
  await t.throwsAsync(pool.importBlocks({ blocks: [], checked: [], now: Date.now() }), { instanceOf: KimuraError, code: 'ERR_POOL_STOPPED' })
  await t.throwsAsync(pool.admitMessages(encodeMessageBatch(makeMessages(1))), { instanceOf: KimuraError, code: 'ERR_POOL_STOPPED' })
  await t.notThrowsAsync(pool.stop(), 'stopping twice is safe')
})

// Child process for the pool-stop test: opens the store in argv[2], starts a pool,
// starts `count` (argv[3]) admissions (verifications) of 30 messages each, calls stop() at once, and prints one
// JSON line: how each admission settled. Run apart from the test process because a stop() that
// deadlocks leaves a worker thread that keeps its process alive; the test kills this one.
import '../../src/shared/polyfill.js'
import { errorCode, errorMessage } from '../../src/shared/errors.js'
import { ChainStore } from '../../src/shared/store/index.js'
import { makeMessages } from './fixtures.js'
import { encodeMessageBatch } from './message-batch.js'
import { createPool } from './store-fixtures.js'

export interface StopReport {
  settled: Array<{ status: 'fulfilled', ok: boolean, verified: number } | { status: 'rejected', code: string, reason: string }>
}

const [dataDir, countText] = process.argv.slice(2)
const store = ChainStore.open({ dataDir, initialize: true })
const pool = await createPool(dataDir)
const runs = Array.from({ length: Number(countText) }, async (_, i) =>
  await pool.admitMessages(encodeMessageBatch(makeMessages(30, { nonceStart: i * 30 }))))
const settling = Promise.allSettled(runs)
await pool.stop()
const report: StopReport = {
  settled: (await settling).map(s => s.status === 'fulfilled'
    ? { status: s.status, ok: s.value.ok, verified: s.value.ok ? s.value.verified.ends.length : 0 }
    : { status: s.status, code: errorCode(s.reason), reason: errorMessage(s.reason) })
}
await store.stop()
process.stdout.write(JSON.stringify(report) + '\n')

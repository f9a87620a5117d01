// --worker-nice: the pool's workers and the producer lower their own threads' priority, and
// only theirs (Linux keeps a nice value per thread); the thread that started them keeps its own.
import '../../../src/shared/polyfill.js'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { toHex } from '../../../src/shared/bytes.js'
import { DEFAULT_PARAMS } from '../../../src/shared/params.js'
import { ProducerClient } from '../../../src/main/producer/producer-client.js'
import { LEADER_SEED, leaderKey } from '../../helpers/fixtures.js'
import { startPool } from '../../helpers/store-fixtures.js'
import { threadNices } from '../../helpers/thread-nice.js'

const linux = process.platform === 'linux'

const countAt = (nices: Map<number, number>, nice: number): number => [...nices.values()].filter(n => n === nice).length

;(linux ? test.serial : test.serial.skip)('pool workers started with nice 7 run at nice 7, and the thread that started them stays at its own priority', async t => {
  const before = threadNices('self')
  const main = before.get(process.pid)
  const { pool } = await startPool(t, { threads: 2, nice: 7 })
  t.is(pool.workerPriority, 'nice 7')
  const after = threadNices('self')
  t.is(countAt(after, 7) - countAt(before, 7), 2, 'one thread at nice 7 per worker')
  t.is(after.get(process.pid), main)
})

;(linux ? test.serial : test.serial.skip)('the producer worker started with nice 5 runs at nice 5; nice 0 leaves it as it was', async t => {
  const { dataDir } = await startPool(t, { threads: 1 })
  const keyFile = join(dataDir, 'leader.key')
  writeFileSync(keyFile, toHex(LEADER_SEED) + '\n', { mode: 0o600 })
  const config = { dataDir, params: DEFAULT_PARAMS, leaderKey: toHex(leaderKey.publicKey), keyFile, maxPending: 10 }
  const before = threadNices('self')
  const niced = new ProducerClient({ ...config, nice: 5 })
  t.teardown(async () => { await niced.stop() })
  await niced.start()
  t.is(niced.threadPriority, 'nice 5')
  t.is(countAt(threadNices('self'), 5) - countAt(before, 5), 1)
  await niced.stop()

  const plain = new ProducerClient({ ...config, nice: 0 })
  t.teardown(async () => { await plain.stop() })
  await plain.start()
  t.is(plain.threadPriority, 'unchanged (nice 0)')
  t.is(countAt(threadNices('self'), 5), countAt(before, 5))
})

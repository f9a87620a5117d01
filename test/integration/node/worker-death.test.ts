// A dying producer worker is impossible to miss: the leader logs the cause at fatal and exits
// non-zero (so a supervisor restarts it), instead of producing nothing without a word.
import '../../../src/shared/polyfill.js'
import { resolve } from 'node:path'
import test from 'ava'
import { createNodeProcess, NodeProcess } from '../../helpers/node-process.js'
import { waitFor } from '../../helpers/wait.js'

const PRELOAD = resolve('build/test/helpers/kill-producer.js')

class ProducerKilledLeader extends NodeProcess {
  override env (): NodeJS.ProcessEnv {
    return { ...super.env(), NODE_OPTIONS: `--import=${PRELOAD}`, TEST_KILL_PRODUCER_AFTER_MS: '5000' }
  }
}

test('a leader whose producer worker dies logs it at fatal and exits 1, after blocks were produced', async t => {
  const spec = createNodeProcess(t, { leader: true, blockIntervalMs: 100 }).spec
  const leader = new ProducerKilledLeader(spec)
  t.teardown(async () => { await leader.kill(); leader.saveLog(t.title) })
  await leader.start()
  await leader.waitForHeight(3, 10_000)
  await waitFor(() => !leader.running, 15_000, 'the leader to exit after its producer worker died')
  t.is(leader.exitCode, 1, leader.output.slice(-2000))
  const fatal = leader.output.split('\n').filter(line => line.includes('"level":60'))
  t.true(fatal.some(line => line.includes('ERR_WORKER_DIED') && line.includes('producer worker')), `no fatal line naming the dead producer worker:\n${leader.output.slice(-2000)}`)
})

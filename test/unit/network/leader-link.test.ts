import '../../../src/shared/polyfill.js'
import test from 'ava'
import { pino } from 'pino'
import { LeaderLink } from '../../../src/main/network/leader-link.js'
import { waitFor } from '../../helpers/wait.js'

const logger = pino({ level: 'silent' })

test('the backoff doubles from min to max, jittered into [d/2, d]', t => {
  const link = new LeaderLink({ leaderAddr: 'x', minDelayMs: 250, maxDelayMs: 5000, dial: async () => {}, logger })
  const state = link as unknown as { failures: number }
  for (const [failures, full] of [[0, 250], [1, 500], [2, 1000], [4, 4000], [5, 5000], [60, 5000]] as const) {
    state.failures = failures
    for (let i = 0; i < 50; i++) {
      const delay = link.nextDelayMs()
      t.true(delay >= full / 2 && delay <= full, `${failures} failures: ${delay}`)
    }
  }
})

test('failed dials are retried until one succeeds; a disconnect redials; stop ends it', async t => {
  let dials = 0
  const link = new LeaderLink({
    leaderAddr: 'x',
    minDelayMs: 5,
    maxDelayMs: 20,
    dial: async () => {
      dials++
      if (dials < 4) throw new Error('refused')
      await Promise.resolve()
    },
    logger
  })
  t.teardown(() => { link.stop() })
  link.start()
  await waitFor(() => dials === 4, 5_000, 'the fourth dial')
  link.onDisconnected()
  await waitFor(() => dials === 5, 5_000, 'a redial after the disconnect')
  link.stop()
  link.onDisconnected()
  link.start()
  t.is(dials, 5, 'nothing dials once stopped')
})

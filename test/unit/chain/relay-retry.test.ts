// A peer's relay retry: what it acknowledged is published again while no stored block includes
// it, oldest first, each wait twice the one before up to a cap, at most maxSends times in all,
// and forgotten once a block includes it.
import '../../../src/shared/polyfill.js'
import { setTimeout as sleep } from 'node:timers/promises'
import test from 'ava'
import { pino } from 'pino'
import { toHex } from '../../../src/shared/bytes.js'
import { RelayRetry, type RelayRetryOptions } from '../../../src/main/chain/relay-retry.js'

const ID = (n: number): Uint8Array => new Uint8Array(32).fill(n)
const PAYLOAD = (n: number): Uint8Array => new Uint8Array([0x95, n])
const entry = (n: number): { id: Uint8Array, encoded: Uint8Array } => ({ id: ID(n), encoded: PAYLOAD(n) })

/** The chain this peer holds keeps up with the clock unless `chainTime` says otherwise. */
function retry (options: Partial<RelayRetryOptions>, included: Set<string>, chainTime = (): number => Date.now()): { relay: RelayRetry, published: string[] } {
  const published: string[] = []
  const relay = new RelayRetry({ resendAfterMs: 60, maxResendIntervalMs: 10_000, checkIntervalMs: 15, maxSends: 3, maxTracked: 100, ...options }, {
    isIncluded: id => included.has(toHex(id)),
    chainTime,
    publish: async payload => { published.push(toHex(payload)); return await Promise.resolve(1) },
    logger: pino({ level: 'silent' })
  })
  return { relay, published }
}

test('a message no block includes is published again after resendAfterMs, up to maxSends sends in all; an included one is not', async t => {
  const included = new Set<string>()
  const { relay, published } = retry({}, included)
  t.teardown(() => { relay.stop() })
  relay.start()
  relay.track([entry(1), entry(2)])
  await sleep(30)
  t.deepEqual(published, [], 'nothing is due yet')
  included.add(toHex(ID(2)))
  await sleep(400)
  t.deepEqual(published, [toHex(PAYLOAD(1)), toHex(PAYLOAD(1))], 'sent twice more (three sends in all), then given up')
})

test('a message included after a resend is forgotten at its next turn; the same id tracked twice is sent once', async t => {
  const included = new Set<string>()
  const { relay, published } = retry({ maxSends: 10 }, included)
  t.teardown(() => { relay.stop() })
  relay.start()
  relay.track([entry(3)])
  relay.track([entry(3)])
  await sleep(100)
  t.deepEqual(published, [toHex(PAYLOAD(3))])
  included.add(toHex(ID(3)))
  await sleep(150)
  t.deepEqual(published, [toHex(PAYLOAD(3))], 'once included, never sent again')
})

test('beyond maxTracked the oldest messages are dropped, not the newest', async t => {
  const { relay, published } = retry({ maxTracked: 2, resendAfterMs: 20 }, new Set())
  t.teardown(() => { relay.stop() })
  relay.track([entry(4), entry(5), entry(6)])
  relay.start()
  await sleep(60)
  t.deepEqual(published.slice(0, 2).sort(), [toHex(PAYLOAD(5)), toHex(PAYLOAD(6))].sort())
  t.false(published.includes(toHex(PAYLOAD(4))), 'the oldest was dropped')
})

test('each wait between sends is twice the one before, up to maxResendIntervalMs', async t => {
  // Waits of 40, 80, 160 and 320 ms: resends near 40, 120 and 280 ms into a 330 ms window,
  // where a fixed 40 ms wait would resend 8 times.
  const doubling = retry({ resendAfterMs: 40, checkIntervalMs: 10, maxSends: 100 }, new Set())
  // Capped at the first wait: a resend every 40 ms.
  const capped = retry({ resendAfterMs: 40, maxResendIntervalMs: 40, checkIntervalMs: 10, maxSends: 100 }, new Set())
  for (const { relay } of [doubling, capped]) {
    t.teardown(() => { relay.stop() })
    relay.track([entry(7)])
    relay.start()
  }
  await sleep(330)
  t.true(doubling.published.length >= 2 && doubling.published.length <= 4, `doubling waits: ${doubling.published.length} resends`)
  t.true(capped.published.length >= 5, `capped waits: ${capped.published.length} resends`)
})

test('a peer whose chain lags resends nothing until it stores a block made after the message fell due', async t => {
  let chainTime = Date.now()
  const { relay, published } = retry({ resendAfterMs: 40, checkIntervalMs: 10, maxSends: 10 }, new Set(), () => chainTime)
  t.teardown(() => { relay.stop() })
  relay.track([entry(8)])
  relay.start()
  await sleep(150)
  t.deepEqual(published, [], 'its newest block is older than the due time: it cannot tell whether a block includes the message')
  chainTime = Date.now()
  await sleep(60)
  t.deepEqual(published, [toHex(PAYLOAD(8))], 'caught up past the due time and still in no block: sent again')
})

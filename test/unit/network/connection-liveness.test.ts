import { setTimeout as wait } from 'node:timers/promises'
import test from 'ava'
import type { Connection } from '@libp2p/interface'
import { pino } from 'pino'
import { ConnectionLiveness } from '../../../src/main/network/connection-liveness.js'

interface FakeConnection { status: string, remotePeer: { toString: () => string }, aborted: Error[], abort: (err: Error) => void, muxer?: { ping: (options: { signal: AbortSignal }) => Promise<number> } }

/** A connection whose muxer answers a ping after `answerMs` (never when undefined); none when `muxer` is false. */
function connection (name: string, answerMs: number | undefined, muxer = true): FakeConnection {
  const conn: FakeConnection = {
    status: 'open',
    remotePeer: { toString: () => name },
    aborted: [],
    abort (err) { this.aborted.push(err); this.status = 'closed' }
  }
  if (muxer) {
    conn.muxer = {
      ping: async ({ signal }) => await new Promise<number>((resolve, reject) => {
        if (answerMs !== undefined) setTimeout(() => { resolve(answerMs) }, answerMs)
        signal.addEventListener('abort', () => { reject(new Error('ping aborted')) })
      })
    }
  }
  return conn
}

test('a connection that does not answer a ping in time is closed; one that answers, or is already closed, is left alone', async t => {
  const quick = connection('quick', 5)
  const silent = connection('silent', undefined)
  const closed = connection('closed', undefined)
  closed.status = 'closed'
  const liveness = new ConnectionLiveness({ intervalMs: 60_000, timeoutMs: 100 }, {
    connections: () => [quick, silent, closed] as unknown as Connection[],
    protocolPing: async () => { await Promise.reject(new Error('not used')) },
    logger: pino({ level: 'silent' })
  })
  liveness.checkAll()
  await wait(50)
  t.deepEqual([quick.aborted.length, silent.aborted.length], [0, 0], 'nothing is closed before the timeout')
  await wait(150)
  t.is(quick.aborted.length, 0)
  t.is(silent.aborted.length, 1)
  t.regex(silent.aborted[0]?.message ?? '', /no answer to a ping within 100 ms/)
  t.is(closed.aborted.length, 0)
})

test('a connection whose muxer cannot ping is pinged by the libp2p ping protocol', async t => {
  const plain = connection('plain', undefined, false)
  const pinged: string[] = []
  const liveness = new ConnectionLiveness({ intervalMs: 60_000, timeoutMs: 100 }, {
    connections: () => [plain] as unknown as Connection[],
    protocolPing: async (conn) => { pinged.push(conn.remotePeer.toString()); await Promise.reject(new Error('protocol not supported')) },
    logger: pino({ level: 'silent' })
  })
  liveness.checkAll()
  await wait(20)
  t.deepEqual(pinged, ['plain'])
  t.regex(plain.aborted[0]?.message ?? '', /ping failed: protocol not supported/)
})

test('pings run every interval until stop()', async t => {
  let pings = 0
  const conn = connection('counted', 1)
  const ping = conn.muxer?.ping
  if (ping === undefined) return t.fail()
  conn.muxer = { ping: async (options) => { pings++; return await ping(options) } }
  const liveness = new ConnectionLiveness({ intervalMs: 30, timeoutMs: 100 }, {
    connections: () => [conn] as unknown as Connection[],
    protocolPing: async () => { await Promise.resolve() },
    logger: pino({ level: 'silent' })
  })
  liveness.start()
  await wait(200)
  liveness.stop()
  const counted = pings
  t.true(counted >= 3, `${counted} pings in 200 ms at a 30 ms interval`)
  await wait(100)
  t.is(pings, counted, 'no ping after stop()')
})

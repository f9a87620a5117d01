// Readers that never read cannot pin the server's memory (issue 9, "closed doors"): 50 libp2p
// connections, each with its own peer id, open two sync streams asking for the whole chain and
// never read a byte. The leader's RSS stays within 100 MB of where it started, and an honest
// peer still syncs the whole chain meanwhile.
import '../../../src/shared/polyfill.js'
import { readFileSync } from 'node:fs'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import test from 'ava'
import { createLibp2p, type Libp2p } from 'libp2p'
import { encodeSyncRequest, SYNC_PROTOCOL } from '../../../src/main/network/sync-protocol.js'
import { Sender, submitOk } from '../../helpers/api-client.js'
import { startLeader, startPeer } from '../../helpers/node-process.js'
import { waitFor } from '../../helpers/wait.js'

const ATTACKERS = 50
const STREAMS_EACH = 2
/** About 1 MB blocks: a whole-chain request fills the 8 MiB response cap. */
const BLOCKS = 30
const MESSAGES_PER_BLOCK = 1000
const CONTENT_BYTES = 1000

function memoryOf (pid: number): { rssMb: number, anonMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN)
  return { rssMb: kb('VmRSS') / 1024, anonMb: kb('RssAnon') / 1024 }
}

test('50 connections holding sync streams they never read leave the leader\'s RSS within 100 MB, and an honest peer syncs the whole chain', async t => {
  t.timeout(180_000)
  const leader = await startLeader(t, { blockIntervalMs: 1000, logLevel: 'info' })
  const sender = new Sender()
  for (let b = 0; b < BLOCKS; b++) {
    await submitOk(leader, sender.messages(MESSAGES_PER_BLOCK, CONTENT_BYTES, `flood-${b}`))
    await waitFor(async () => (await leader.status()).pending === 0, 30_000, `batch ${b} to be included`)
  }
  const target = multiaddr((await leader.status()).listen[0])
  const height = (await leader.status()).height
  const pid = leader.proc?.pid
  if (pid === undefined) throw new Error('no leader pid')
  const before = memoryOf(pid)

  const attackers: Libp2p[] = []
  t.teardown(async () => { await Promise.all(attackers.map(async a => { await a.stop() })) })
  let opened = 0
  const holdStream = async (node: Libp2p): Promise<void> => {
    const stream = await node.dialProtocol(target, SYNC_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
    opened++
    try {
      stream.send(encodeSyncRequest({ from: 1, count: 512 }))
      await stream.close()
    } catch {
      // Refused at once (every slot taken): that costs the server nothing.
    }
    // Never read: the server is left to cut this stream off.
  }
  for (let i = 0; i < ATTACKERS; i++) {
    const node = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
    attackers.push(node)
    await node.dial(target)
  }
  const afterConnections = memoryOf(pid)
  await Promise.all(attackers.flatMap(node => Array.from({ length: STREAMS_EACH }, async () => { await holdStream(node) })))
  let peak = before
  const sampler = setInterval(() => {
    const now = memoryOf(pid)
    if (now.rssMb > peak.rssMb) peak = now
  }, 100)
  t.teardown(() => { clearInterval(sampler) })

  await new Promise(resolve => setTimeout(resolve, 3_000))
  const honest = await startPeer(t, leader, { logLevel: 'info' })
  await honest.waitForHeight(height, 90_000)
  await new Promise(resolve => setTimeout(resolve, 2_000))
  clearInterval(sampler)
  t.log(`leader RSS ${before.rssMb.toFixed(0)} MB before (anon ${before.anonMb.toFixed(0)}), ${afterConnections.rssMb.toFixed(0)} MB with ${ATTACKERS} connections, peak ${peak.rssMb.toFixed(0)} MB (anon ${peak.anonMb.toFixed(0)}); the honest peer synced ${height} blocks`)
  t.is(opened, ATTACKERS * STREAMS_EACH, 'every attacking stream was opened')
  t.true(peak.rssMb - before.rssMb < 100, `the leader's RSS grew by ${(peak.rssMb - before.rssMb).toFixed(0)} MB`)
  t.true(leader.running)
})

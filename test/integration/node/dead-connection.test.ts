// A peer that stops answering (SIGSTOP; a cut link looks the same from the other end) keeps
// its TCP connection open for many minutes: the kernel still takes the bytes. The leader must
// notice it by its pings (every 10 s, 5 s to answer: connection-liveness.ts), close the
// connection, and take the peer back once it answers again.
import '../../../src/shared/polyfill.js'
import test from 'ava'
import { startCluster } from '../../helpers/node-process.js'
import { waitFor } from '../../helpers/wait.js'

test.serial('the leader closes the connection of a peer that stopped answering, and the peer follows again after it resumes', async t => {
  const { leader, peers: [peer] } = await startCluster(t, { peers: 1, blockIntervalMs: 500, logLevel: 'info' })
  const pid = peer.pid
  if (pid === undefined) return t.fail('the peer has no pid')
  t.is((await leader.status()).peers, 1)

  const stoppedAt = Date.now()
  process.kill(pid, 'SIGSTOP')
  let resumed = false
  t.teardown(() => { if (!resumed) process.kill(pid, 'SIGCONT') })
  // At most one interval until the next ping, then the timeout; some slack for a loaded host.
  await waitFor(async () => (await leader.status()).peers === 0, 25_000, 'the leader to drop the stopped peer', 200)
  const noticedMs = Date.now() - stoppedAt
  t.log(`the leader closed the stopped peer's connection after ${noticedMs} ms`)
  await leader.waitForOutput(/closing a connection that does not answer/, 1_000)

  process.kill(pid, 'SIGCONT')
  resumed = true
  await waitFor(async () => (await leader.status()).peers === 1, 20_000, 'the peer to connect again', 200)
  const target = (await leader.height()) + 4
  await peer.waitForHeight(target, 20_000)
  const [a, b] = await Promise.all([leader.status(), peer.status()])
  t.true(b.height >= target)
  t.true(a.height >= target)
})

// kimura/client against real node processes: submit in both formats and in batches beyond
// maxBlockMessages, waitForInclusion, proofs verified against the leader key read from the
// leader's own key file (pinned, not taken from the node), on the leader and on a peer.
import '../../../src/shared/polyfill.js'
import { join } from 'node:path'
import test from 'ava'
import { KimuraApiError, KimuraClient, Sender, toHex, verifyInclusion, type Message } from '../../../src/client/index.js'
import { signMessage } from '../../../src/shared/block.js'
import { signingKeyFromSeed } from '../../../src/shared/keys.js'
import { loadSigningKey } from '../../../src/shared/key-file.js'
import { startLeader, startPeer, type NodeProcess } from '../../helpers/node-process.js'

/** The leader's public key from its key file: what a user pins, independent of any answer. */
function pinnedLeaderKey (leader: NodeProcess): string {
  return toHex(loadSigningKey(join(leader.spec.dataDir, 'leader.key')).publicKey)
}

/** Checks every id's proof, on `node`, against `leaderKey`; answers how many verified. */
async function verifyAll (client: KimuraClient, ids: readonly string[], leaderKey: string): Promise<number> {
  const headers = new Map<number, Awaited<ReturnType<KimuraClient['block']>>['header']>()
  let verified = 0
  for (const id of ids) {
    const proof = await client.proof(id)
    let header = headers.get(proof.height)
    if (header === undefined) {
      header = (await client.block(proof.height)).header
      headers.set(proof.height, header)
    }
    if (verifyInclusion(proof, id, header, leaderKey).ok) verified++
  }
  return verified
}

test('submit as MessagePack and as JSON, wait for inclusion, and verify each proof against the pinned leader key', async t => {
  const leader = await startLeader(t, 200)
  const client = new KimuraClient(leader.api)
  const leaderKey = pinnedLeaderKey(leader)
  t.is((await client.status()).leaderKey, leaderKey)
  const sender = Sender.random()
  const binary = Array.from({ length: 20 }, (_, i) => sender.sign(`binary ${i}`))
  const json = Array.from({ length: 20 }, (_, i) => sender.sign(`json ${i}`))
  const ids = [...await client.submit(binary), ...await client.submit(json, { format: 'json' })]
  t.is(new Set(ids).size, 40)
  const inclusions = await client.waitForInclusion(ids, { timeoutMs: 30_000 })
  t.deepEqual(inclusions.map(i => i.id), ids)
  for (const { id, height } of inclusions) t.true((await client.block(height)).messageIds.includes(id))
  const found = await client.message(ids[25])
  t.is(new TextDecoder().decode(Uint8Array.from(Buffer.from(found.message.content, 'hex'))), 'json 5')
  t.is(await verifyAll(client, ids, leaderKey), 40)

  // Against another key, nothing verifies.
  const otherKey = Sender.random().publicKeyHex
  const proof = await client.proof(ids[0])
  const verdict = verifyInclusion(proof, ids[0], (await client.block(proof.height)).header, otherKey)
  t.false(verdict.ok)
  // Submitting the same messages again is no error and includes nothing twice.
  t.deepEqual(await client.submit(binary.slice(0, 3)), ids.slice(0, 3))
})

test('a batch of 10,500 goes as 10,000 + 500, and every message lands in a block in order', async t => {
  t.timeout(180_000)
  const leader = await startLeader(t, 300)
  const client = new KimuraClient(leader.api)
  // Signed with libsodium: the node's pool verifies 10,500 either way; noble would only be slower here.
  const key = signingKeyFromSeed(crypto.getRandomValues(new Uint8Array(32)))
  const timestamp = Date.now()
  const messages: Message[] = Array.from({ length: 10_500 }, (_, i) => signMessage(key, { timestamp, nonce: i, content: new TextEncoder().encode(`bulk ${i}`) }))
  const posts: number[] = []
  const counting = new KimuraClient({
    url: leader.api,
    fetch: async (input, init) => {
      if (init?.method === 'POST') posts.push(init.body instanceof Uint8Array ? init.body.length : 0)
      return await fetch(input, init)
    }
  })
  const ids = await counting.submit(messages)
  t.is(ids.length, 10_500)
  t.is(posts.length, 2, `${posts.length} requests`)
  const inclusions = await client.waitForInclusion(ids, { timeoutMs: 120_000 })
  const heights = inclusions.map(i => i.height)
  t.true(heights.every((h, i) => i === 0 || h >= heights[i - 1]), 'included in submission order')
  const sample = [0, 1, 4999, 9999, 10_000, 10_499].map(i => ids[i])
  t.is(await verifyAll(client, sample, pinnedLeaderKey(leader)), sample.length)
})

test('on a peer: submit is relayed, waitForInclusion waits for the block to arrive, the proof verifies against the leader key', async t => {
  const leader = await startLeader(t, 200)
  const peer = await startPeer(t, leader)
  await peer.waitForHeight(2)
  const onPeer = new KimuraClient({ url: peer.api, submit: { retry: { attempts: 20, initialDelayMs: 100 } } })
  const sender = Sender.random()
  const ids = await onPeer.submit(Array.from({ length: 5 }, (_, i) => sender.sign(`via peer ${i}`)))
  const inclusions = await onPeer.waitForInclusion(ids, { timeoutMs: 30_000 })
  t.is(inclusions.length, 5)
  t.is(await verifyAll(onPeer, ids, pinnedLeaderKey(leader)), 5)
  const error = await t.throwsAsync(onPeer.proof('ab'.repeat(32)))
  t.true(error instanceof KimuraApiError)
  if (error instanceof KimuraApiError) t.deepEqual([error.status, error.code], [404, 'MESSAGE_NOT_FOUND'])
})

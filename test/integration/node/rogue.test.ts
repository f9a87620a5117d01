// Chain continuity under attack (issue #6, SPEC sections 3 and 5): a rogue libp2p node connected
// to the leader and to both peers gossips invalid blocks on kimura/blocks/1.0.0. No node stores
// one, the peers count them as rejected, and everyone keeps following the real leader.
import '../../../src/shared/polyfill.js'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import test, { type ExecutionContext } from 'ava'
import { createLibp2p } from 'libp2p'
import { BLOCKS_TOPIC, createGossipsub } from '../../../src/main/network/gossip.js'
import { buildSignedBlock, signMessage, type BlockTemplate } from '../../../src/shared/block.js'
import { fromHex, toHex } from '../../../src/shared/bytes.js'
import { encodeBlock } from '../../../src/shared/codec.js'
import { blockHash } from '../../../src/shared/hash.js'
import { loadSigningKey } from '../../../src/shared/key-file.js'
import { signingKeyFromSeed, type SigningKey } from '../../../src/shared/keys.js'
import { DEFAULT_PARAMS } from '../../../src/shared/params.js'
import type { BlockJson } from '../../../src/shared/json.js'
import type { Message } from '../../../src/shared/types.js'
import {
  chainLinkErrors, getBlock, getMessage, getMetrics, metricValue, readChain, Sender, submitOk
} from '../../helpers/api-client.js'
import { startCluster, type NodeProcess } from '../../helpers/node-process.js'
import { waitFor } from '../../helpers/wait.js'

/** A bare libp2p node with Kimura's gossipsub settings, dialing every given node. */
async function startRogue (t: ExecutionContext, targets: readonly NodeProcess[]): Promise<{ publish: (data: Uint8Array) => Promise<number> }> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), pubsub: createGossipsub({ maxBlockBytes: DEFAULT_PARAMS.maxBlockBytes }) }
  })
  t.teardown(async () => { await node.stop() })
  await node.start()
  node.services.pubsub.subscribe(BLOCKS_TOPIC)
  for (const target of targets) await node.dial(multiaddr((await target.status()).listen[0]))
  await waitFor(() => node.services.pubsub.getSubscribers(BLOCKS_TOPIC).length >= targets.length, 15_000, 'every node to be a blocks-topic subscriber of the rogue')
  return {
    publish: async (data) => (await node.services.pubsub.publish(BLOCKS_TOPIC, data)).recipients.length
  }
}

interface Forgery {
  name: string
  bytes: Uint8Array
  /** Validated and refused (counted as rejected), or dropped before validation (ignored). */
  expect: 'reject' | 'ignore'
  /** The block hash its header claims (none for bytes that are not a block). */
  hash?: string
}

/** Invalid blocks against the tip `tip`: most signed with the real leader key, so that each breaks one rule only. */
function forgeries (tip: BlockJson, leaderKey: SigningKey, included: Message, sender: Sender): Forgery[] {
  const otherKey = signingKeyFromSeed(randomBytes(32))
  const height = tip.header.height + 1
  const prevHash = fromHex(tip.hash, 32) ?? new Uint8Array(32)
  const now = Math.max(Date.now(), tip.header.timestamp)
  const fresh = sender.messages(2, 24, 'forged')
  const block = (key: SigningKey, template: Partial<BlockTemplate>): Pick<Forgery, 'bytes' | 'hash'> => {
    const built = buildSignedBlock(key, { height, timestamp: now, prevHash, messages: fresh, ...template })
    return { bytes: encodeBlock(built.block), hash: toHex(built.hash) }
  }

  // A leader-signed block whose proposer field names the leader but whose signature is another key's.
  const signedByOther = buildSignedBlock(otherKey, { height, timestamp: now, prevHash, messages: fresh })
  const stolenHeader = { ...signedByOther.block.header, proposer: leaderKey.publicKey }
  const stolenName = { block: { ...signedByOther.block, header: stolenHeader }, hash: blockHash(stolenHeader) }
  // A message whose signature does not verify.
  const badMessage = signMessage(sender.key, { timestamp: now, nonce: 1e9, content: new TextEncoder().encode('tampered') })
  badMessage.content = new TextEncoder().encode('Tampered')

  return [
    { name: 'invalid prevHash', expect: 'reject', ...block(leaderKey, { prevHash: randomBytes(32) }) },
    { name: 'wrong signer (another key as proposer)', expect: 'reject', ...block(otherKey, {}) },
    { name: 'leader as proposer, another key\'s signature', expect: 'reject', bytes: encodeBlock(stolenName.block), hash: toHex(stolenName.hash) },
    { name: 'wrong messageRoot', expect: 'reject', ...block(leaderKey, { messageIds: [randomBytes(32), randomBytes(32)] }) },
    { name: 'timestamp 60 s in the future', expect: 'reject', ...block(leaderKey, { timestamp: now + 60_000 }) },
    { name: 'timestamp before the parent', expect: 'reject', ...block(leaderKey, { timestamp: tip.header.timestamp - 1 }) },
    { name: 'a message already in the chain', expect: 'reject', ...block(leaderKey, { messages: [included] }) },
    { name: 'the same message twice', expect: 'reject', ...block(leaderKey, { messages: [fresh[0], fresh[0]] }) },
    { name: 'a message with a bad signature', expect: 'reject', ...block(leaderKey, { messages: [badMessage] }) },
    { name: 'not a block (random bytes)', expect: 'reject', bytes: randomBytes(200) },
    { name: 'wrong height (tip + 2)', expect: 'ignore', ...block(leaderKey, { height: height + 1 }) },
    { name: 'wrong height (a second block at the tip)', expect: 'ignore', ...block(leaderKey, { height: height - 1, prevHash: fromHex(tip.header.prevHash, 32) ?? prevHash }) },
    { name: 'wrong height (0)', expect: 'ignore', ...block(leaderKey, { height: 0 }) }
  ]
}

function rejectedTotal (metrics: string): number {
  return metricValue(metrics, 'kimura_blocks_rejected_total') ?? 0
}

test.serial('a rogue node gossiping invalid blocks changes no chain; peers reject them and keep following the leader', async t => {
  // A 2 s interval leaves a wide window in which the forged blocks are for the next height.
  const INTERVAL = 2000
  const { leader, peers } = await startCluster(t, { peers: 2, blockIntervalMs: INTERVAL })
  const nodes = [leader, ...peers]
  // The rogue holds the leader's signing key: each forgery then breaks exactly one rule.
  const leaderKey = loadSigningKey(join(leader.spec.dataDir, 'leader.key'))
  t.is(toHex(leaderKey.publicKey), (await leader.status()).leaderKey)
  const sender = new Sender()
  const [included] = sender.messages(1, 24, 'real')
  const [includedId] = await submitOk(leader, [included])
  await waitFor(async () => (await Promise.all(peers.map(async p => (await getMessage(p, includedId))?.height ?? null))).every(h => h !== null),
    15_000, 'the real message in a block on the peers', 50)

  const rogue = await startRogue(t, nodes)
  const rejectedBefore = await Promise.all(nodes.map(async n => rejectedTotal(await getMetrics(n))))

  // Right after a new block reaches the peers, forge blocks for the next height and gossip them.
  const seenTip = await leader.height()
  await waitFor(async () => (await Promise.all(peers.map(async p => await p.height()))).every(h => h > seenTip), 3 * INTERVAL, 'a new block on both peers', 10)
  const { height: tipHeight } = await leader.status()
  const tip = await getBlock(leader, tipHeight)
  if (tip === undefined) throw new Error(`the leader's status is at height ${tipHeight}, but GET /v1/blocks/${tipHeight} answers 404`)
  const forged = forgeries(tip, leaderKey, included, sender)
  const started = Date.now()
  const recipients = await Promise.all(forged.map(async f => await rogue.publish(f.bytes)))
  t.log(`${forged.length} forged blocks for height ${tip.header.height + 1} published in ${Date.now() - started} ms, to ${recipients.join('/')} nodes each`)
  t.true(recipients.every(n => n === nodes.length), 'the rogue reached every node directly')
  t.true(Date.now() - tip.header.timestamp < INTERVAL / 2, 'the forgeries went out before the next real block was due')

  // Every node validates and refuses the forgeries for the next height.
  const expectedRejects = forged.filter(f => f.expect === 'reject').length
  await waitFor(async () => {
    const now = await Promise.all(nodes.map(async n => rejectedTotal(await getMetrics(n))))
    return peers.every((_, i) => now[i + 1] - rejectedBefore[i + 1] >= expectedRejects)
  }, 10_000, `both peers to reject the ${expectedRejects} invalid blocks`, 100).catch(() => { /* reported below */ })
  const rejected = await Promise.all(nodes.map(async n => await getMetrics(n)))
  for (const [i, node] of nodes.entries()) {
    const delta = rejectedTotal(rejected[i]) - rejectedBefore[i]
    const codes = [...rejected[i].matchAll(/^kimura_blocks_rejected_total\{code="([^"]+)"\} (\d+)/gm)].map(m => `${m[1]}=${m[2]}`)
    t.log(`${node.name}: kimura_blocks_rejected_total +${delta} (${codes.join(', ')})`)
    if (node !== leader) t.true(delta >= expectedRejects, `${node.name} rejected ${delta} of the ${expectedRejects} invalid blocks`)
  }

  // The chain goes on, identical everywhere, holding none of the forgeries.
  const after = tip.header.height + 3
  await Promise.all(nodes.map(async n => { await n.waitForHeight(after, 6 * INTERVAL) }))
  const [leaderChain, ...peerChains] = await Promise.all(nodes.map(async n => await readChain(n, after)))
  t.deepEqual(chainLinkErrors(leaderChain), [])
  for (const [i, chain] of peerChains.entries()) t.deepEqual(chain.map(b => b.hash), leaderChain.map(b => b.hash), `${peers[i].name} differs from the leader`)
  // No forged block is on any chain.
  const forgedHashes = new Set(forged.map(f => f.hash).filter(h => h !== undefined))
  for (const [i, chain] of [leaderChain, ...peerChains].entries()) {
    t.deepEqual(chain.filter(b => forgedHashes.has(b.hash)).map(b => b.header.height), [], `${nodes[i].name} stored a forged block`)
  }

  // And the peers still follow the leader: a message submitted after the attack reaches their chains.
  const [lateId] = await submitOk(leader, sender.messages(1, 24, 'after-attack'))
  await waitFor(async () => (await Promise.all(peers.map(async p => (await getMessage(p, lateId))?.height ?? null))).every(h => h !== null),
    6 * INTERVAL, 'a message submitted after the attack in a block on both peers', 100)
})

import '../../../src/shared/polyfill.js'
import { EventEmitter } from 'node:events'
import test, { type ExecutionContext } from 'ava'
import { pino } from 'pino'
import { SyncClient, type SyncResult } from '../../../src/main/network/sync-client.js'
import type { ChainImporter, PeerEvent, SyncNetwork } from '../../../src/main/network/types.js'
import { waitFor } from '../../helpers/wait.js'

const logger = pino({ level: 'silent' })

/** A fake block is just its height as u16be, which the fake importer checks. */
function fakeBlock (height: number): Uint8Array {
  return new Uint8Array([height >> 8, height & 0xff])
}

function heightOf (block: Uint8Array): number {
  return ((block[0] ?? 0) << 8) | (block[1] ?? 0)
}

class FakeNetwork extends EventEmitter<{ 'leader:connected': [PeerEvent] }> implements SyncNetwork {
  readonly log: string[] = []
  peers = ['leader', 'other']
  tips = new Map<string, number>([['leader', 100], ['other', 100]])
  failing = new Set<string>()
  /** Blocks served at these heights are corrupt (the importer refuses them). */
  corruptFrom = Infinity
  /** Runs when a response is ready, before it is returned. */
  onResponse: ((from: number) => void) | undefined

  syncPeers (): string[] {
    return this.peers
  }

  async requestBlocks (peer: string, from: number, count: number): Promise<Uint8Array[]> {
    this.log.push(`request ${peer} ${from}`)
    await Promise.resolve()
    if (this.failing.has(peer)) throw Object.assign(new Error('connection reset'), { code: 'ERR_SYNC' })
    const tip = this.tips.get(peer) ?? 0
    const out: Uint8Array[] = []
    for (let h = from; h <= tip && out.length < Math.min(count, 10); h++) out.push(h >= this.corruptFrom ? new Uint8Array([0xff]) : fakeBlock(h))
    this.onResponse?.(from)
    return out
  }
}

class FakeImporter implements ChainImporter {
  height = 0
  /** Resolves pending imports only when released, to observe what happens meanwhile. */
  gate: Promise<void> = Promise.resolve()

  constructor (private readonly log: string[]) {}

  tipHeight (): number {
    return this.height
  }

  async importBlocks (blocks: Uint8Array[]): Promise<{ imported: number, error?: { code: string, reason: string } }> {
    this.log.push(`import ${heightOf(blocks[0])}..${heightOf(blocks[blocks.length - 1])}`)
    await this.gate
    let imported = 0
    for (const block of blocks) {
      if (heightOf(block) !== this.height + 1) return { imported, error: { code: 'BLOCK_WRONG_HEIGHT', reason: `got ${heightOf(block)}` } }
      this.height++
      imported++
    }
    return { imported }
  }
}

function setup (t: ExecutionContext): { network: FakeNetwork, importer: FakeImporter, client: SyncClient, results: SyncResult[] } {
  const network = new FakeNetwork()
  const importer = new FakeImporter(network.log)
  const client = new SyncClient({ network, importer, logger }, { batchSize: 10, retryMinMs: 10, retryMaxMs: 40 })
  const results: SyncResult[] = []
  client.on('done', r => results.push(r))
  t.teardown(async () => { await client.stop() })
  return { network, importer, client, results }
}

test('syncs from the leader in batches, requesting the next batch before importing the current one', async t => {
  const { network, importer, client, results } = setup(t)
  network.tips.set('leader', 25)
  client.start()
  await waitFor(() => results.length === 1, 5_000, 'one round')
  t.like(results[0], { status: 'synced', from: 1, to: 25, imported: 25, peer: 'leader' })
  t.is(importer.height, 25)
  t.deepEqual(network.log, [
    'request leader 1',
    'request leader 11', 'import 1..10',
    'request leader 21', 'import 11..20',
    'request leader 26', 'import 21..25'
  ])
})

test('concurrent triggers coalesce into the running round plus one queued re-run', async t => {
  const { network, importer, client, results } = setup(t)
  let release!: () => void
  importer.gate = new Promise(resolve => { release = resolve })
  client.start()
  await waitFor(() => network.log.includes('import 1..10'), 5_000, 'the first import')
  const triggers = [client.requestSync(), client.requestSync(), client.requestSync()]
  network.emit('leader:connected', { peerId: 'leader' })
  release()
  const answers = await Promise.all(triggers)
  t.is(results.length, 2, 'the first round and a single re-run')
  t.true(answers.every(a => a === answers[0]), 'every queued caller gets the re-run result')
  t.like(answers[0], { status: 'synced', from: 101, imported: 0 })
  t.is(importer.height, 100)
})

test('an invalid block stops the round; nothing retries it on its own', async t => {
  const { network, importer, client, results } = setup(t)
  network.corruptFrom = 15
  client.start()
  await waitFor(() => results.length === 1, 5_000, 'one round')
  t.like(results[0], { status: 'invalid', imported: 14, peer: 'leader', error: { code: 'BLOCK_WRONG_HEIGHT' } })
  t.is(importer.height, 14)
  t.false(network.log.includes('request other 15'), 'a refused block ends the round, it does not move on to another peer')
  // The client is idle again: a new trigger runs a round of its own at once.
  network.corruptFrom = Infinity
  t.like(await client.requestSync(), { status: 'synced', from: 15 })
  t.is(results.length, 2)
})

test('a failing peer falls back to the next one; blocks that arrived meanwhile are skipped', async t => {
  const { network, importer, client, results } = setup(t)
  network.failing.add('leader')
  network.tips.set('other', 12)
  client.start()
  await waitFor(() => results.length === 1, 5_000, 'one round')
  t.like(results[0], { status: 'synced', imported: 12, peer: 'other' })
  t.deepEqual(network.log.slice(0, 2), ['request leader 1', 'request other 1'])

  // Gossip imports 13..15 while the batch from 13 is on its way: only 16.. is imported.
  network.tips.set('other', 20)
  network.onResponse = from => { if (from === 13) importer.height = 15 }
  const result = await client.requestSync()
  t.like(result, { status: 'synced', from: 13, imported: 5, to: 20 })
  t.true(network.log.includes('import 16..20'))
})

test('a round that fails on every peer is retried with backoff until it succeeds', async t => {
  const { network, client, results } = setup(t)
  network.failing.add('leader')
  network.failing.add('other')
  client.start()
  await waitFor(() => results.length >= 2, 5_000, 'a retried round')
  t.is(results[0]?.status, 'failed')
  network.failing.clear()
  await waitFor(() => results.some(r => r.status === 'synced'), 5_000, 'a successful retry')
})

test('no peers: nothing to do; stop() ends a round and later triggers report stopped', async t => {
  const { network, importer, client, results } = setup(t)
  network.peers = []
  client.start()
  await waitFor(() => results.length === 1, 5_000, 'one round')
  t.is(results[0]?.status, 'no-peers')

  network.peers = ['leader']
  let release!: () => void
  importer.gate = new Promise(resolve => { release = resolve })
  const running = client.requestSync()
  await waitFor(() => network.log.includes('import 1..10'), 5_000, 'an import in progress')
  const stopping = client.stop()
  release()
  await stopping
  t.is((await running).status, 'stopped')
  t.is((await client.requestSync()).status, 'stopped')
})

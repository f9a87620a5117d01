import '../../../src/shared/polyfill.js'
import { EventEmitter } from 'node:events'
import test, { type ExecutionContext } from 'ava'
import { pino } from 'pino'
import { PeerBook } from '../../../src/main/network/peer-book.js'
import { SyncClient, type SyncClientOptions } from '../../../src/main/network/sync-client.js'
import type { ChainImporter, PeerStatusEvent, SyncNetwork } from '../../../src/main/network/types.js'
import { GENESIS_BLOCK } from '../../../src/shared/block.js'
import { waitFor } from '../../helpers/wait.js'

const logger = pino({ level: 'silent' })

/** A fake block is just its height as u16be, which the fake importer checks. */
function fakeBlock (height: number): Uint8Array {
  return new Uint8Array([height >> 8, height & 0xff])
}

function heightOf (block: Uint8Array): number {
  return ((block[0] ?? 0) << 8) | (block[1] ?? 0)
}

/** Peers with fixed tips; sync candidates ordered as the real PeerBook orders them. */
class FakeNetwork extends EventEmitter<{ 'peer:status': [PeerStatusEvent] }> implements SyncNetwork {
  readonly log: string[] = []
  readonly book = new PeerBook('fixed salt')
  failing = new Set<string>()
  /** Blocks served at these heights are corrupt (the importer refuses them). */
  corruptFrom = Infinity
  /** Runs when a response is ready, before it is returned. */
  onResponse: ((from: number) => void) | undefined
  refreshes = 0

  constructor () {
    super()
    this.setTip('leader', 100)
    this.setTip('other', 100)
  }

  setTip (peer: string, height: number): void {
    this.book.setTip(peer, { height, hash: String(height) })
  }

  syncPeers (height: number): string[] {
    return this.book.aheadOf(height, () => true)
  }

  highestPeerTip (): { height: number } | undefined {
    return this.book.highest(() => true)
  }

  reportSyncFailure (peer: string): void {
    this.log.push(`failure ${peer}`)
    this.book.reportSyncFailure(peer)
  }

  reportSyncSuccess (peer: string): void {
    this.book.reportSyncSuccess(peer)
  }

  async refreshStatuses (): Promise<void> {
    this.refreshes++
    await Promise.resolve()
  }

  async requestBlocks (peer: string, from: number, count: number): Promise<Uint8Array[]> {
    this.log.push(`request ${peer} ${from}`)
    await Promise.resolve()
    if (this.failing.has(peer)) throw Object.assign(new Error('connection reset'), { code: 'ERR_SYNC' })
    const tip = this.book.tip(peer)?.height ?? 0
    const out: Uint8Array[] = []
    for (let h = from; h <= tip && out.length < Math.min(count, 10); h++) out.push(h >= this.corruptFrom ? new Uint8Array([0xff]) : fakeBlock(h))
    this.onResponse?.(from)
    return out
  }

  announce (peer: string, height: number): void {
    this.setTip(peer, height)
    this.emit('peer:status', { peerId: peer, tip: { height, hash: String(height) }, header: GENESIS_BLOCK.header })
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

function setup (t: ExecutionContext, options: Partial<SyncClientOptions> = {}): { network: FakeNetwork, importer: FakeImporter, client: SyncClient } {
  const network = new FakeNetwork()
  const importer = new FakeImporter(network.log)
  const client = new SyncClient({ network, importer, logger }, { batchSize: 10, retryMinMs: 10, retryMaxMs: 40, stallMs: 0, ...options })
  t.teardown(async () => { await client.stop() })
  return { network, importer, client }
}

test('syncs from the best peer in batches, requesting the next batch before importing the current one, up to the highest proved tip', async t => {
  const { network, importer, client } = setup(t)
  network.setTip('leader', 25)
  network.setTip('other', 20)
  client.start()
  await waitFor(() => importer.height === 25, 5_000, 'the first round')
  t.deepEqual(network.log, [
    'request leader 1',
    'request leader 11', 'import 1..10',
    'request leader 21', 'import 11..20',
    'import 21..25'
  ], 'no request past the highest proved tip, 25')
  t.like(await client.requestSync(), { status: 'no-peers', from: 26 }, 'nobody is ahead any more')
})

test('concurrent triggers coalesce into the running round plus one queued re-run; a status from a peer that is ahead is a trigger', async t => {
  const { network, importer, client } = setup(t)
  let release!: () => void
  importer.gate = new Promise(resolve => { release = resolve })
  network.setTip('other', 90)
  client.start()
  await waitFor(() => network.log.includes('import 1..10'), 5_000, 'the first import')
  const triggers = [client.requestSync(), client.requestSync(), client.requestSync()]
  network.announce('other', 105)
  release()
  const answers = await Promise.all(triggers)
  t.true(answers.every(a => a === answers[0]), 'every queued caller gets the one re-run\'s result')
  t.like(answers[0], { status: 'synced', from: 101, imported: 5, peer: 'other' })
  t.is(importer.height, 105)
  t.is(network.log.filter(line => line === 'request other 101').length, 1, 'one re-run, not one per trigger')
})

test('a peer that serves a refused block goes down the list and the next peer is asked', async t => {
  const { network, importer, client } = setup(t)
  network.corruptFrom = 15
  network.setTip('other', 12)
  network.setTip('third', 90)
  client.start()
  await waitFor(() => network.log.includes('failure leader'), 5_000, 'the leader\'s bad block')
  // Leader refused at 15; the round goes on with the next peer that is ahead, which also serves corrupt blocks.
  await waitFor(() => network.log.includes('request third 15'), 5_000, 'the round to move on')
  t.is(importer.height, 14)
  t.false(network.log.includes('request other 15'), 'a peer not ahead of the tip is not asked')
  t.deepEqual(network.syncPeers(11), ['other', 'leader', 'third'], 'the peers that failed are tried last')
  network.corruptFrom = Infinity
  t.like(await client.requestSync(), { status: 'synced', from: 15, imported: 86 })
})

test('a failing peer falls back to the next one; blocks that arrived meanwhile are skipped', async t => {
  const { network, importer, client } = setup(t)
  network.failing.add('leader')
  network.setTip('other', 12)
  network.setTip('leader', 20)
  client.start()
  await waitFor(() => importer.height === 12, 5_000, 'the round through the other peer')
  t.deepEqual(network.log.slice(0, 3), ['request leader 1', 'failure leader', 'request other 1'])

  // Gossip imports 13..15 while the batch from 13 is on its way: only 16.. is imported.
  network.failing.clear()
  network.setTip('other', 20)
  network.onResponse = from => { if (from === 13) importer.height = 15 }
  const result = await client.requestSync()
  t.like(result, { status: 'synced', from: 13, imported: 5, to: 20 })
  t.true(network.log.includes('import 16..20'))
})

test('a round that fails on every peer is retried with backoff until it succeeds', async t => {
  const { network, importer, client } = setup(t)
  network.failing.add('leader')
  network.failing.add('other')
  client.start()
  await waitFor(() => network.log.filter(line => line === 'request leader 1').length >= 2, 5_000, 'a retried round')
  network.failing.clear()
  await waitFor(() => importer.height === 100, 5_000, 'a successful retry')
  t.pass()
})

test('a node that stores no block for stallMs asks its peers for their status again', async t => {
  const { network, importer, client } = setup(t, { stallMs: 40 })
  network.setTip('leader', 0)
  network.setTip('other', 0)
  client.start()
  await waitFor(() => network.refreshes >= 1, 5_000, 'a status refresh')
  t.is(importer.height, 0)
  // The refreshed status of a peer that is ahead starts a round.
  network.announce('leader', 7)
  await waitFor(() => importer.height === 7, 5_000, 'the sync it triggers')
  t.pass()
})

test('no peer ahead: nothing to do; stop() ends a round and later triggers report stopped', async t => {
  const { network, importer, client } = setup(t)
  network.setTip('leader', 0)
  network.setTip('other', 0)
  client.start()
  t.like(await client.requestSync(), { status: 'no-peers' })

  network.setTip('leader', 100)
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

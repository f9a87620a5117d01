import '../../../src/shared/polyfill.js'
import test from 'ava'
import { pino } from 'pino'
import type { VerifiedTip } from '../../../src/main/network/peer-book.js'
import type { SyncResult } from '../../../src/main/network/sync-client.js'
import { LeaderCatchUp } from '../../../src/main/producer/leader-catch-up.js'

function setup (peerTip: VerifiedTip | undefined, own = 5): { catchUp: LeaderCatchUp, syncs: number[], warnings: string[], state: { own: number, peer: VerifiedTip | undefined } } {
  const state = { own, peer: peerTip }
  const syncs: number[] = []
  const warnings: string[] = []
  const catchUp = new LeaderCatchUp({
    hasConfiguredPeers: true,
    startHeight: own,
    tipHeight: () => state.own,
    highestPeerTip: () => state.peer,
    requestSync: async (): Promise<SyncResult> => {
      syncs.push(state.own)
      state.own = state.peer?.height ?? state.own
      return await Promise.resolve({ status: 'synced', from: 0, to: state.own, imported: 0, ms: 0 })
    },
    logger: pino({ level: 'warn' }, { write: (line: string) => { warnings.push((JSON.parse(line) as { msg: string }).msg) } })
  })
  return { catchUp, syncs, warnings, state }
}

test('a leader behind a peer syncs before its first block, and builds nothing while a peer is ahead', async t => {
  const { catchUp, syncs, warnings, state } = setup({ height: 9, hash: 'x' })
  await catchUp.beforeFirstBlock()
  t.deepEqual(syncs, [5])
  t.true(warnings.some(w => /this leader is behind its peers/.test(w)))
  t.is(state.own, 9)
  t.is(catchUp.blocker(), undefined, 'caught up: it may build')
  state.peer = { height: 12, hash: 'y' }
  t.like(catchUp.blocker(), { code: 'BEHIND_PEERS' })
  t.is(syncs.length, 2, 'and a sync was started')
})

test('a leader level with its peers, or ahead of them, builds at once', async t => {
  const { catchUp, syncs, warnings } = setup({ height: 3, hash: 'x' })
  await catchUp.beforeFirstBlock()
  t.deepEqual(syncs, [])
  t.deepEqual(warnings, [])
  t.is(catchUp.blocker(), undefined)
})

test('a leader that started behind is reported as behind even when the sync caught it up before its first block looked', async t => {
  const { catchUp, syncs, warnings, state } = setup({ height: 9, hash: 'x' })
  // The sync client, started beside it, synced from the peer's status on its own.
  state.own = 9
  await catchUp.beforeFirstBlock()
  t.deepEqual(syncs, [], 'nothing left to sync')
  t.true(warnings.some(w => /this leader is behind its peers/.test(w)))
  t.is(catchUp.blocker(), undefined)
})

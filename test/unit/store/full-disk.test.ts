// A full disk (SPEC 8: 507 STORAGE_FULL, nothing admitted, resumes by itself): every write path
// of the store (appendPending, commitBlocks, genesis) fails with ERR_STORAGE_FULL, writes
// nothing, and succeeds again once space is freed, on the same open store. Each test puts the
// store on its own small tmpfs, which needs root (mount); where mounting is impossible the tests
// are skipped and their titles say why.
import '../../../src/shared/polyfill.js'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import { KimuraError } from '../../../src/shared/errors.js'
import { ChainStore, type PendingAppend } from '../../../src/shared/store/index.js'
import { makeChain, makeMessages } from '../../helpers/fixtures.js'
import { appendBatch, commitOf, pendingOf, snapshot } from '../../helpers/store-fixtures.js'

const TMPFS_SIZE = '8m'

function mount (dir: string): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE}`, 'tmpfs', dir], { stdio: 'pipe' })
}

function unmount (dir: string): void {
  execFileSync('umount', [dir], { stdio: 'pipe' })
  rmSync(dir, { recursive: true, force: true })
}

/** Why a tmpfs cannot be mounted here, or undefined when it can. */
function mountProblem (): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'kimura-full-probe-'))
  try {
    mount(dir)
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    const stderr = typeof err === 'object' && err !== null && 'stderr' in err ? String(err.stderr).trim() : ''
    return stderr !== '' ? stderr : String(err)
  }
  unmount(dir)
  return undefined
}

const problem = mountProblem()
const fullDiskTest = problem === undefined ? test.serial : test.skip
const title = (what: string): string => problem === undefined ? what : `${what} (skipped: cannot mount a tmpfs: ${problem})`

const storageFull = { instanceOf: KimuraError, code: 'ERR_STORAGE_FULL' }

/** A fresh tmpfs, unmounted when the test ends (after the store, registered later, is stopped). */
function smallDisk (t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'kimura-full-'))
  mount(dir)
  t.teardown(() => { unmount(dir) })
  return dir
}

function free (dir: string): number {
  const stats = statfsSync(dir)
  return stats.bavail * stats.bsize
}

/** Fills the disk but for `leave` bytes with a file; returns a function that deletes it. */
function fill (dir: string, leave: number): () => void {
  const path = join(dir, 'filler')
  writeFileSync(path, Buffer.alloc(Math.max(0, free(dir) - leave)))
  return () => { rmSync(path) }
}

function openOn (t: ExecutionContext, dataDir: string): ChainStore {
  const store = ChainStore.open({ dataDir, initialize: true })
  t.teardown(async () => { await store.stop() })
  return store
}

/** Entries of 4 KiB each: the store writes what it is given (admission verified it). */
function bulkyEntries (count: number, nonceStart: number): PendingAppend[] {
  return pendingOf(makeMessages(count, { nonceStart, contentBytes: 4096 }))
}

fullDiskTest(title('appendPending on a full disk: ERR_STORAGE_FULL, nothing written; it succeeds once space is freed'), t => {
  const disk = smallDisk(t)
  const store = openOn(t, join(disk, 'data'))
  const first = bulkyEntries(10, 0)
  t.true(appendBatch(store, first, { maxPending: 1000 }).ok)
  const batch = bulkyEntries(100, 100)
  const before = snapshot(store)
  const release = fill(disk, 64 * 1024)

  const err = t.throws(() => appendBatch(store, batch, { maxPending: 1000 }), storageFull)
  t.log(err?.message)
  t.deepEqual(snapshot(store), before, 'nothing of the batch is pending')
  t.is(store.pending.get(batch[0].id), undefined)

  release()
  const again = appendBatch(store, batch, { maxPending: 1000 })
  t.true(again.ok)
  t.is(store.pending.count(), 110)
})

fullDiskTest(title('commitBlocks on a full disk: ERR_STORAGE_FULL, no part of any block written; it succeeds once space is freed'), t => {
  const disk = smallDisk(t)
  const store = openOn(t, join(disk, 'data'))
  const chain = makeChain(2, { messagesPerBlock: 40, contentBytes: 4000 })
  const probe = chain.flatMap(b => b.block.messages)
  t.true(appendBatch(store, pendingOf(probe), { maxPending: 1000 }).ok)
  const before = snapshot(store, probe)
  const release = fill(disk, 64 * 1024)

  t.throws(() => { store.commitBlocks(chain.map(commitOf)) }, storageFull)
  t.deepEqual(snapshot(store, probe), before, 'no block, no message place, pending and tip unchanged')
  t.is(store.message(chain[0].messageIds[0]), undefined)

  release()
  store.commitBlocks(chain.map(commitOf))
  t.is(store.tip().height, 2)
  t.is(store.pending.count(), 0)
  t.is(store.message(chain[1].messageIds[39])?.height, 2)
})

fullDiskTest(title('opening a new store (genesis) on a full disk: ERR_STORAGE_FULL, not a crash; it opens once space is freed'), t => {
  const disk = smallDisk(t)
  const dataDir = join(disk, 'data')
  const release = fill(disk, 0)
  const err = t.throws(() => ChainStore.open({ dataDir, initialize: true }), storageFull)
  t.log(err?.message)
  release()
  const store = openOn(t, dataDir)
  t.is(store.tip().height, 0)
  t.true(store.blocks.has(0))
})

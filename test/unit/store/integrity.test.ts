// The integrity check on open: a store whose metadata, tip block and genesis disagree refuses to
// open with ERR_STORE_CORRUPT, instead of building on a chain it cannot trust. Each test commits
// a small chain, closes the store, edits the LMDB file directly, and opens it again.
import '../../../src/shared/polyfill.js'
import test from 'ava'
import { ChainStore } from '../../../src/shared/store/index.js'
import { u64be } from '../../../src/shared/store/keys.js'
import { KimuraError } from '../../../src/shared/errors.js'
import { encodeBlock } from '../../../src/shared/codec.js'
import { makeChain } from '../../helpers/fixtures.js'
import { commitOf, editRawStore, openStore } from '../../helpers/store-fixtures.js'
import { tempDir } from '../../helpers/temp-dir.js'

const chain = makeChain(3)

/** A data dir holding genesis and blocks 1 and 2, closed. */
async function storeWithTwoBlocks (t: Parameters<typeof tempDir>[0]): Promise<string> {
  const dataDir = tempDir(t)
  const store = ChainStore.open({ dataDir, initialize: true })
  store.commitBlocks(chain.slice(0, 2).map(commitOf))
  await store.stop()
  return dataDir
}

const corrupt = { instanceOf: KimuraError, code: 'ERR_STORE_CORRUPT' }

function refusesToOpen (t: Parameters<typeof tempDir>[0], dataDir: string): void {
  for (const initialize of [true, false]) {
    t.throws(() => ChainStore.open({ dataDir, initialize }), corrupt, `initialize: ${String(initialize)}`)
  }
}

test('an edit that changes nothing leaves a store that opens (control for the tests below)', async t => {
  const dataDir = await storeWithTwoBlocks(t)
  await editRawStore(dataDir, ({ metadata }) => { metadata.putSync('lastHeight', 2) })
  const store = openStore(t, dataDir)
  t.is(store.tip().height, 2)
})

test('metadata ahead of the stored blocks: refuses to open', async t => {
  const dataDir = await storeWithTwoBlocks(t)
  await editRawStore(dataDir, ({ metadata }) => { metadata.putSync('lastHeight', 5) })
  refusesToOpen(t, dataDir)
})

test('metadata behind the stored blocks: refuses to open', async t => {
  const dataDir = await storeWithTwoBlocks(t)
  await editRawStore(dataDir, ({ metadata }) => { metadata.putSync('lastHeight', 1) })
  refusesToOpen(t, dataDir)
})

test('a block stored beyond the metadata tip: refuses to open', async t => {
  const dataDir = await storeWithTwoBlocks(t)
  await editRawStore(dataDir, ({ blocks }) => { blocks.putSync(u64be(3), Buffer.from(encodeBlock(chain[2].block))) })
  refusesToOpen(t, dataDir)
})

test('the tip block missing: refuses to open', async t => {
  const dataDir = await storeWithTwoBlocks(t)
  await editRawStore(dataDir, ({ blocks }) => { blocks.removeSync(u64be(2)) })
  refusesToOpen(t, dataDir)
})

test('a tip hash that is not the tip block\'s hash: refuses to open', async t => {
  const dataDir = await storeWithTwoBlocks(t)
  await editRawStore(dataDir, ({ metadata }) => { metadata.putSync('lastHash', Buffer.from(chain[0].hash)) })
  refusesToOpen(t, dataDir)
})

test('a tip timestamp that is not the tip block\'s: refuses to open', async t => {
  const dataDir = await storeWithTwoBlocks(t)
  await editRawStore(dataDir, ({ metadata }) => { metadata.putSync('lastTimestamp', chain[1].block.header.timestamp + 1) })
  refusesToOpen(t, dataDir)
})

test('the tip metadata missing while blocks exist: refuses to open rather than starting a new chain', async t => {
  const dataDir = await storeWithTwoBlocks(t)
  await editRawStore(dataDir, ({ metadata }) => {
    metadata.removeSync('lastHeight')
    metadata.removeSync('lastHash')
    metadata.removeSync('lastTimestamp')
  })
  refusesToOpen(t, dataDir)
})

test('genesis deleted: refuses to open', async t => {
  const dataDir = await storeWithTwoBlocks(t)
  await editRawStore(dataDir, ({ blocks }) => { blocks.removeSync(u64be(0)) })
  refusesToOpen(t, dataDir)
})

test('genesis deleted from a store holding only genesis: refuses to open instead of starting over', async t => {
  const dataDir = tempDir(t)
  await ChainStore.open({ dataDir, initialize: true }).stop()
  await editRawStore(dataDir, ({ blocks }) => { blocks.removeSync(u64be(0)) })
  refusesToOpen(t, dataDir)
})

test('genesis replaced by another block: refuses to open', async t => {
  const dataDir = await storeWithTwoBlocks(t)
  await editRawStore(dataDir, ({ blocks }) => { blocks.putSync(u64be(0), Buffer.from(encodeBlock(chain[0].block))) })
  refusesToOpen(t, dataDir)
})

test('a tip block that does not decode: refuses to open', async t => {
  const dataDir = await storeWithTwoBlocks(t)
  await editRawStore(dataDir, ({ blocks }) => { blocks.putSync(u64be(2), Buffer.from([0x93, 0x01])) })
  refusesToOpen(t, dataDir)
})

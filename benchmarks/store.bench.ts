// Committing 1,000-message blocks: ChainStore.commitBlock straight on the main thread (LMDB's
// durable write alone), then the node's own paths through the pool: importBlocks with commit,
// one block per call (gossip) and several per call (sync). Each path commits the same pre-built
// chain, in order, into its own fresh store.
import { join } from 'node:path'
import { ChainStore } from '../src/shared/store/index.js'
import type { BlockImporter } from '../src/main/chain/block-importer.js'
import { BLOCK_MESSAGES, signedChain, withNode, type ChainBlock } from './fixtures.js'
import { measure, threads, withTempDir, type BenchContext, type Budget, type Figures, type Measured } from './util.js'

/** Blocks in the pre-built chain; every path commits all of them, once. */
const CHAIN_LENGTH = 24
/** Blocks per importBlocks call on the sync-like path. */
const SYNC_BATCH = 4
/** Pool threads for the import paths: the default on this 2-core machine, as for validation. */
const IMPORT_THREADS = 2

/** Each call consumes the next block(s): no warmup, exactly the calls the chain allows. */
function exactly (calls: number): Budget {
  return { time: 0, iterations: calls, warmup: false, warmupTime: 0, warmupIterations: 0 }
}

export async function storeBenchmarks (ctx: BenchContext): Promise<Figures> {
  const chain = signedChain(CHAIN_LENGTH)
  const label = `${BLOCK_MESSAGES}-msg blocks`

  return await withTempDir('store', async dir => {
    const direct = await commitDirect(ctx, join(dir, 'direct'), chain)

    const gossip = await withNode(join(dir, 'import1'), IMPORT_THREADS, async ({ importer }) => {
      let i = 0
      return await measure(ctx, {
        name: `import / ${label} / pool ${threads(IMPORT_THREADS)} importBlocks+commit / 1 per call`,
        async: true,
        units: { perCall: 1, name: 'blocks' },
        fn: async () => { await importOrThrow(importer, chain.slice(i, ++i)) }
      }, exactly(CHAIN_LENGTH))
    })

    const sync = await withNode(join(dir, 'import4'), IMPORT_THREADS, async ({ importer }) => {
      let i = 0
      return await measure(ctx, {
        name: `import / ${label} / pool ${threads(IMPORT_THREADS)} importBlocks+commit / ${SYNC_BATCH} per call`,
        async: true,
        units: { perCall: SYNC_BATCH, name: 'blocks' },
        fn: async () => { await importOrThrow(importer, chain.slice(i, i += SYNC_BATCH)) }
      }, exactly(CHAIN_LENGTH / SYNC_BATCH))
    })

    return {
      commit_blocks_per_s: direct.callsPerSecond,
      import_pool_blocks_per_s: gossip.unitsPerSecond,
      import_pool_batch4_blocks_per_s: sync.unitsPerSecond
    }
  })
}

async function commitDirect (ctx: BenchContext, dataDir: string, chain: ChainBlock[]): Promise<Measured> {
  const store = ChainStore.open({ dataDir, initialize: true })
  try {
    let i = 0
    const direct = await measure(ctx, {
      name: `commit / ${BLOCK_MESSAGES}-msg blocks / ChainStore.commitBlock on main thread, durable`,
      async: false,
      units: { perCall: BLOCK_MESSAGES, name: 'msgs' },
      fn: () => { store.commitBlock(chain[i++].commit) }
    }, exactly(chain.length))
    if (store.tip().height !== chain.length) throw new Error(`direct commits reached height ${store.tip().height}`)
    return direct
  } finally {
    await store.stop()
  }
}

async function importOrThrow (importer: BlockImporter, blocks: ChainBlock[]): Promise<void> {
  const result = await importer.importBlocks(blocks.map(b => b.encoded))
  if (result.error !== undefined || result.imported !== blocks.length) {
    throw new Error(`import of the fixture chain failed: ${result.error?.code ?? `${result.imported} of ${blocks.length} imported`} ${result.error?.reason ?? ''}`)
  }
}

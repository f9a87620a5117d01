// Committing 1,000-message blocks: ChainStore.commitBlock straight on the main thread (LMDB's
// durable write alone), then the node's own paths through the pool: importBlocks with commit,
// one block per call (gossip) and several per call (sync). Each path commits the same pre-built
// chain, in order, into its own fresh store. Then the store's side of admission
// (ChainStore.appendPending of 500-message batches, durable, no verification), and the disk
// bytes a stored message takes in a chain of 100 blocks of 1,000 messages of 100-byte content.
// Last, the leader's whole store cycle (admission's appends, then the producer's build and
// commit) in a store that already holds half a million messages, since a write to `messages`
// costs more as the chain grows.
import { randomBytes } from 'node:crypto'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { open as openLmdb } from 'lmdb'
import { GENESIS_HASH, signBlockHeader } from '../src/shared/block.js'
import { encodeMessage, spliceBlock } from '../src/shared/codec.js'
import { messageId } from '../src/shared/hash.js'
import { DEFAULT_PARAMS } from '../src/shared/params.js'
import { ChainStore, STORE_FILE, type BlockCommit, type PendingAppend } from '../src/shared/store/index.js'
import type { Message } from '../src/shared/types.js'
import type { BlockImporter } from '../src/main/chain/block-importer.js'
import { buildBlock } from '../src/workers/build-block.js'
import { BASE_TIMESTAMP, BLOCK_MESSAGES, leaderKey, signedChain, signedMessages, withNode, type ChainBlock } from './fixtures.js'
import { customRow, measure, threads, withTempDir, type BenchContext, type Budget, type Figures, type Measured } from './util.js'

/** Blocks in the pre-built chain; every path commits all of them, once. */
const CHAIN_LENGTH = 24
/** Blocks per importBlocks call on the sync-like path. */
const SYNC_BATCH = 4
/** Pool threads for the import paths: the default on this 2-core machine, as for validation. */
const IMPORT_THREADS = 2
/** Messages per appendPending call, as the admission benchmark's batches. */
const APPEND_BATCH = 500
const APPEND_BATCHES = 60
/** The disk figure's store: 100 blocks of 1,000 messages of 100-byte content. */
const DISK_BLOCKS = 100
const DISK_BLOCK_MESSAGES = 1000
const DISK_CONTENT_BYTES = 100
/** The leader's cycle: messages stored before it is measured, messages per block, blocks measured. */
const CYCLE_STORED_MESSAGES = 500_000
const CYCLE_BLOCK_MESSAGES = 5_000
const CYCLE_BLOCKS = 12
/** Batches per appendPending transaction in the cycle: the producer's group commit takes what arrived together. */
const CYCLE_BATCHES_PER_COMMIT = 2

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

    const append = await appendDirect(ctx, join(dir, 'append'))
    const disk = await diskPerMessage(ctx, join(dir, 'disk'))
    const cycle = await leaderCycle(ctx, join(dir, 'cycle'))

    return {
      commit_blocks_per_s: direct.callsPerSecond,
      import_pool_blocks_per_s: gossip.unitsPerSecond,
      import_pool_batch4_blocks_per_s: sync.unitsPerSecond,
      append_pending_msgs_per_s: append.unitsPerSecond,
      leader_store_cycle_msgs_per_s: cycle.unitsPerSecond,
      ...disk
    }
  })
}

/** ChainStore.appendPending of fresh 500-message batches on the main thread: one durable transaction each. */
async function appendDirect (ctx: BenchContext, dataDir: string): Promise<Measured> {
  const batches: PendingAppend[][] = []
  for (let i = 0; i < APPEND_BATCHES; i++) batches.push(signedMessages(APPEND_BATCH).map(m => ({ id: messageId(m), encoded: encodeMessage(m) })))
  const store = ChainStore.open({ dataDir, initialize: true })
  try {
    let i = 0
    const measured = await measure(ctx, {
      name: `append / ${APPEND_BATCH}-msg batches / ChainStore.appendPending on main thread, durable`,
      async: false,
      units: { perCall: APPEND_BATCH, name: 'msgs' },
      fn: () => {
        const [result] = store.appendPending([batches[i++]], { maxPending: Number.POSITIVE_INFINITY })
        if (!result.ok) throw new Error(`appendPending refused a batch: ${result.reason}`)
      }
    }, exactly(APPEND_BATCHES))
    if (store.pending.count() !== APPEND_BATCHES * APPEND_BATCH) throw new Error(`pending holds ${store.pending.count()} messages`)
    return measured
  } finally {
    await store.stop()
  }
}

/** 100-byte-content messages with random signatures: the store never verifies, and the sizes are real. */
function unsignedMessages (count: number, nonceStart: number, timestamp = BASE_TIMESTAMP): Message[] {
  return Array.from({ length: count }, (_, i) => ({
    sender: leaderKey.publicKey, timestamp, nonce: nonceStart + i, content: randomBytes(DISK_CONTENT_BYTES), signature: randomBytes(64)
  }))
}

function diskBlock (height: number, prevHash: Uint8Array): BlockCommit {
  const messages = unsignedMessages(DISK_BLOCK_MESSAGES, height * DISK_BLOCK_MESSAGES, BASE_TIMESTAMP + height)
  const messageIds = messages.map(messageId)
  const timestamp = BASE_TIMESTAMP + height
  const { header, hash } = signBlockHeader(leaderKey, { height, timestamp, prevHash, messageIds })
  const { encoded, messageOffsets } = spliceBlock(header, messages.map(encodeMessage))
  return { height, timestamp, prevHash, hash, encodedBlock: encoded, messageIds, messageOffsets }
}

/** Commits `blocks` of diskBlock's messages on genesis, one durable transaction each. */
function fillChain (store: ChainStore, blocks: number): void {
  let prevHash = GENESIS_HASH
  for (let height = 1; height <= blocks; height++) {
    const commit = diskBlock(height, prevHash)
    store.commitBlock(commit)
    prevHash = commit.hash
  }
}

/** Disk bytes per stored message: the LMDB file's allocated blocks (du), and the `messages` database's pages. */
async function diskPerMessage (ctx: BenchContext, dataDir: string): Promise<Figures> {
  const store = ChainStore.open({ dataDir, initialize: true })
  try {
    fillChain(store, DISK_BLOCKS)
  } finally {
    await store.stop()
  }
  const messages = DISK_BLOCKS * DISK_BLOCK_MESSAGES
  const path = join(dataDir, STORE_FILE)
  const fileBytes = statSync(path).blocks * 512
  const env = openLmdb({ path, maxDbs: 4, compression: false, readOnly: true })
  const pages = (name: string): number => {
    const stats = env.openDB({ name, encoding: 'binary', keyEncoding: 'binary' }).getStats() as { pageSize: number, treeBranchPageCount: number, treeLeafPageCount: number, overflowPages: number }
    return stats.pageSize * (stats.treeBranchPageCount + stats.treeLeafPageCount + stats.overflowPages)
  }
  let messagesDbBytes: number
  let blocksDbBytes: number
  try {
    messagesDbBytes = pages('messages')
    blocksDbBytes = pages('blocks')
  } finally {
    await env.close()
  }
  const label = `store / ${DISK_BLOCKS} blocks x ${DISK_BLOCK_MESSAGES} msgs of ${DISK_CONTENT_BYTES} B`
  ctx.rows.push(customRow(`${label} / chain.mdb (du) per message`, `${(fileBytes / messages).toFixed(1)} bytes/msg`, ''))
  ctx.rows.push(customRow(`${label} / messages database per message`, `${(messagesDbBytes / messages).toFixed(1)} bytes/msg`, ''))
  return {
    store_disk_bytes_per_msg: fileBytes / messages,
    store_messages_db_bytes_per_msg: messagesDbBytes / messages,
    store_blocks_db_bytes_per_msg: blocksDbBytes / messages
  }
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

/**
 * The leader's store work, admission to inclusion, with CYCLE_STORED_MESSAGES already stored: per
 * block, appendPending of 500-message batches (CYCLE_BATCHES_PER_COMMIT per durable transaction,
 * as the producer's group commit) and then the producer's own buildBlock (take them from
 * `pending`, sign, splice, commit). No verification: that is the pool's.
 */
async function leaderCycle (ctx: BenchContext, dataDir: string): Promise<Measured> {
  const store = ChainStore.open({ dataDir, initialize: true })
  try {
    fillChain(store, CYCLE_STORED_MESSAGES / DISK_BLOCK_MESSAGES)
    const perBlock = CYCLE_BLOCK_MESSAGES / APPEND_BATCH / CYCLE_BATCHES_PER_COMMIT
    const commits: PendingAppend[][][] = Array.from({ length: CYCLE_BLOCKS * perBlock }, (_, c) =>
      Array.from({ length: CYCLE_BATCHES_PER_COMMIT }, (_, b) => unsignedMessages(APPEND_BATCH, 1e9 + (c * CYCLE_BATCHES_PER_COMMIT + b) * APPEND_BATCH).map(m => ({ id: messageId(m), encoded: encodeMessage(m) }))))
    let next = 0
    const measured = await measure(ctx, {
      name: `leader cycle / ${CYCLE_BLOCK_MESSAGES}-msg blocks, ${(CYCLE_STORED_MESSAGES / 1000).toLocaleString('en-US')}k msgs stored / appendPending + buildBlock, durable`,
      async: false,
      units: { perCall: CYCLE_BLOCK_MESSAGES, name: 'msgs' },
      fn: () => {
        for (let i = 0; i < perBlock; i++) {
          const results = store.appendPending(commits[next++], { maxPending: Number.POSITIVE_INFINITY })
          if (!results.every(r => r.ok)) throw new Error('appendPending refused a batch')
        }
        const built = buildBlock(store, leaderKey, DEFAULT_PARAMS, BASE_TIMESTAMP + store.tip().height + 1, CYCLE_BLOCK_MESSAGES)
        if (!built.ok || built.messageCount !== CYCLE_BLOCK_MESSAGES) throw new Error(`the cycle's build failed: ${built.ok ? `${built.messageCount} messages` : built.reason}`)
      }
    }, exactly(CYCLE_BLOCKS))
    if (store.pending.count() !== 0) throw new Error(`pending holds ${store.pending.count()} messages after the cycle`)
    return measured
  } finally {
    await store.stop()
  }
}

// The node's LMDB environment: four named databases (SPEC section 6) and the transactions that
// span them. Opened by the main thread (reads, first-start initialisation) and by each pool
// worker (writes); lmdb-js shares one environment per process for the same path.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { open as openLmdb, type RootDatabase } from 'lmdb'
import { GENESIS_BLOCK, GENESIS_HASH } from '../block.js'
import { bytesEqual, toHex } from '../bytes.js'
import { decodeBlock, encodeBlock } from '../codec.js'
import { KimuraError } from '../errors.js'
import { blockHash } from '../hash.js'
import { BlockStore, MessageStore, MetadataStore, PendingPool, type ChainTip } from './databases.js'

/** The LMDB file inside the data directory (lmdb-js makes `chain.mdb` and `chain.mdb-lock`). */
export const STORE_FILE = 'chain.mdb'

export interface ChainStoreOptions {
  /** The node's data directory. */
  dataDir: string
  /** Write genesis into an empty store. Only the main thread does, before workers open it. */
  initialize: boolean
}

/** What commitBlock writes: a block that has been validated (or built) against the tip. */
export interface BlockCommit {
  height: number
  timestamp: number
  prevHash: Uint8Array
  hash: Uint8Array
  encodedBlock: Uint8Array
  messageIds: readonly Uint8Array[]
  /** Each message's wire bytes, in block order. */
  encodedMessages: readonly Uint8Array[]
}

export type AdmitOutcome = 'added' | 'pending' | 'included'

export interface PendingAppend {
  id: Uint8Array
  encoded: Uint8Array
}

/** The live resources of a started store; none exist while it is stopped. */
interface OpenStore {
  env: RootDatabase
  blocks: BlockStore
  messages: MessageStore
  metadata: MetadataStore
  pending: PendingPool
}

export class ChainStore {
  private opened: OpenStore | undefined

  constructor (private readonly options: ChainStoreOptions) {}

  /** A started store: what workers, tests and tools use. */
  static open (options: ChainStoreOptions): ChainStore {
    const store = new ChainStore(options)
    store.start()
    return store
  }

  /**
   * Opens the environment and its four databases, writes genesis into an empty store (when
   * `initialize`), and checks the store; throws ERR_STORE_CORRUPT, leaving nothing open, when
   * it is inconsistent.
   */
  start (): void {
    if (this.opened !== undefined) return
    mkdirSync(this.options.dataDir, { recursive: true })
    // Durable commits (no noSync): a block or an acknowledged message survives kill -9.
    const env = openLmdb({ path: join(this.options.dataDir, STORE_FILE), maxDbs: 4, compression: false })
    const binary = { encoding: 'binary', keyEncoding: 'binary', cache: false } as const
    const metadata = new MetadataStore(env.openDB<number | Uint8Array, string>({ name: 'metadata', encoding: 'msgpack', cache: false }))
    const opened: OpenStore = {
      env,
      blocks: new BlockStore(env.openDB<Buffer, Buffer>({ name: 'blocks', ...binary })),
      messages: new MessageStore(env.openDB<Buffer, Buffer>({ name: 'messages', ...binary })),
      metadata,
      pending: new PendingPool(env.openDB<Buffer, Buffer>({ name: 'pending', ...binary }), metadata)
    }
    this.opened = opened
    try {
      if (this.options.initialize && opened.blocks.lastHeight() === undefined && metadata.getTip() === undefined) this.writeGenesis()
      this.checkIntegrity()
    } catch (err) {
      this.opened = undefined
      void env.close()
      throw err
    }
  }

  /** Closes the environment; safe to call twice. */
  async stop (): Promise<void> {
    const opened = this.opened
    if (opened === undefined) return
    this.opened = undefined
    await opened.env.close()
  }

  get blocks (): BlockStore {
    return this.live.blocks
  }

  get messages (): MessageStore {
    return this.live.messages
  }

  get metadata (): MetadataStore {
    return this.live.metadata
  }

  get pending (): PendingPool {
    return this.live.pending
  }

  private get live (): OpenStore {
    if (this.opened === undefined) throw new KimuraError('ERR_STORE_CLOSED', 'the store is not open')
    return this.opened
  }

  /**
   * Renews this thread's read snapshot. lmdb-js renews it on a timer; a thread that must see
   * another thread's commit at once (the main thread after a pool task, a worker starting a
   * task) calls this first.
   */
  refresh (): void {
    this.live.env.resetReadTxn()
  }

  tip (): ChainTip {
    const tip = this.metadata.getTip()
    if (tip === undefined) throw new KimuraError('ERR_STORE_CORRUPT', 'the store has no tip metadata')
    return tip
  }

  /**
   * Writes a block, its messages, the new tip and the removal of its messages from `pending`
   * in one transaction. Throws ERR_STORE_CONFLICT, writing nothing, unless the block extends
   * the stored tip.
   */
  commitBlock (commit: BlockCommit): void {
    this.commitBlocks([commit])
  }

  /** Commits consecutive blocks in one transaction: all of them or, on any error, none. */
  commitBlocks (commits: readonly BlockCommit[]): void {
    this.live.env.transactionSync(() => {
      for (const commit of commits) {
        const tip = this.tip()
        if (commit.height !== tip.height + 1 || !bytesEqual(commit.prevHash, tip.hash)) {
          throw new KimuraError('ERR_STORE_CONFLICT', `block ${commit.height} does not extend the stored tip ${tip.height}`, { height: commit.height, tip: tip.height })
        }
        this.blocks.put(commit.height, commit.encodedBlock)
        for (let i = 0; i < commit.messageIds.length; i++) {
          const id = commit.messageIds[i]
          this.messages.put(id, commit.height, i, commit.encodedMessages[i])
          this.pending.remove(id)
        }
        this.metadata.setTip({ height: commit.height, hash: commit.hash, timestamp: commit.timestamp })
      }
    })
  }

  /**
   * Appends a batch of verified messages to `pending` in one durable transaction (group
   * commit); returns, per message, whether it was added or already pending or included.
   */
  appendPending (batch: readonly PendingAppend[]): AdmitOutcome[] {
    return this.live.env.transactionSync(() => batch.map(({ id, encoded }) => {
      if (this.messages.has(id)) return 'included'
      if (this.pending.contains(id)) return 'pending'
      this.pending.appendUnchecked(id, encoded)
      return 'added'
    }))
  }

  private writeGenesis (): void {
    this.live.env.transactionSync(() => {
      this.blocks.put(0, encodeBlock(GENESIS_BLOCK))
      this.metadata.setTip({ height: 0, hash: GENESIS_HASH, timestamp: 0 })
    })
  }

  /** Refuses to run on a store whose metadata, tip and genesis disagree. */
  private checkIntegrity (): void {
    const genesis = decodeBlock(this.blocks.getEncoded(0) ?? new Uint8Array(0))
    if (!genesis.ok || !bytesEqual(blockHash(genesis.value.header), GENESIS_HASH)) corrupt('no genesis block, or not the protocol genesis')
    const tip = this.metadata.getTip() ?? corrupt('no tip metadata')
    const lastHeight = this.blocks.lastHeight()
    if (lastHeight !== tip.height) corrupt(`metadata says height ${tip.height} but the last stored block is ${String(lastHeight)}`)
    const tipBlock = decodeBlock(this.blocks.getEncoded(tip.height) ?? new Uint8Array(0))
    if (!tipBlock.ok) corrupt(`the tip block ${tip.height} does not decode: ${tipBlock.reason}`)
    const header = tipBlock.value.header
    if (!bytesEqual(blockHash(header), tip.hash)) corrupt(`the tip block's hash does not match metadata (${toHex(tip.hash)})`)
    if (header.timestamp !== tip.timestamp) corrupt('the tip timestamp does not match metadata')
  }
}

function corrupt (why: string): never {
  throw new KimuraError('ERR_STORE_CORRUPT', `store check failed: ${why}; refusing to run on an inconsistent store`)
}

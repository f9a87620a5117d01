// The node's LMDB environment: four named databases (SPEC section 6) and the transactions that
// span them. Opened by the main thread (reads, first-start initialisation) and by each pool
// worker (writes); lmdb-js shares one environment per process for the same path.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { open, type RootDatabase } from 'lmdb'
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

export class ChainStore {
  readonly blocks: BlockStore
  readonly messages: MessageStore
  readonly metadata: MetadataStore
  readonly pending: PendingPool
  private readonly env: RootDatabase
  private closed = false

  constructor (options: ChainStoreOptions) {
    mkdirSync(options.dataDir, { recursive: true })
    // Durable commits (no noSync): a block or an acknowledged message survives kill -9.
    this.env = open({ path: join(options.dataDir, STORE_FILE), maxDbs: 4, compression: false })
    const binary = { encoding: 'binary', keyEncoding: 'binary', cache: false } as const
    this.blocks = new BlockStore(this.env.openDB<Buffer, Buffer>({ name: 'blocks', ...binary }))
    this.messages = new MessageStore(this.env.openDB<Buffer, Buffer>({ name: 'messages', ...binary }))
    this.metadata = new MetadataStore(this.env.openDB<number | Uint8Array, string>({ name: 'metadata', encoding: 'msgpack', cache: false }))
    this.pending = new PendingPool(this.env.openDB<Buffer, Buffer>({ name: 'pending', ...binary }), this.metadata)
    try {
      if (options.initialize && this.blocks.lastHeight() === undefined && this.metadata.getTip() === undefined) this.writeGenesis()
      this.checkIntegrity()
    } catch (err) {
      void this.env.close()
      throw err
    }
  }

  /**
   * Renews this thread's read snapshot. lmdb-js renews it on a timer; a thread that must see
   * another thread's commit at once (the main thread after a pool task, a worker starting a
   * task) calls this first.
   */
  refresh (): void {
    this.env.resetReadTxn()
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
    this.assertOpen()
    this.env.transactionSync(() => {
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
    this.assertOpen()
    return this.env.transactionSync(() => batch.map(({ id, encoded }) => {
      if (this.messages.has(id)) return 'included'
      if (this.pending.contains(id)) return 'pending'
      this.pending.appendUnchecked(id, encoded)
      return 'added'
    }))
  }

  /** Whether a message id is in the chain or pending. */
  isKnownMessage (id: Uint8Array): boolean {
    return this.messages.has(id) || this.pending.contains(id)
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.env.close()
  }

  private assertOpen (): void {
    if (this.closed) throw new KimuraError('ERR_STORE_CLOSED', 'the store is closed')
  }

  private writeGenesis (): void {
    this.env.transactionSync(() => {
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

// The node's LMDB environment: four named databases (SPEC section 6) and the transactions that
// span them. Opened by the main thread (reads, first-start initialisation) and by each pool
// worker (writes); lmdb-js shares one environment per process for the same path.
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { open as openLmdb, type RootDatabase } from 'lmdb'
import { GENESIS_BLOCK, GENESIS_HASH } from '../block.js'
import { bytesEqual, bytesKey, toHex } from '../bytes.js'
import { decodeBlock, encodeBlock } from '../codec.js'
import { KimuraError } from '../errors.js'
import { blockHash } from '../hash.js'
import { BlockStore, MessageStore, MetadataStore, PendingPool, type BinaryDb, type ChainTip, type PendingEntry, type PendingWriter } from './databases.js'
import { STORE_FORMAT_VERSION, migrateFormat, needsMigration, unsupportedFormat, type FormatMigration } from './format.js'
import type { BatchEntry } from './keys.js'
import { classifyWriteError, freeBytes, OPEN_FREE_BYTES, storageFull } from './storage-full.js'

/** The LMDB file inside the data directory (lmdb-js makes `chain.mdb` and `chain.mdb-lock`). */
export const STORE_FILE = 'chain.mdb'

/**
 * The LMDB map: address space only (the file grows page by page as before; nothing is
 * reserved on disk or in memory). lmdb-js otherwise starts at 128 KiB and doubles the map each
 * time it fills, and each growth remaps the environment under every thread that has it open,
 * just when a new node's store grows fastest (benchmarks/README.md, "20 nodes at 400 msg/s,
 * and the LMDB map"). 1 TiB is far beyond any store this node keeps, and far within a 64-bit
 * address space.
 */
const MAP_SIZE_BYTES = 2 ** 40

export interface ChainStoreOptions {
  /** The node's data directory. */
  dataDir: string
  /**
   * Write genesis into an empty store and migrate an older format. Only the main thread does,
   * before workers open the store.
   */
  initialize: boolean
}

/** What start() found and did, for the opener to log. */
export interface StoreOpenInfo {
  formatVersion: number
  /** Present when this open migrated the store from an older format. */
  migration?: FormatMigration
  /** Whether this open wrote genesis into an empty store. */
  created: boolean
}

/** What commitBlock writes: a block that has been validated (or built) against the tip. */
export interface BlockCommit {
  height: number
  timestamp: number
  prevHash: Uint8Array
  hash: Uint8Array
  encodedBlock: Uint8Array
  messageIds: readonly Uint8Array[]
  /** Uint32 pairs: each message's byte offset and length inside `encodedBlock`, in block order. */
  messageOffsets: Uint32Array
}

export type AdmitOutcome = 'added' | 'pending' | 'included'

/** What a build used up of `pending`, removed in the block's transaction. */
export interface PendingSpend {
  /** Entries that no longer decode, dropped. */
  drop: readonly PendingEntry[]
  /** Batches whose every pending message the block includes or drops. */
  spentBatches: readonly number[]
}

const NOTHING_SPENT: PendingSpend = { drop: [], spentBatches: [] }

/** A verified message to append: its id and wire bytes (a pending batch's entry). */
export type PendingAppend = BatchEntry

export interface AppendPendingOptions {
  /** The most messages `pending` may hold (--max-pending): a batch that would exceed it is refused whole. */
  maxPending: number
}

/** appendPending's answer: an outcome per message, or the whole batch refused with nothing written. */
export type AppendPendingResult =
  | { ok: true, outcomes: AdmitOutcome[] }
  | { ok: false, code: 'POOL_FULL', reason: string, pending: number }

/** An included message: its wire bytes (a copy of its slice of the stored block) and its place. */
export interface IncludedMessage {
  encoded: Uint8Array
  height: number
  index: number
}

/** The live resources of a started store; none exist while it is stopped. */
interface OpenStore {
  env: RootDatabase
  /** The databases themselves, for the format migration. */
  raw: { blocks: BinaryDb, messages: BinaryDb, pending: BinaryDb }
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
   * Opens the environment and its four databases, checks the format version (ERR_STORE_FORMAT
   * for one this code does not know), writes genesis into an empty store and migrates an older
   * format (both when `initialize`), and checks the store; throws ERR_STORE_CORRUPT, leaving
   * nothing open, when it is inconsistent, and ERR_STORAGE_FULL when the disk has no room.
   */
  start (): StoreOpenInfo {
    const { dataDir, initialize } = this.options
    if (this.opened !== undefined) return { formatVersion: STORE_FORMAT_VERSION, created: false }
    try {
      mkdirSync(dataDir, { recursive: true })
    } catch (err) {
      throw classifyWriteError(err, dataDir)
    }
    // The first opener creates and maps the lock file: on a full disk that is a SIGBUS, not an error.
    const free = freeBytes(dataDir)
    if (initialize && free !== undefined && free < OPEN_FREE_BYTES && !existsSync(join(dataDir, `${STORE_FILE}-lock`))) {
      throw storageFull(dataDir, `${free} bytes free, opening a store needs ${OPEN_FREE_BYTES}`)
    }
    let env: RootDatabase
    try {
      // Durable commits (no noSync): a block or an acknowledged message survives kill -9.
      env = openLmdb({ path: join(dataDir, STORE_FILE), maxDbs: 4, compression: false, mapSize: MAP_SIZE_BYTES })
    } catch (err) {
      throw classifyWriteError(err, dataDir)
    }
    const binary = { encoding: 'binary', keyEncoding: 'binary', cache: false } as const
    const metadata = new MetadataStore(env.openDB<number | Uint8Array, string>({ name: 'metadata', encoding: 'msgpack', cache: false }))
    const raw = {
      blocks: env.openDB<Buffer, Buffer>({ name: 'blocks', ...binary }),
      messages: env.openDB<Buffer, Buffer>({ name: 'messages', ...binary }),
      pending: env.openDB<Buffer, Buffer>({ name: 'pending', ...binary })
    }
    const messages = new MessageStore(raw.messages)
    const opened: OpenStore = {
      env,
      raw,
      blocks: new BlockStore(raw.blocks),
      messages,
      metadata,
      pending: new PendingPool(raw.pending, metadata)
    }
    this.opened = opened
    try {
      return this.prepare(initialize)
    } catch (err) {
      this.opened = undefined
      void env.close()
      throw err
    }
  }

  /** The format check, genesis, integrity check and migration of start(). */
  private prepare (initialize: boolean): StoreOpenInfo {
    const { dataDir } = this.options
    const empty = this.blocks.lastHeight() === undefined && this.metadata.getTip() === undefined
    if (empty && initialize) {
      this.write(() => {
        this.blocks.put(0, encodeBlock(GENESIS_BLOCK))
        this.metadata.setTip({ height: 0, hash: GENESIS_HASH, timestamp: 0 })
        this.metadata.setFormatVersion(STORE_FORMAT_VERSION)
      })
      this.checkIntegrity()
      return { formatVersion: STORE_FORMAT_VERSION, created: true }
    }
    const version = this.metadata.getFormatVersion() ?? 0
    if (version > STORE_FORMAT_VERSION) throw unsupportedFormat(dataDir, version)
    this.checkIntegrity()
    if (version === STORE_FORMAT_VERSION) return { formatVersion: version, created: false }
    if (!initialize) throw needsMigration(dataDir, version)
    const started = performance.now()
    const migration = this.write(() => {
      const done = migrateFormat(this.live.raw, version, this.tip().height)
      this.metadata.setFormatVersion(STORE_FORMAT_VERSION)
      return done
    })
    return { formatVersion: STORE_FORMAT_VERSION, migration: { ...migration, ms: performance.now() - started }, created: false }
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
   * An included message: its bytes, sliced from its stored block without decoding it, and its
   * place; undefined when no block includes it.
   */
  message (id: Uint8Array): IncludedMessage | undefined {
    const place = this.messages.get(id)
    if (place === undefined) return undefined
    const encoded = this.blocks.getSlice(place.height, place.byteOffset, place.byteLength)
    if (encoded === undefined) throw new KimuraError('ERR_STORE_CORRUPT', `message ${toHex(id)} is indexed at height ${place.height}, bytes ${place.byteOffset}+${place.byteLength}, which that block does not hold`)
    return { encoded, height: place.height, index: place.index }
  }

  /**
   * Writes a block, its messages' places, the new tip and the removal of its messages from
   * `pending` in one transaction. `pending` says what the producer's build used up: entries it
   * dropped (no longer decodable) and batches the block spends whole. Throws ERR_STORE_CONFLICT,
   * writing nothing, unless the block extends the stored tip.
   */
  commitBlock (commit: BlockCommit, pending: PendingSpend = NOTHING_SPENT): void {
    this.writeBlocks([commit], pending)
  }

  /** Commits consecutive blocks in one transaction: all of them or, on any error, none. */
  commitBlocks (commits: readonly BlockCommit[]): void {
    this.writeBlocks(commits, NOTHING_SPENT)
  }

  private writeBlocks (commits: readonly BlockCommit[], spend: PendingSpend): void {
    this.write(() => {
      const pending = this.pending.writer()
      for (const entry of spend.drop) pending.drop(entry)
      for (const seq of spend.spentBatches) pending.spend(seq)
      for (const commit of commits) {
        const tip = this.tip()
        if (commit.height !== tip.height + 1 || !bytesEqual(commit.prevHash, tip.hash)) {
          throw new KimuraError('ERR_STORE_CONFLICT', `block ${commit.height} does not extend the stored tip ${tip.height}`, { height: commit.height, tip: tip.height })
        }
        checkOffsets(commit)
        this.blocks.put(commit.height, commit.encodedBlock)
        const offsets = commit.messageOffsets
        for (let i = 0; i < commit.messageIds.length; i++) {
          const id = commit.messageIds[i]
          // It leaves `pending`, if it was there.
          pending.including(id)
          this.messages.put(id, { height: commit.height, index: i, byteOffset: offsets[2 * i], byteLength: offsets[2 * i + 1] })
        }
        this.metadata.setTip({ height: commit.height, hash: commit.hash, timestamp: commit.timestamp })
      }
      pending.flush()
    })
  }

  /**
   * Appends batches of verified messages to `pending` in one durable transaction (group
   * commit) and answers, for each batch, per message, whether it was added or already pending
   * or included. A batch that would take `pending` past `maxPending` is refused whole, writing
   * nothing of it; the others are appended in order.
   */
  appendPending (batches: ReadonlyArray<readonly PendingAppend[]>, options: AppendPendingOptions): AppendPendingResult[] {
    return this.write((): AppendPendingResult[] => {
      const pending = this.pending.writer()
      const results = batches.map(batch => this.appendOne(pending, batch, options))
      pending.flush()
      return results
    })
  }

  private appendOne (pending: PendingWriter, batch: readonly PendingAppend[], options: AppendPendingOptions): AppendPendingResult {
    // The new messages by id key, in batch order: one key per message, for the check and the index.
    const added = new Map<string, PendingAppend>()
    const outcomes = batch.map((entry): AdmitOutcome => {
      if (this.messages.has(entry.id)) return 'included'
      const key = bytesKey(entry.id)
      if (added.has(key) || pending.isPending(key)) return 'pending'
      added.set(key, entry)
      return 'added'
    })
    if (pending.count + added.size > options.maxPending) {
      return { ok: false, code: 'POOL_FULL', reason: `pending holds ${pending.count} messages; ${added.size} more would exceed the limit of ${options.maxPending}`, pending: pending.count }
    }
    pending.append(added)
    return { ok: true, outcomes }
  }

  /** One write transaction; a full disk is ERR_STORAGE_FULL, with nothing of it written. */
  private write<T> (fn: () => T): T {
    const { env, pending } = this.live
    let committed = false
    try {
      const result = env.transactionSync(fn)
      committed = true
      return result
    } catch (err) {
      throw classifyWriteError(err, this.options.dataDir)
    } finally {
      pending.transactionEnded(committed)
    }
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

/** A commit's offsets must lie inside its block: a wrong one would index bytes that are not the message. */
function checkOffsets (commit: BlockCommit): void {
  const offsets = commit.messageOffsets
  if (offsets.length !== 2 * commit.messageIds.length) throw new RangeError(`block ${commit.height}: ${offsets.length / 2} message offsets for ${commit.messageIds.length} messages`)
  for (let i = 0; i < offsets.length; i += 2) {
    if (offsets[i] + offsets[i + 1] > commit.encodedBlock.byteLength) throw new RangeError(`block ${commit.height}: message ${i / 2} lies outside the block`)
  }
}

function corrupt (why: string): never {
  throw new KimuraError('ERR_STORE_CORRUPT', `store check failed: ${why}; refusing to run on an inconsistent store`)
}

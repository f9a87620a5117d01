// Inputs of the benchmarks: signed messages of 256-byte content from a few senders, signed
// 1,000-message blocks and chains on top of genesis, and the pool's configuration. Built once
// per run, before any timing, from fixed seeds (the same bytes every run).
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildSignedBlock, GENESIS_HASH, signMessage } from '../src/shared/block.js'
import { toHex } from '../src/shared/bytes.js'
import { encodeBlock, encodeMessage, spliceBlock } from '../src/shared/codec.js'
import { signingKeyFromSeed, type SigningKey } from '../src/shared/keys.js'
import { DEFAULT_PARAMS } from '../src/shared/params.js'
import { ChainStore, type BlockCommit } from '../src/shared/store/index.js'
import type { WorkerConfig } from '../src/shared/thread-contract.js'
import type { HashedBlock, Message } from '../src/shared/types.js'
import { BlockImporter } from '../src/main/chain/block-importer.js'
import { WorkerPool } from '../src/main/pool/worker-pool.js'
import { ProducerClient } from '../src/main/producer/producer-client.js'

/** Content size of every benchmark message (issue #3: 256-byte content). */
export const CONTENT_BYTES = 256
/** Messages per benchmark block (issue #3: blocks of 1,000 signed messages). */
export const BLOCK_MESSAGES = 1000
/** Distinct senders: a real network has several, all in the public-key cache. */
const SENDER_COUNT = 8

/** 2025-11-24T16:00:00Z: block timestamps are in the past, so rule 2 (not in the future) holds. */
export const BASE_TIMESTAMP = 1_764_000_000_000
const BLOCK_INTERVAL_MS = 5000

const LEADER_SEED = new Uint8Array(32).fill(0x02)
export const leaderKey: SigningKey = signingKeyFromSeed(LEADER_SEED)
const senderKeys: SigningKey[] = Array.from({ length: SENDER_COUNT }, (_, i) => signingKeyFromSeed(new Uint8Array(32).fill(0x10 + i)))

/**
 * Nonces handed out so far: every call of `signedMessages` gets fresh ones, so no two messages
 * of a run share an id (admissions really append, blocks never repeat a message).
 */
let nextNonce = 0

/** `count` validly signed messages with distinct ids, round-robin over the senders. */
export function signedMessages (count: number): Message[] {
  const out: Message[] = new Array<Message>(count)
  for (let i = 0; i < count; i++) {
    const nonce = nextNonce++
    out[i] = signMessage(senderKeys[nonce % SENDER_COUNT], {
      timestamp: BASE_TIMESTAMP + nonce,
      nonce,
      content: new Uint8Array(CONTENT_BYTES).fill(nonce % 256)
    })
  }
  return out
}

/** A chain block with what each consumer needs: its wire bytes and the commit record. */
export interface ChainBlock {
  hashed: HashedBlock
  encoded: Uint8Array
  commit: BlockCommit
}

/** Blocks 1..`length` on top of genesis, each of `messagesPerBlock` fresh messages. */
export function signedChain (length: number, messagesPerBlock = BLOCK_MESSAGES): ChainBlock[] {
  const chain: ChainBlock[] = []
  let prevHash = GENESIS_HASH
  for (let height = 1; height <= length; height++) {
    const block = chainBlock(height, prevHash, messagesPerBlock)
    chain.push(block)
    prevHash = block.hashed.hash
  }
  return chain
}

/**
 * `count` different blocks at height 1 (each extends genesis): validating any of them against a
 * store whose tip is genesis succeeds, so they can be validated again and again.
 */
export function blocksOnGenesis (count: number): ChainBlock[] {
  return Array.from({ length: count }, () => chainBlock(1, GENESIS_HASH))
}

function chainBlock (height: number, prevHash: Uint8Array, messagesPerBlock = BLOCK_MESSAGES): ChainBlock {
  const messages = signedMessages(messagesPerBlock)
  const timestamp = BASE_TIMESTAMP + height * BLOCK_INTERVAL_MS
  const hashed = buildSignedBlock(leaderKey, { height, timestamp, prevHash, messages })
  const encoded = encodeBlock(hashed.block)
  return {
    hashed,
    encoded,
    commit: {
      height,
      timestamp,
      prevHash,
      hash: hashed.hash,
      encodedBlock: encoded,
      messageIds: hashed.messageIds,
      messageOffsets: spliceBlock(hashed.block.header, messages.map(encodeMessage)).messageOffsets
    }
  }
}

/** The workerData of a benchmark pool on `dataDir`: default network parameters, our leader. */
export function workerConfig (dataDir: string): WorkerConfig {
  // nice 0: the parts' figures stay comparable with the runs before --worker-nice.
  return { dataDir, params: { ...DEFAULT_PARAMS }, leaderKey: toHex(leaderKey.publicKey), nice: 0 }
}

/** A node's chain machinery without the network: the store (tip at genesis), a pool, an importer. */
export interface Node {
  store: ChainStore
  pool: WorkerPool
  importer: BlockImporter
}

/**
 * Opens a store in `dataDir` (writing genesis), starts a pool of `threads` workers on it, runs
 * `fn`, then drains the pool and closes the store, in that order, whatever happens.
 */
export async function withNode<T> (dataDir: string, threads: number, fn: (node: Node) => Promise<T>): Promise<T> {
  const store = ChainStore.open({ dataDir, initialize: true })
  const pool = new WorkerPool({ threads, maxAdmitQueue: 64 }, workerConfig(dataDir))
  try {
    await pool.start()
    return await fn({ store, pool, importer: new BlockImporter(pool, store, leaderKey.publicKey) })
  } finally {
    await pool.stop()
    await store.stop()
  }
}

/** withNode's parts plus the leader's producer worker (the one writer of `pending`), started with the fixture leader key. */
export async function withLeader<T> (dataDir: string, threads: number, fn: (node: Node & { producer: ProducerClient }) => Promise<T>): Promise<T> {
  return await withNode(dataDir, threads, async node => {
    const keyFile = join(dataDir, 'leader.key')
    writeFileSync(keyFile, toHex(LEADER_SEED) + '\n', { mode: 0o600 })
    const producer = new ProducerClient({ ...workerConfig(dataDir), keyFile, maxPending: Number.MAX_SAFE_INTEGER })
    await producer.start()
    try {
      return await fn({ ...node, producer })
    } finally {
      await producer.stop()
    }
  })
}

/** Cycles through `items` forever. */
export function cycle<T> (items: readonly T[]): () => T {
  let i = 0
  return () => items[i++ % items.length]
}

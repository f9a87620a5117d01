// Shared test builders: the test-vector keys, signed messages, and signed chains on top of
// genesis. Deterministic (fixed seeds, fixed clock) so that every run builds the same bytes.
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { buildSignedBlock, GENESIS_HASH, signMessage } from '../../src/shared/block.js'
import { signingKeyFromSeed, type SigningKey } from '../../src/shared/keys.js'
import type { HashedBlock, Message } from '../../src/shared/types.js'

/** The seeds of test/vectors.json: 32 bytes of 0x01 (sender) and of 0x02 (leader). */
export const SENDER_SEED: Uint8Array = new Uint8Array(32).fill(0x01)
export const LEADER_SEED: Uint8Array = new Uint8Array(32).fill(0x02)

export const senderKey: SigningKey = signingKeyFromSeed(SENDER_SEED)
export const leaderKey: SigningKey = signingKeyFromSeed(LEADER_SEED)

/** A fixed clock for fixtures: the timestamp the vectors use (2025-11-24T16:00:00Z). */
export const BASE_TIMESTAMP = 1_764_000_000_000

export interface MessageOptions {
  /** Signing key; the vector sender by default. */
  key?: SigningKey
  /** Timestamp of the first message; each next one is 1 ms later. */
  timestamp?: number
  /** Nonce of the first message; each next one is +1. Distinct nonces give distinct ids. */
  nonceStart?: number
  /** Content size in bytes (filled with the message's index mod 256); 16 by default. */
  contentBytes?: number
}

/** `n` validly signed messages with distinct ids. */
export function makeMessages (n: number, opts: MessageOptions = {}): Message[] {
  const key = opts.key ?? senderKey
  const timestamp = opts.timestamp ?? BASE_TIMESTAMP
  const nonceStart = opts.nonceStart ?? 0
  const size = opts.contentBytes ?? 16
  const out: Message[] = []
  for (let i = 0; i < n; i++) {
    out.push(signMessage(key, { timestamp: timestamp + i, nonce: nonceStart + i, content: new Uint8Array(size).fill(i % 256) }))
  }
  return out
}

export interface ChainOptions {
  /** Leader key signing the blocks; the vector leader by default. */
  key?: SigningKey
  /** Messages in each block (distinct across the chain); 2 by default. */
  messagesPerBlock?: number
  /** Content size of each message in bytes; 16 by default. */
  contentBytes?: number
  /** Timestamp of block 1; each next block is `intervalMs` later. */
  timestamp?: number
  intervalMs?: number
}

/** Blocks 1..n, each signed by the leader and linked to the previous one, block 1 to genesis. */
export function makeChain (n: number, opts: ChainOptions = {}): HashedBlock[] {
  const key = opts.key ?? leaderKey
  const perBlock = opts.messagesPerBlock ?? 2
  const interval = opts.intervalMs ?? 5000
  const start = opts.timestamp ?? BASE_TIMESTAMP + interval
  const chain: HashedBlock[] = []
  let prevHash = GENESIS_HASH
  for (let h = 1; h <= n; h++) {
    const timestamp = start + (h - 1) * interval
    const messages = makeMessages(perBlock, { timestamp: timestamp - interval, nonceStart: (h - 1) * perBlock, ...(opts.contentBytes === undefined ? {} : { contentBytes: opts.contentBytes }) })
    const built = buildSignedBlock(key, { height: h, timestamp, prevHash, messages })
    chain.push(built)
    prevHash = built.hash
  }
  return chain
}

/** test/vectors.json: an independent implementation's output, kept byte-identical to the contract's copy. */
export interface Vectors {
  keys: Record<'sender' | 'leader', { seed: string, publicKey: string }>
  blake3Empty: string
  messages: Array<{ message: VectorMessage, id: string }>
  merkle: Array<{ ids: string[], root: string }>
  genesis: { header: VectorHeader, hash: string }
  block1: { header: VectorHeader, hash: string, messageIds: string[], wireHex: string }
}

export interface VectorMessage { sender: string, timestamp: number, nonce: number, content: string, signature: string }
export interface VectorHeader { height: number, timestamp: number, prevHash: string, messageRoot: string, proposer: string, signature: string }

export function loadVectors (): Vectors {
  return JSON.parse(readFileSync(resolve(process.cwd(), 'test', 'vectors.json'), 'utf8')) as Vectors
}

/** Hex to bytes for fixtures; throws on malformed hex (a broken fixture, not an input). */
export function hex (text: string): Uint8Array {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) throw new Error(`bad hex fixture: ${text.slice(0, 16)}`)
  return new Uint8Array(Buffer.from(text, 'hex'))
}

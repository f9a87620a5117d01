// A sender: an Ed25519 key that signs messages (SPEC 2) with increasing nonces.
import { publicKeyOf, randomSeed, signWithSeed } from './ed25519.js'
import { messageId } from './hash.js'
import { fromHex, toHex } from './hex.js'
import type { Message } from './types.js'

export interface SenderOptions {
  /**
   * The first nonce. Unless given, a random one below 2^47: two senders with the same key (two
   * runs of a script, say) then do not sign the same content at the same millisecond with the
   * same nonce, which would be one message (the same id) and not two.
   */
  nonce?: number
}

export interface SignOptions {
  /** The message's timestamp (ms since the epoch); now unless given. */
  timestamp?: number
}

const SEED_BYTES = 32
const RANDOM_NONCE_LIMIT = 2 ** 47

export class Sender {
  /** The Ed25519 public key, 32 bytes: the messages' `sender`. */
  readonly publicKey: Uint8Array
  private readonly seed: Uint8Array
  private nonce: number

  /** A sender with the key of a 32-byte RFC 8032 seed (bytes or hex). */
  constructor (seed: Uint8Array | string, options: SenderOptions = {}) {
    const bytes = typeof seed === 'string' ? fromHex(seed.trim(), SEED_BYTES) : seed
    if (bytes?.length !== SEED_BYTES) throw new RangeError('an Ed25519 seed is 32 bytes (64 hex characters)')
    this.seed = bytes.slice()
    this.publicKey = publicKeyOf(this.seed)
    const nonce = options.nonce ?? Math.floor(Math.random() * RANDOM_NONCE_LIMIT)
    if (!Number.isSafeInteger(nonce) || nonce < 0) throw new RangeError(`a nonce is a non-negative safe integer, got ${nonce}`)
    this.nonce = nonce
  }

  /** A sender with a new random key (from crypto.getRandomValues). */
  static random (options: SenderOptions = {}): Sender {
    return new Sender(randomSeed(), options)
  }

  get publicKeyHex (): string {
    return toHex(this.publicKey)
  }

  /** The nonce the next message gets. */
  get nextNonce (): number {
    return this.nonce
  }

  /** A copy of the seed, to keep the key (see saveSender in kimura/client/node). */
  exportSeed (): Uint8Array {
    return this.seed.slice()
  }

  /** Signs one message (text is UTF-8 encoded) with the next nonce. */
  sign (content: Uint8Array | string, options: SignOptions = {}): Message {
    if (!Number.isSafeInteger(this.nonce)) throw new RangeError('this sender\'s nonces are used up (2^53)')
    const unsigned = {
      sender: this.publicKey,
      timestamp: options.timestamp ?? Date.now(),
      nonce: this.nonce,
      content: typeof content === 'string' ? new TextEncoder().encode(content) : content
    }
    const signature = signWithSeed(this.seed, messageId(unsigned))
    this.nonce++
    return { ...unsigned, signature }
  }
}

// Network parameters (SPEC section 4): every node of one network must agree on them.

export interface NetworkParams {
  blockIntervalMs: number
  /** Largest message content, in bytes. */
  maxMessageBytes: number
  maxBlockMessages: number
  /** Largest encoded block, in bytes. */
  maxBlockBytes: number
}

export const DEFAULT_PARAMS: Readonly<NetworkParams> = Object.freeze({
  blockIntervalMs: 5000,
  maxMessageBytes: 4096,
  maxBlockMessages: 10_000,
  maxBlockBytes: 4 * 1024 * 1024
})

/** How far ahead of the receiver's clock a block timestamp may be (SPEC 3, rule 2). */
export const MAX_CLOCK_SKEW_MS = 2000

export const HASH_BYTES = 32
export const PUBLIC_KEY_BYTES = 32
export const SIGNATURE_BYTES = 64
/** Block format version, the first element of the wire `Block` array. */
export const BLOCK_FORMAT_VERSION = 1

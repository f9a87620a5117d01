// Ed25519 arithmetic for tests that build signatures and keys a normal signer never makes
// (small-order points, non-canonical encodings, S >= L), as RFC 8032 defines them.
import { createHash } from 'node:crypto'
import { hex } from './fixtures.js'

/** The field prime, 2^255 - 19. */
export const P = 2n ** 255n - 19n
/** The order of the prime subgroup. */
export const L = 2n ** 252n + 27742317777372353535851937790883648493n

export function toLE (value: bigint, bytes = 32): Uint8Array {
  const out = new Uint8Array(bytes)
  for (let i = 0; i < bytes; i++) out[i] = Number((value >> BigInt(8 * i)) & 0xffn)
  return out
}

export function fromLE (bytes: Uint8Array): bigint {
  let value = 0n
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i])
  return value
}

export function concat (...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts))
}

/** k = SHA-512(R || A || digest) mod L (RFC 8032). */
export function challenge (r: Uint8Array, publicKey: Uint8Array, message: Uint8Array): bigint {
  return fromLE(createHash('sha512').update(concat(r, publicKey, message)).digest()) % L
}

/** The identity point, the simplest small-order point. */
export const IDENTITY = hex('01' + '00'.repeat(31))
/** R = identity, S = 0: [0]B - [k]identity = identity = R, for any message (SPEC 1's forgery). */
export const IDENTITY_FORGERY = concat(IDENTITY, new Uint8Array(32))

/** Non-canonical encodings (y >= p) of the small-order points y = 1 (identity) and y = 0, either sign. */
export const NON_CANONICAL_SMALL = [toLE(P + 1n), toLE(P), toLE(P + 1n | (1n << 255n)), toLE(P | (1n << 255n)), toLE(1n | (1n << 255n))]

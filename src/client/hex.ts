// Hex without Buffer (the browser has none): lowercase out, either case in.

const DIGITS = '0123456789abcdef'
const BYTE_HEX: string[] = Array.from({ length: 256 }, (_, i) => DIGITS[i >> 4] + DIGITS[i & 15])

export function toHex (bytes: Uint8Array): string {
  let out = ''
  for (let i = 0; i < bytes.length; i++) out += BYTE_HEX[bytes[i]]
  return out
}

/** Each char code's hex digit value, -1 for a code that is not a hex digit (either case). */
const HEX_DIGITS = Int8Array.from({ length: 256 }, (_, c) =>
  c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1)

/** The bytes `text` spells in hex, or undefined when it is not hex (of `length` bytes, when given). */
export function fromHex (text: string, length?: number): Uint8Array | undefined {
  const bytes = hexByteLength(text, length)
  if (bytes === undefined) return undefined
  const out = new Uint8Array(bytes)
  return writeHex(text, out, 0) ? out : undefined
}

/** How many bytes `text` would spell as hex: undefined for an odd length, or one other than `length` bytes when given. Its chars are not checked. */
export function hexByteLength (text: string, length?: number): number | undefined {
  if (text.length % 2 !== 0 || (length !== undefined && text.length !== 2 * length)) return undefined
  return text.length / 2
}

/**
 * Writes the bytes that `text` (of even length) spells in hex of either case into `out` at
 * `offset`; false at the first char that is not a hex digit. The node reads JSON submissions
 * with it too (src/shared). Not Node's Buffer decoder, which reads a char above 0xff by its low
 * byte ('\uff41' as 'A') where this refuses it.
 */
export function writeHex (text: string, out: Uint8Array, offset: number): boolean {
  for (let i = 0, at = offset; i < text.length; i += 2, at++) {
    const high = text.charCodeAt(i)
    const low = text.charCodeAt(i + 1)
    if ((high | low) > 0xff) return false
    const byte = (HEX_DIGITS[high] << 4) | HEX_DIGITS[low]
    if (byte < 0) return false
    out[at] = byte
  }
  return true
}

export function bytesEqual (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i]
  return diff === 0
}

/** Bytes given as hex or as bytes, checked to be `length` long; undefined otherwise. */
export function bytesOf (value: string | Uint8Array, length: number): Uint8Array | undefined {
  if (typeof value === 'string') return fromHex(value, length)
  return value instanceof Uint8Array && value.length === length ? value : undefined
}

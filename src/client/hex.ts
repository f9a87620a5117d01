// Hex without Buffer (the browser has none): lowercase out, either case in.

const DIGITS = '0123456789abcdef'
const BYTE_HEX: string[] = Array.from({ length: 256 }, (_, i) => DIGITS[i >> 4] + DIGITS[i & 15])

export function toHex (bytes: Uint8Array): string {
  let out = ''
  for (let i = 0; i < bytes.length; i++) out += BYTE_HEX[bytes[i]]
  return out
}

function nibble (code: number): number {
  if (code >= 48 && code <= 57) return code - 48 // 0-9
  if (code >= 97 && code <= 102) return code - 87 // a-f
  if (code >= 65 && code <= 70) return code - 55 // A-F
  return -1
}

/** The bytes `text` spells in hex, or undefined when it is not hex (of `length` bytes, when given). */
export function fromHex (text: string, length?: number): Uint8Array | undefined {
  if (text.length % 2 !== 0 || (length !== undefined && text.length !== 2 * length)) return undefined
  const out = new Uint8Array(text.length / 2)
  for (let i = 0; i < out.length; i++) {
    const high = nibble(text.charCodeAt(2 * i))
    const low = nibble(text.charCodeAt(2 * i + 1))
    if (high < 0 || low < 0) return undefined
    out[i] = (high << 4) | low
  }
  return out
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

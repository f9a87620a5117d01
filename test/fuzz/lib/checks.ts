// What every target asserts: a failed check throws a Finding, which fast-check shrinks and the
// runner saves. Values are compared structurally (bytes by content, numbers with Object.is, so
// that -0 and 0 differ).
import { isSafeUint } from '../../../src/shared/bytes.js'
import type { Reading } from './reference.js'
import type { BlockHeader, Message } from '../../../src/shared/types.js'

export class Finding extends Error {
  override name = 'Finding'
}

/** `what` may be a function, so that a costly message is only built for a failure. */
export function check (condition: boolean, what: string | (() => string)): asserts condition {
  if (!condition) throw new Finding(typeof what === 'string' ? what : what())
}

/** Deep equality over plain objects, arrays, Uint8Arrays and primitives. */
export function sameValue (a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.byteLength !== b.byteLength) return false
    for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
    return true
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!(Array.isArray(a) && Array.isArray(b)) || a.length !== b.length) return false
    return a.every((x, i) => sameValue(x, b[i]))
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const ka = Object.keys(a)
    const kb = Object.keys(b)
    if (ka.length !== kb.length) return false
    return ka.every(k => Object.hasOwn(b, k) && sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  }
  return Object.is(a, b)
}

/** A short rendering of a value for a finding's message. */
export function show (value: unknown): string {
  if (value === undefined) return 'undefined'
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (v instanceof Uint8Array) return `<${v.byteLength} bytes ${Buffer.from(v.subarray(0, 8)).toString('hex')}${v.byteLength > 8 ? '…' : ''}>`
    if (typeof v === 'number' && (Object.is(v, -0) || !Number.isFinite(v))) return `${Object.is(v, -0) ? '-0' : String(v)}`
    return v
  })
  return text.length > 300 ? `${text.slice(0, 300)}…` : text
}

/**
 * The decoder and the independent reading agree: both refuse, or both accept the same value.
 * `decoded` is a decoder's result union.
 */
export function agreesWithReference<T> (decoded: { ok: true, value: T } | { ok: false, reason: string }, expected: Reading<T>, what: string): void {
  if (decoded.ok && !expected.ok) throw new Finding(`${what}: the decoder accepted what SPEC 5 refuses (${expected.reason}): ${show(decoded.value)}`)
  if (!decoded.ok && expected.ok) throw new Finding(`${what}: the decoder refused a valid value (${decoded.reason}): ${show(expected.value)}`)
  if (decoded.ok && expected.ok && !sameValue(decoded.value, expected.value)) {
    throw new Finding(`${what}: decoded ${show(decoded.value)}, SPEC 5 reads ${show(expected.value)}`)
  }
}

/** SPEC 5's rule for integers, with -0 refused (issue 9: the decoder refuses float -0.0). */
export function isWireUint (v: unknown): boolean {
  return isSafeUint(v) && !Object.is(v, -0)
}

function isBytes (v: unknown, length?: number): boolean {
  return v instanceof Uint8Array && (length === undefined || v.byteLength === length)
}

/** The rules an accepted Message obeys, checked on the value itself. */
export function checkMessageRules (m: Message, what: string): void {
  check(isBytes(m.sender, 32), `${what}.sender is not 32 bytes`)
  check(isWireUint(m.timestamp), () => `${what}.timestamp ${show(m.timestamp)} is not a non-negative safe integer`)
  check(isWireUint(m.nonce), () => `${what}.nonce ${show(m.nonce)} is not a non-negative safe integer`)
  check(isBytes(m.content), `${what}.content is not bytes`)
  check(isBytes(m.signature, 64), `${what}.signature is not 64 bytes`)
  check(Object.keys(m).length === 5, `${what} has extra fields`)
}

export function checkHeaderRules (h: BlockHeader, what: string): void {
  check(isWireUint(h.height), () => `${what}.height ${show(h.height)} is not a non-negative safe integer`)
  check(isWireUint(h.timestamp), () => `${what}.timestamp ${show(h.timestamp)} is not a non-negative safe integer`)
  check(isBytes(h.prevHash, 32), `${what}.prevHash is not 32 bytes`)
  check(isBytes(h.messageRoot, 32), `${what}.messageRoot is not 32 bytes`)
  check(isBytes(h.proposer, 32), `${what}.proposer is not 32 bytes`)
  check(isBytes(h.signature, 64), `${what}.signature is not 64 bytes`)
  check(Object.keys(h).length === 6, `${what} has extra fields`)
}

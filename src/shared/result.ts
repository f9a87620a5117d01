// Result unions: validation and decoding report failures as values, never by throwing.

export type Result<T, C extends string = string> =
  | { ok: true, value: T }
  | { ok: false, code: C, reason: string }

export type Verdict<C extends string = string> =
  | { ok: true }
  | { ok: false, code: C, reason: string }

export function ok<T> (value: T): { ok: true, value: T } {
  return { ok: true, value }
}

export function fail<C extends string> (code: C, reason: string): { ok: false, code: C, reason: string } {
  return { ok: false, code, reason }
}

// BLAKE3 through blake3-wasm's WebAssembly exports, called without its JavaScript glue. The
// glue's `hash(data, out)` mallocs both arrays in WebAssembly memory and reads the digest back
// through a new view of that memory: a JavaScript object per hash, and a node hashes every
// message three or four times (its id, its Merkle leaf and node, its VerifiedSet key). Here the
// digest lands in one 32-byte area allocated once per thread, and a preimage can be written
// straight into WebAssembly memory (reserveInput), with no copy in JavaScript first.
//
// The exports are wasm-bindgen's for `hash(data: &[u8], out: &mut [u8])`: the input is
// malloc'd by the caller and freed by the export; `out` is the caller's. blake3-wasm 2.1.5 is
// pinned by package-lock.json, and test/unit/shared/blake3.test.ts checks these digests
// against the glue's own.
import * as glue from 'blake3-wasm/dist/wasm/nodejs/blake3_js.js'
import { HASH_BYTES } from './params.js'

interface Blake3Exports {
  memory: { readonly buffer: ArrayBuffer }
  hash: (dataPtr: number, dataLength: number, outPtr: number, outLength: number) => void
  __wbindgen_malloc: (size: number) => number
}

const wasm = (glue as unknown as { __wasm: Blake3Exports }).__wasm
/** Where every digest is written: allocated once, never freed (the export frees only its input). */
const DIGEST_AT = wasm.__wbindgen_malloc(HASH_BYTES)

let bytes = new Uint8Array(wasm.memory.buffer)
let view = new DataView(wasm.memory.buffer)

/** WebAssembly memory as bytes; a malloc may grow it, so ask again after reserveInput. */
export function memoryBytes (): Uint8Array {
  if (bytes.buffer !== wasm.memory.buffer) bytes = new Uint8Array(wasm.memory.buffer)
  return bytes
}

/** WebAssembly memory as a DataView (see memoryBytes). */
export function memoryView (): DataView {
  if (view.buffer !== wasm.memory.buffer) view = new DataView(wasm.memory.buffer)
  return view
}

/**
 * Room for a preimage of `size` bytes in WebAssembly memory: its offset in memoryBytes(). The
 * caller writes exactly `size` bytes there, then calls hashInput, which frees it.
 */
export function reserveInput (size: number): number {
  return wasm.__wbindgen_malloc(size)
}

/** BLAKE3 of the `size` bytes reserved at `at`, written into out[offset, offset + 32). Frees the input. */
export function hashInput (at: number, size: number, out: Uint8Array, offset = 0): void {
  wasm.hash(at, size, DIGEST_AT, HASH_BYTES)
  const memory = memoryBytes()
  for (let i = 0; i < HASH_BYTES; i++) out[offset + i] = memory[DIGEST_AT + i]
}

/** BLAKE3 of `data`, written into out[offset, offset + 32). */
export function blake3Into (data: Uint8Array, out: Uint8Array, offset = 0): void {
  const at = reserveInput(data.byteLength)
  memoryBytes().set(data, at)
  hashInput(at, data.byteLength, out, offset)
}

/** BLAKE3 of source[start, end), written into out[offset, offset + 32), without a view of the range. */
export function blake3RangeInto (source: Uint8Array, start: number, end: number, out: Uint8Array, offset = 0): void {
  if (start < 0 || end < start || end > source.byteLength) throw new RangeError(`range [${start}, ${end}) is outside ${source.byteLength} bytes`)
  const size = end - start
  const at = reserveInput(size)
  const memory = memoryBytes()
  for (let i = 0; i < size; i++) memory[at + i] = source[start + i]
  hashInput(at, size, out, offset)
}

// BLAKE3 through blake3-wasm's WebAssembly exports (src/shared/blake3.ts) against its own glue.
import '../../../src/shared/polyfill.js'
import test from 'ava'
import * as glue from 'blake3-wasm/dist/wasm/nodejs/blake3_js.js'
import { blake3Into, blake3RangeInto, memoryBytes } from '../../../src/shared/blake3.js'
import { toHex } from '../../../src/shared/bytes.js'

function bytesOf (size: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: size }, (_, i) => (i * 31 + seed) & 0xff)
}

function glueHash (data: Uint8Array): string {
  const out = new Uint8Array(32)
  glue.hash(data, out)
  return toHex(out)
}

test('digests equal blake3-wasm\'s own, across chunk boundaries, written at an offset', t => {
  for (const size of [0, 1, 31, 64, 65, 1023, 1024, 1025, 2048, 100_003]) {
    const data = bytesOf(size, size)
    const out = new Uint8Array(40).fill(0xee)
    blake3Into(data, out, 5)
    t.is(toHex(out.subarray(5, 37)), glueHash(data), `${size} bytes`)
    t.deepEqual([...out.subarray(0, 5), ...out.subarray(37)], new Array(8).fill(0xee), `${size} bytes: nothing written outside the digest`)
  }
})

test('a range of a larger array, also of shared memory, hashes as that range alone', t => {
  const shared = new Uint8Array(new SharedArrayBuffer(3000))
  shared.set(bytesOf(3000, 7))
  for (const [start, end] of [[0, 0], [0, 3000], [17, 1041], [2999, 3000]]) {
    const out = new Uint8Array(32)
    blake3RangeInto(shared, start, end, out)
    t.is(toHex(out), glueHash(shared.slice(start, end)), `[${start}, ${end})`)
  }
  t.throws(() => blake3RangeInto(shared, 10, 3001, new Uint8Array(32)), { instanceOf: RangeError })
  t.throws(() => blake3RangeInto(shared, 10, 9, new Uint8Array(32)), { instanceOf: RangeError })
})

test('every input is freed: a hundred thousand hashes do not grow WebAssembly memory', t => {
  const data = bytesOf(4096, 3)
  const out = new Uint8Array(32)
  blake3Into(data, out)
  const before = memoryBytes().byteLength
  for (let i = 0; i < 100_000; i++) blake3Into(data, out)
  t.is(memoryBytes().byteLength, before)
  t.is(toHex(out), glueHash(data))
})

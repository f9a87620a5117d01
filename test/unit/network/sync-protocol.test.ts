import '../../../src/shared/polyfill.js'
import test from 'ava'
import { SYNC_REQUEST_BYTES, decodeSyncRequest, encodeSyncRequest } from '../../../src/main/network/sync-protocol.js'

test('a sync request is 12 bytes, u64be from then u32be count', t => {
  const bytes = encodeSyncRequest({ from: 0x0102_0304_0506, count: 0x0708_090a })
  t.is(bytes.byteLength, SYNC_REQUEST_BYTES)
  t.deepEqual([...bytes], [0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  t.deepEqual(decodeSyncRequest(bytes), { from: 0x0102_0304_0506, count: 0x0708_090a })
})

test('the largest valid values round-trip', t => {
  const request = { from: Number.MAX_SAFE_INTEGER, count: 0xffff_ffff }
  t.deepEqual(decodeSyncRequest(encodeSyncRequest(request)), request)
})

test('malformed requests decode to undefined', t => {
  t.is(decodeSyncRequest(new Uint8Array(11)), undefined)
  t.is(decodeSyncRequest(new Uint8Array(13)), undefined)
  t.is(decodeSyncRequest(encodeSyncRequest({ from: 0, count: 1 })), undefined, 'genesis is never served')
  t.is(decodeSyncRequest(encodeSyncRequest({ from: 1, count: 0 })), undefined)
  const above = new Uint8Array(12)
  above[1] = 0x20 // 2^53
  above[11] = 1
  t.is(decodeSyncRequest(above), undefined)
})

test('a request inside a larger buffer decodes from its own offset', t => {
  const outer = new Uint8Array(20)
  outer.set(encodeSyncRequest({ from: 42, count: 7 }), 8)
  t.deepEqual(decodeSyncRequest(outer.subarray(8)), { from: 42, count: 7 })
})

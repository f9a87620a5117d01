// The table of messages a peer verified: keyed on the whole encoding, bounded, shared by workers.
import '../../../src/shared/polyfill.js'
import test from 'ava'
import { encodeMessage } from '../../../src/shared/codec.js'
import { b3 } from '../../../src/shared/hash.js'
import { VerifiedSet } from '../../../src/shared/verified-set.js'
import { makeMessages } from '../../helpers/fixtures.js'

/** The VerifiedSet's key for a message: B3 of its whole wire encoding, signature included. */
const keyOf = (encoded: Uint8Array): Uint8Array => b3(encoded)

test('a key added is found; another encoding of the same message id (another signature) is not', t => {
  const set = new VerifiedSet(VerifiedSet.create(1024))
  const [m] = makeMessages(1)
  const encoded = encodeMessage(m)
  const forged = encodeMessage({ ...m, signature: new Uint8Array(64).fill(9) })
  set.add(keyOf(encoded))
  t.true(set.has(keyOf(encoded)))
  t.false(set.has(keyOf(forged)), 'the key covers the signature, not only the id')
})

test('the table is bounded: a newer key may replace an older one, and a lost entry is only a miss', t => {
  const set = new VerifiedSet(VerifiedSet.create(16))
  const keys = makeMessages(200).map(m => keyOf(encodeMessage(m)))
  for (const k of keys) set.add(k)
  const found = keys.filter(k => set.has(k)).length
  t.true(found <= 16, `at most one key per slot, found ${found}`)
  t.true(keys.slice(-1).every(k => set.has(k)), 'the newest key is there')
  t.throws(() => VerifiedSet.create(1000), { instanceOf: RangeError })
})

test('the table is shared memory: a second view of the same buffer sees what the first added', t => {
  const buffer = VerifiedSet.create(64)
  const key = keyOf(encodeMessage(makeMessages(1)[0]))
  new VerifiedSet(buffer).add(key)
  t.true(new VerifiedSet(buffer).has(key))
})

test('a lookup tells which messages were verified before, and adds only what the caller records after verifying it', t => {
  const set = new VerifiedSet(VerifiedSet.create(1 << 12))
  const raws = makeMessages(6, { nonceStart: 500 }).map(encodeMessage)
  set.add(keyOf(raws[1]))
  const lookup = set.lookup(raws, 1, 4)
  t.deepEqual([1, 2, 3].map(i => lookup.known(i)), [true, false, false])
  t.false(set.has(keyOf(raws[2])), 'looking up adds nothing')
  lookup.record(2)
  t.true(set.has(keyOf(raws[2])))
  t.false(set.has(keyOf(raws[3])))
  lookup.recordAll()
  t.deepEqual(raws.map(raw => set.has(keyOf(raw))), [false, true, true, true, false, false], 'only the looked-up range [1, 4)')
})

test('a lookup of a block\'s slice by offsets finds the keys that a lookup of the same messages as arrays finds', t => {
  const set = new VerifiedSet(VerifiedSet.create(1 << 12))
  const raws = makeMessages(5, { nonceStart: 900 }).map(encodeMessage)
  // The messages side by side in one buffer, as in a block, after a 7-byte prefix.
  const block = new Uint8Array(7 + raws.reduce((n, r) => n + r.byteLength, 0))
  const offsets = new Uint32Array(2 * raws.length)
  let at = 7
  raws.forEach((raw, i) => { block.set(raw, at); offsets[2 * i] = at; offsets[2 * i + 1] = raw.byteLength; at += raw.byteLength })
  set.lookup(raws, 0, 2).recordAll()
  const slice = set.lookupIn(block, offsets, 1, 4)
  t.deepEqual([1, 2, 3].map(i => slice.known(i)), [true, false, false])
  slice.record(3)
  t.deepEqual(raws.map(raw => set.has(keyOf(raw))), [true, true, false, true, false])
  t.throws(() => set.lookupIn(block, Uint32Array.of(block.byteLength - 2, 5), 0, 1), { instanceOf: RangeError }, 'a range past the block')
})

// The table of messages a peer verified: keyed on the whole encoding, bounded, shared by workers.
import '../../../src/shared/polyfill.js'
import test from 'ava'
import { encodeMessage } from '../../../src/shared/codec.js'
import { VerifiedSet } from '../../../src/shared/verified-set.js'
import { makeMessages } from '../../helpers/fixtures.js'

test('a key added is found; another encoding of the same message id (another signature) is not', t => {
  const set = new VerifiedSet(VerifiedSet.create(1024))
  const [m] = makeMessages(1)
  const encoded = encodeMessage(m)
  const forged = encodeMessage({ ...m, signature: new Uint8Array(64).fill(9) })
  set.add(VerifiedSet.keyOf(encoded))
  t.true(set.has(VerifiedSet.keyOf(encoded)))
  t.false(set.has(VerifiedSet.keyOf(forged)), 'the key covers the signature, not only the id')
})

test('the table is bounded: a newer key may replace an older one, and a lost entry is only a miss', t => {
  const set = new VerifiedSet(VerifiedSet.create(16))
  const keys = makeMessages(200).map(m => VerifiedSet.keyOf(encodeMessage(m)))
  for (const k of keys) set.add(k)
  const found = keys.filter(k => set.has(k)).length
  t.true(found <= 16, `at most one key per slot, found ${found}`)
  t.true(keys.slice(-1).every(k => set.has(k)), 'the newest key is there')
  t.throws(() => VerifiedSet.create(1000), { instanceOf: RangeError })
})

test('the table is shared memory: a second view of the same buffer sees what the first added', t => {
  const buffer = VerifiedSet.create(64)
  const key = VerifiedSet.keyOf(encodeMessage(makeMessages(1)[0]))
  new VerifiedSet(buffer).add(key)
  t.true(new VerifiedSet(buffer).has(key))
})

test('a lookup tells which messages were verified before, and adds only what the caller records after verifying it', t => {
  const set = new VerifiedSet(VerifiedSet.create(1 << 12))
  const raws = makeMessages(6, { nonceStart: 500 }).map(encodeMessage)
  set.add(VerifiedSet.keyOf(raws[1]))
  const lookup = set.lookup(raws, 1, 4)
  t.deepEqual([1, 2, 3].map(i => lookup.known(i)), [true, false, false])
  t.false(set.has(VerifiedSet.keyOf(raws[2])), 'looking up adds nothing')
  lookup.record(2)
  t.true(set.has(VerifiedSet.keyOf(raws[2])))
  t.false(set.has(VerifiedSet.keyOf(raws[3])))
  lookup.recordAll()
  t.deepEqual(raws.map(raw => set.has(VerifiedSet.keyOf(raw))), [false, true, true, true, false, false], 'only the looked-up range [1, 4)')
})

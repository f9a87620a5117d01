// The prover's audit paths (src/shared/merkle-proof.ts) against RFC 9162's recursive PATH,
// written independently in test/unit/client/audit-path.ts, and its root against SPEC 3's MTH.
import test from 'ava'
import { randomBytes } from 'node:crypto'
import { toHex } from '../../../src/shared/bytes.js'
import { merkleRoot } from '../../../src/shared/hash.js'
import { auditPath, buildMerkleTree, merkleTreeRoot } from '../../../src/shared/merkle-proof.js'
import { MerkleTree } from '../client/audit-path.js'

const ids = (n: number): Uint8Array[] => Array.from({ length: n }, () => new Uint8Array(randomBytes(32)))

test('every leaf of trees of 1 to 33 leaves: the root is MTH and the path is RFC 9162\'s PATH', t => {
  for (let n = 1; n <= 33; n++) {
    const leaves = ids(n)
    const tree = buildMerkleTree(leaves)
    const reference = new MerkleTree(leaves)
    t.is(toHex(merkleTreeRoot(tree)), toHex(merkleRoot(leaves)), `root of ${n}`)
    for (let i = 0; i < n; i++) t.deepEqual(auditPath(tree, i).map(toHex), reference.path(i).map(toHex), `leaf ${i} of ${n}`)
  }
})

test('a tree of one leaf has an empty path; an empty tree\'s root is B3 of nothing', t => {
  t.deepEqual(auditPath(buildMerkleTree(ids(1)), 0), [])
  t.is(toHex(merkleTreeRoot(buildMerkleTree([]))), toHex(merkleRoot([])))
})

test('10,000 leaves: sampled paths match, and a leaf outside the tree is a RangeError', t => {
  const leaves = ids(10_000)
  const tree = buildMerkleTree(leaves)
  const reference = new MerkleTree(leaves)
  t.is(toHex(merkleTreeRoot(tree)), toHex(reference.hash()))
  for (const i of [0, 1, 4095, 4096, 8191, 8192, 9998, 9999]) t.deepEqual(auditPath(tree, i).map(toHex), reference.path(i).map(toHex), `leaf ${i}`)
  t.throws(() => auditPath(tree, 10_000), { instanceOf: RangeError })
  t.throws(() => auditPath(tree, -1), { instanceOf: RangeError })
})

// The prover's side of SPEC 8's inclusion proofs: every node of a block's RFC 6962 Merkle tree
// (SPEC 3's BLAKE3 leaf and node hashes), kept level by level so that the audit path of any
// leaf (RFC 9162 section 2.1.3.1) is a few lookups. The verifying side is kimura/client's.
//
// Level 0 holds the leaf hashes B3(0x00 || id); each level above pairs neighbours with
// B3(0x01 || left || right) and carries a last, unpaired node up unchanged. That is RFC 6962's
// split at the largest power of two below n: the left subtree is always complete, so only the
// right edge is ever unpaired.
import { b3, merkleLeafInto, merkleNodeInto } from './hash.js'
import { HASH_BYTES } from './params.js'

/** Every node of the tree over `count` leaves, level 0 first, 32 bytes each, concatenated. */
export interface MerkleTree {
  count: number
  nodes: Uint8Array
}

/** How many nodes each level holds, leaves first, root last (one level of one node for count <= 1). */
export function levelSizes (count: number): number[] {
  const sizes = [count]
  for (let n = count; n > 1; n = Math.ceil(n / 2)) sizes.push(Math.ceil(n / 2))
  return sizes
}

/** The tree over `ids` (the message ids in block order). */
export function buildMerkleTree (ids: readonly Uint8Array[]): MerkleTree {
  const sizes = levelSizes(ids.length)
  const nodes = new Uint8Array(sizes.reduce((a, b) => a + b, 0) * HASH_BYTES)
  ids.forEach((id, i) => { merkleLeafInto(id, nodes, i * HASH_BYTES) })
  let below = 0
  for (let level = 1; level < sizes.length; level++) {
    const here = below + sizes[level - 1]
    const n = sizes[level - 1]
    for (let i = 0; i < sizes[level]; i++) {
      const left = below + 2 * i
      const out = (here + i) * HASH_BYTES
      if (2 * i + 1 < n) merkleNodeInto(nodes, left * HASH_BYTES, nodes, out)
      else nodes.copyWithin(out, left * HASH_BYTES, (left + 1) * HASH_BYTES)
    }
    below = here
  }
  return { count: ids.length, nodes }
}

/** MTH of the tree (SPEC 3): B3 of nothing for an empty block. */
export function merkleTreeRoot (tree: MerkleTree): Uint8Array {
  if (tree.count === 0) return b3(new Uint8Array(0))
  return tree.nodes.slice(tree.nodes.byteLength - HASH_BYTES)
}

/**
 * The audit path of leaf `index` (RFC 9162 section 2.1.3.1, PATH(index, D[count])): the
 * sibling hashes from the leaf's level up to the root's children, lowest level first. Empty
 * for a tree of one leaf.
 */
export function auditPath (tree: MerkleTree, index: number): Uint8Array[] {
  if (!Number.isSafeInteger(index) || index < 0 || index >= tree.count) throw new RangeError(`leaf ${index} is not among ${tree.count}`)
  const sizes = levelSizes(tree.count)
  const path: Uint8Array[] = []
  let start = 0
  let i = index
  for (let level = 0; level < sizes.length - 1; level++) {
    const sibling = i ^ 1
    // A node without a sibling (the unpaired right edge) rises unchanged: nothing on the path.
    if (sibling < sizes[level]) path.push(tree.nodes.slice((start + sibling) * HASH_BYTES, (start + sibling + 1) * HASH_BYTES))
    start += sizes[level]
    i = Math.floor(i / 2)
  }
  return path
}

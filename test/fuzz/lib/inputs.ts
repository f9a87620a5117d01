// The input mix every wire decoder target draws from: valid trees mutated at every level,
// real encodings mutated byte by byte, both unmutated, and plain random bytes.
import fc from 'fast-check'
import { applyTreeEdit, byteMutated, treeEdit } from './mutations.js'
import { bytes } from './values.js'
import { encodeNode, type WireNode } from './wire.js'

export interface WireInputSources {
  /** Valid values of the decoder's shape, as trees with any allowed encoding. */
  tree: fc.Arbitrary<WireNode>
  /** Real encodings of valid values (the project's encoders, signed fixtures). */
  encoded: fc.Arbitrary<Uint8Array>
}

export function wireInput ({ tree, encoded }: WireInputSources): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { arbitrary: fc.tuple(tree, treeEdit).map(([t, e]) => applyTreeEdit(t, e)), weight: 5 },
    { arbitrary: byteMutated(encoded), weight: 4 },
    { arbitrary: tree.map(encodeNode), weight: 1 },
    { arbitrary: encoded, weight: 1 },
    { arbitrary: bytes(0, 120), weight: 1 }
  )
}

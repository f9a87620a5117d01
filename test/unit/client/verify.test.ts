// verifyInclusion: proofs verify for every message of blocks of 1 to 17 messages and of a
// 10,000-message block (built with src/shared's Merkle root and block signing, paths from an
// independent RFC 9162 builder); a proof, id or header changed in any byte fails; a block
// signed by another key, or "signed" with the identity forgery, does not verify.
import '../../../src/shared/polyfill.js'
import test from 'ava'
import { rootFromAuditPath, toHex, verifyInclusion, type HeaderJson, type ProofJson } from '../../../src/client/index.js'
import { buildSignedBlock, GENESIS_HASH } from '../../../src/shared/block.js'
import { blockToJson } from '../../../src/shared/json.js'
import { blockHash as sharedBlockHash, merkleRoot } from '../../../src/shared/hash.js'
import { signingKeyFromSeed } from '../../../src/shared/keys.js'
import type { HashedBlock } from '../../../src/shared/types.js'
import { BASE_TIMESTAMP, hex, leaderKey, loadVectors, makeMessages } from '../../helpers/fixtures.js'
import { auditPath, buildMerkleTree, merkleTreeRoot } from '../../../src/shared/merkle-proof.js'
import { MerkleTree } from './audit-path.js'

const LEADER = toHex(leaderKey.publicKey)

function blockOf (count: number, height = 7): HashedBlock {
  return buildSignedBlock(leaderKey, { height, timestamp: BASE_TIMESTAMP + 5000, prevHash: GENESIS_HASH, messages: makeMessages(count) })
}

/** SPEC 8's proof of message `index` of the block. */
function proofOf (built: HashedBlock, index: number, tree = new MerkleTree(built.messageIds)): ProofJson {
  return {
    id: toHex(built.messageIds[index]),
    height: built.block.header.height,
    blockHash: toHex(built.hash),
    messageRoot: toHex(built.block.header.messageRoot),
    index,
    count: built.messageIds.length,
    path: tree.path(index).map(toHex)
  }
}

function headerOf (built: HashedBlock): HeaderJson {
  return blockToJson(built.block, false).header
}

/** The SPEC 3 hash of a header given as JSON, computed by src/shared (not the client). */
function sharedHashOf (header: HeaderJson): Uint8Array {
  return sharedBlockHash({ height: header.height, timestamp: header.timestamp, prevHash: hex(header.prevHash), messageRoot: hex(header.messageRoot), proposer: hex(header.proposer) })
}

/** The hex string with the byte at `at` changed. */
function flipByte (text: string, at: number): string {
  const byte = (parseInt(text.slice(2 * at, 2 * at + 2), 16) ^ 0x01).toString(16).padStart(2, '0')
  return text.slice(0, 2 * at) + byte + text.slice(2 * at + 2)
}

test('every message of blocks of 1 to 17 messages verifies, and the test tree is SPEC 3\'s', t => {
  for (let count = 1; count <= 17; count++) {
    const built = blockOf(count)
    const tree = new MerkleTree(built.messageIds)
    t.is(toHex(tree.hash()), toHex(merkleRoot(built.messageIds)), `the builder's root, ${count} leaves`)
    for (let i = 0; i < count; i++) {
      const proof = proofOf(built, i, tree)
      if (count === 1) t.deepEqual(proof.path, [], 'one message: an empty path')
      t.deepEqual(verifyInclusion(proof, proof.id, headerOf(built), LEADER), { ok: true }, `message ${i} of ${count}`)
    }
  }
})

test('every message of a 10,000-message block verifies', t => {
  const built = blockOf(10_000)
  const tree = new MerkleTree(built.messageIds)
  const header = headerOf(built)
  const started = performance.now()
  let verified = 0
  for (let i = 0; i < 10_000; i++) {
    const proof = proofOf(built, i, tree)
    if (verifyInclusion(proof, built.messageIds[i], header, leaderKey.publicKey).ok) verified++
  }
  t.log(`10,000 proofs verified in ${Math.round(performance.now() - started)} ms`)
  t.is(verified, 10_000)
})

test('the node\'s prover (src/shared/merkle-proof) gives the RFC 9162 paths, and the client verifies them', t => {
  for (let count = 1; count <= 70; count++) {
    const built = blockOf(count)
    const recursive = new MerkleTree(built.messageIds)
    const levels = buildMerkleTree(built.messageIds)
    t.is(toHex(merkleTreeRoot(levels)), toHex(built.block.header.messageRoot), `root, ${count} leaves`)
    const header = headerOf(built)
    for (let i = 0; i < count; i++) {
      const path = auditPath(levels, i).map(toHex)
      t.deepEqual(path, recursive.path(i).map(toHex), `path of ${i} among ${count}`)
      t.true(verifyInclusion({ ...proofOf(built, i, recursive), path }, built.messageIds[i], header, LEADER).ok)
    }
  }
})

test('the test vectors\' block 1 proves each of its messages under the vector leader key', t => {
  const { block1, keys } = loadVectors()
  const tree = new MerkleTree(block1.messageIds.map(id => hex(id)))
  block1.messageIds.forEach((id, index) => {
    const proof: ProofJson = { id, height: 1, blockHash: block1.hash, messageRoot: block1.header.messageRoot, index, count: block1.messageIds.length, path: tree.path(index).map(toHex) }
    t.deepEqual(verifyInclusion(proof, id, block1.header, keys.leader.publicKey), { ok: true })
  })
})

test('a proof, id or header changed in any one byte does not verify', t => {
  for (const count of [1, 2, 5, 16, 17]) {
    const built = blockOf(count)
    const header = headerOf(built)
    const index = count - 1
    const proof = proofOf(built, index)
    t.true(verifyInclusion(proof, proof.id, header, LEADER).ok)
    const refused = (p: ProofJson, id: string, h: HeaderJson, what: string): void => {
      const verdict = verifyInclusion(p, id, h, LEADER)
      t.false(verdict.ok, `${count} messages: ${what}`)
    }
    for (let at = 0; at < 32; at++) {
      refused(proof, flipByte(proof.id, at), header, `id byte ${at}`)
      refused({ ...proof, id: flipByte(proof.id, at) }, flipByte(proof.id, at), header, `id byte ${at}, in the proof too`)
      refused({ ...proof, blockHash: flipByte(proof.blockHash, at) }, proof.id, header, `blockHash byte ${at}`)
      refused({ ...proof, messageRoot: flipByte(proof.messageRoot, at) }, proof.id, header, `proof messageRoot byte ${at}`)
      proof.path.forEach((step, s) => {
        const path = proof.path.slice()
        path[s] = flipByte(step, at)
        refused({ ...proof, path }, proof.id, header, `path[${s}] byte ${at}`)
      })
      for (const field of ['prevHash', 'messageRoot', 'proposer'] as const) {
        refused(proof, proof.id, { ...header, [field]: flipByte(header[field], at) }, `header ${field} byte ${at}`)
      }
    }
    for (let at = 0; at < 64; at++) refused(proof, proof.id, { ...header, signature: flipByte(header.signature, at) }, `header signature byte ${at}`)
    refused(proof, proof.id, { ...header, height: header.height + 1 }, 'header height')
    refused({ ...proof, height: proof.height + 1 }, proof.id, { ...header, height: header.height + 1 }, 'height in both')
    refused(proof, proof.id, { ...header, timestamp: header.timestamp + 1 }, 'header timestamp')
    refused({ ...proof, index: count > 1 ? (index + 1) % count : 1 }, proof.id, header, 'index')
    refused({ ...proof, count: count + 1 }, proof.id, header, 'count')
    refused({ ...proof, path: [...proof.path, proof.path[0] ?? proof.id] }, proof.id, header, 'a step more')
    if (proof.path.length > 0) refused({ ...proof, path: proof.path.slice(1) }, proof.id, header, 'a step less')
  }
})

test('the verdict names what failed', t => {
  const built = blockOf(5)
  const header = headerOf(built)
  const proof = proofOf(built, 2)
  const code = (v: ReturnType<typeof verifyInclusion>): string => v.ok ? 'ok' : v.code
  t.is(code(verifyInclusion(proof, proofOf(built, 3).id, header, LEADER)), 'MISMATCH')
  t.is(code(verifyInclusion({ ...proof, path: proof.path.map(p => flipByte(p, 0)) }, proof.id, header, LEADER)), 'BAD_PATH')
  t.is(code(verifyInclusion({ ...proof, blockHash: flipByte(proof.blockHash, 0) }, proof.id, header, LEADER)), 'BAD_BLOCK_HASH')
  t.is(code(verifyInclusion(proof, proof.id, { ...header, signature: flipByte(header.signature, 40) }, LEADER)), 'BAD_SIGNATURE')
  t.is(code(verifyInclusion({ ...proof, path: ['zz'] }, proof.id, header, LEADER)), 'MALFORMED')
  t.is(code(verifyInclusion(null as unknown as ProofJson, proof.id, header, LEADER)), 'MALFORMED')
  t.is(code(verifyInclusion(proof, proof.id, {} as HeaderJson, LEADER)), 'MALFORMED')
  t.is(code(verifyInclusion(proof, proof.id, header, 'ab')), 'MALFORMED')
  t.is(code(verifyInclusion({ ...proof, path: Array.from({ length: 54 }, () => proof.path[0]) }, proof.id, header, LEADER)), 'MALFORMED')
  const verdict = verifyInclusion(proof, proof.id.toUpperCase(), { ...header, prevHash: header.prevHash.toUpperCase() }, LEADER.toUpperCase())
  t.deepEqual(verdict, { ok: true }, 'hex of either case')
})

test('a block by another key does not verify against the pinned key, though it verifies against its own', t => {
  const other = signingKeyFromSeed(new Uint8Array(32).fill(9))
  const built = buildSignedBlock(other, { height: 3, timestamp: BASE_TIMESTAMP, prevHash: GENESIS_HASH, messages: makeMessages(4) })
  const proof = proofOf(built, 1)
  t.true(verifyInclusion(proof, proof.id, headerOf(built), other.publicKey).ok, 'the node agrees with itself')
  const pinned = verifyInclusion(proof, proof.id, headerOf(built), LEADER)
  t.false(pinned.ok)
  if (!pinned.ok) t.is(pinned.code, 'BAD_SIGNATURE')
  // The header claiming the pinned key as proposer changes the hash: it fails on the hash or the signature.
  t.false(verifyInclusion(proof, proof.id, { ...headerOf(built), proposer: LEADER }, LEADER).ok)
})

test('the identity-key forgery (key 01 00..00, R = 01 00..00, S = 0) does not verify', t => {
  const identity = '01' + '00'.repeat(31)
  const forged = buildSignedBlock(leaderKey, { height: 1, timestamp: BASE_TIMESTAMP, prevHash: GENESIS_HASH, messages: makeMessages(3) })
  const header: HeaderJson = { ...headerOf(forged), proposer: identity, signature: identity + '00'.repeat(32) }
  const proof = { ...proofOf(forged, 0), blockHash: toHex(sharedHashOf(header)) }
  const verdict = verifyInclusion(proof, proof.id, header, identity)
  t.false(verdict.ok)
  if (!verdict.ok) t.is(verdict.code, 'MALFORMED', 'the identity is no leader key')
  // Pinned to the real leader key, the forged proposer is refused too.
  t.false(verifyInclusion(proof, proof.id, header, LEADER).ok)
})

test('rootFromAuditPath refuses an index outside the tree and paths of the wrong length', t => {
  const built = blockOf(6)
  const tree = new MerkleTree(built.messageIds)
  const leafPath = tree.path(5)
  const leaf = new MerkleTree([built.messageIds[5]]).hash()
  t.is(toHex(rootFromAuditPath(leaf, 5, 6, leafPath) as Uint8Array), toHex(built.block.header.messageRoot))
  t.is(rootFromAuditPath(leaf, 6, 6, leafPath), undefined)
  t.is(rootFromAuditPath(leaf, 5, 6, leafPath.slice(1)), undefined)
  t.is(rootFromAuditPath(leaf, 5, 6, [...leafPath, leafPath[0]]), undefined)
})

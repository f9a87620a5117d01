// GET /v1/messages/{id}/proof (SPEC 8) against real leader processes: every message of blocks
// of 1 to 17 messages, and of a 10,000-message block, has a proof that kimura/client's
// verifyInclusion accepts under the leader's key, and that fails when one byte changes.
import test, { type ExecutionContext } from 'ava'
import { verifyInclusion, type ProofJson } from '../../../src/client/index.js'
import { toHex } from '../../../src/shared/bytes.js'
import type { BlockJson } from '../../../src/shared/json.js'
import { getBlock, getMessage, request, Sender, submitMsgpack, submitOk, type ErrorJson } from '../../helpers/api-client.js'
import { startLeader, type NodeProcess } from '../../helpers/node-process.js'
import { waitFor } from '../../helpers/wait.js'

async function proofOf (node: NodeProcess, id: string): Promise<ProofJson> {
  const answer = await request<ProofJson>(node, `/v1/messages/${id}/proof`)
  if (answer.status !== 200) throw new Error(`proof of ${id} answered ${answer.status}: ${answer.text}`)
  return answer.body
}

async function includedAt (node: NodeProcess, id: string): Promise<number> {
  let height: number | null = null
  await waitFor(async () => {
    height = (await getMessage(node, id))?.height ?? null
    return height !== null
  }, 30_000, `message ${id} to be included`)
  return height ?? -1
}

/** `hex` with the byte at `at` changed. */
function flipByte (hex: string, at = 0): string {
  const byte = (parseInt(hex.slice(2 * at, 2 * at + 2), 16) ^ 0x01).toString(16).padStart(2, '0')
  return hex.slice(0, 2 * at) + byte + hex.slice(2 * at + 2)
}

function checkProof (t: ExecutionContext, proof: ProofJson, id: string, block: BlockJson, leaderKey: string): void {
  t.is(proof.id, id)
  t.is(proof.height, block.header.height)
  t.is(proof.blockHash, block.hash)
  t.is(proof.messageRoot, block.header.messageRoot)
  t.is(proof.count, block.messageIds.length)
  t.is(proof.index, block.messageIds.indexOf(id))
  t.is(proof.path.length, block.messageIds.length === 1 ? 0 : proofDepth(proof.index, proof.count))
  t.deepEqual(verifyInclusion(proof, id, block.header, leaderKey), { ok: true }, `leaf ${proof.index} of ${proof.count}`)
}

/** RFC 9162's path length of leaf m among n: one hash per split on the way down. */
function proofDepth (m: number, n: number): number {
  if (n <= 1) return 0
  let k = 1
  while (k * 2 < n) k *= 2
  return 1 + (m < k ? proofDepth(m, k) : proofDepth(m - k, n - k))
}

test('every message of blocks of 1 to 17 messages has a proof that verifies; one changed byte fails', async t => {
  const leader = await startLeader(t, 150)
  const leaderKey = (await leader.status()).leaderKey
  const sender = new Sender()
  for (let n = 1; n <= 17; n++) {
    // One batch is admitted in one transaction, and a block takes every pending message: one batch, one block.
    const ids = await submitOk(leader, sender.messages(n))
    const height = await includedAt(leader, ids[0])
    const block = await getBlock(leader, height)
    if (block === undefined) throw new Error(`no block ${height}`)
    t.deepEqual(block.messageIds, ids, `block ${height} holds exactly the batch of ${n}`)
    for (const id of ids) {
      const proof = await proofOf(leader, id)
      checkProof(t, proof, id, block, leaderKey)
      if (proof.path.length > 0) t.false(verifyInclusion({ ...proof, path: [flipByte(proof.path[0], 31), ...proof.path.slice(1)] }, id, block.header, leaderKey).ok, 'a path hash changed')
      t.false(verifyInclusion(proof, flipByte(id, 5), block.header, leaderKey).ok, 'another id')
      t.false(verifyInclusion({ ...proof, id: flipByte(id, 5) }, flipByte(id, 5), block.header, leaderKey).ok, 'another id, in the proof too')
      t.false(verifyInclusion(proof, id, { ...block.header, timestamp: block.header.timestamp + 1 }, leaderKey).ok, 'another header')
      t.false(verifyInclusion(proof, id, { ...block.header, signature: flipByte(block.header.signature, 40) }, leaderKey).ok, 'another signature')
    }
  }
})

test('a 10,000-message block: proofs verify, the first and later ones from one cached tree', async t => {
  const leader = await startLeader(t, 500)
  const leaderKey = (await leader.status()).leaderKey
  const sender = new Sender()
  const messages = sender.messages(10_000, 16)
  const answer = await submitMsgpack(leader, messages)
  t.is(answer.status, 202, answer.text)
  const ids = answer.body.ids
  const height = await includedAt(leader, ids[0])
  const block = await getBlock(leader, height)
  if (block === undefined) throw new Error(`no block ${height}`)
  t.is(block.messageIds.length, 10_000, 'one block of 10,000 (the SPEC maximum)')
  const sample = [0, 1, 2, 4095, 4096, 8191, 8192, 9998, 9999, ...Array.from({ length: 16 }, () => Math.floor(Math.random() * 10_000))]
  const proofs = await Promise.all(sample.map(async i => await proofOf(leader, block.messageIds[i])))
  sample.forEach((i, k) => { checkProof(t, proofs[k], block.messageIds[i], block, leaderKey) })
  t.is(proofs[0].path.length, 14)
})

test('proof errors: 400 for a malformed id, 404 MESSAGE_NOT_FOUND when unknown, 404 MESSAGE_NOT_INCLUDED while pending (and the message is found, with no height)', async t => {
  // An hour between blocks: what is submitted stays pending.
  const leader = await startLeader(t, 3_600_000)
  const sender = new Sender()
  const [message] = sender.messages(1)
  const [pending] = await submitOk(leader, [message])
  // The leader's producer, which indexes what is pending, answers for it.
  const found = await getMessage(leader, pending)
  t.is(found?.height, null, 'a pending message is found, with no height')
  t.is(found?.message.nonce, message.nonce)
  const cases: Array<[string, number, string]> = [
    [`/v1/messages/${pending}/proof`, 404, 'MESSAGE_NOT_INCLUDED'],
    [`/v1/messages/${toHex(new Uint8Array(32).fill(7))}/proof`, 404, 'MESSAGE_NOT_FOUND'],
    ['/v1/messages/abc/proof', 400, 'INVALID_ID'],
    [`/v1/messages/${pending}00/proof`, 400, 'INVALID_ID']
  ]
  for (const [path, status, code] of cases) {
    const answer = await request<ErrorJson>(leader, path)
    t.is(answer.status, status, path)
    t.is(answer.body.error.code, code, path)
  }
  t.is((await request<ErrorJson>(leader, `/v1/messages/${pending}/proof`, { method: 'POST' })).status, 405)
})

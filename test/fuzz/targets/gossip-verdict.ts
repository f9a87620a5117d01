// blockGossipVerdict, the gossip block path, with in-memory fakes of its modules: an importer
// that validates with the pure rules against an in-memory chain, recording metrics and logger.
// Inputs are signed blocks (valid, and signed but invalid in each rule), their mutations, and
// forgeries. Checked against a model of SPEC 5: the verdict; a header whose signature does not
// verify is rejected and costs no import, no sync and no equivocation check; only the chain's
// next block is accepted; a signed block that differs from a stored one goes to the guard.
import fc from 'fast-check'
import { blake3 } from '@noble/hashes/blake3.js'
import { MAX_QUEUED_GOSSIP_IMPORTS, blockGossipVerdict, type BlockGossipModules } from '../../../src/main/chain/block-gossip.js'
import type { BlockImporter, ImportOptions, ImportResult } from '../../../src/main/chain/block-importer.js'
import type { EquivocationGuard } from '../../../src/main/chain/equivocation.js'
import type { NodeMetrics } from '../../../src/main/metrics.js'
import type { Logger } from '../../../src/main/logger.js'
import { GENESIS_BLOCK, GENESIS_HASH, buildSignedBlock } from '../../../src/shared/block.js'
import { bytesKey, toHex, writeU64BE } from '../../../src/shared/bytes.js'
import { decodeBlock, encodeBlock } from '../../../src/shared/codec.js'
import { merkleRoot, messageId } from '../../../src/shared/hash.js'
import { signDigest } from '../../../src/shared/keys.js'
import type { Block, BlockHeader, HashedBlock } from '../../../src/shared/types.js'
import { validateBlock, type ParentInfo } from '../../../src/shared/validation.js'
import { BASE_TIMESTAMP, leaderKey, makeMessages, senderKey } from '../../helpers/fixtures.js'
import { Finding, check, sameValue, show } from '../lib/checks.js'
import { applyTreeEdit, byteMutated, treeEdit } from '../lib/mutations.js'
import { referenceBlock, referenceBlockPrefix } from '../lib/reference.js'
import { rules } from '../lib/signed.js'
import { defineTarget } from '../lib/target.js'
import { blockValue } from '../lib/values.js'
import { blockNode } from '../lib/wire.js'

// ---- Fixtures: a chain, and blocks the leader signed that break one rule each ----------

const chain: HashedBlock[] = []
for (let h = 1, prev = GENESIS_HASH; h <= 3; h++) {
  const b = buildSignedBlock(leaderKey, { height: h, timestamp: BASE_TIMESTAMP + h * 5000, prevHash: prev, messages: makeMessages(2, { nonceStart: 10 * h }) })
  chain.push(b)
  prev = b.hash
}

/** Signs a header as given (buildSignedBlock would compute the root itself). */
function signHeader (unsigned: Omit<BlockHeader, 'signature'>, messages: Block['messages']): Block {
  return { header: { ...unsigned, signature: signDigest(leaderKey, blockHashOf(unsigned)) }, messages }
}

/** block_hash computed with another BLAKE3 implementation (@noble/hashes). */
function blockHashOf (h: Omit<BlockHeader, 'signature'>): Uint8Array {
  const pre = new Uint8Array(114)
  const view = new DataView(pre.buffer)
  pre[0] = 0x42
  pre[1] = 0x01
  writeU64BE(view, 2, h.height)
  writeU64BE(view, 10, h.timestamp)
  pre.set(h.prevHash, 18)
  pre.set(h.messageRoot, 50)
  pre.set(h.proposer, 82)
  return blake3(pre)
}

const on = (parent: HashedBlock | undefined, over: Partial<Omit<BlockHeader, 'signature'>>, messages = makeMessages(1, { nonceStart: 900 })): Block => {
  const base = buildSignedBlock(leaderKey, { height: (parent?.block.header.height ?? 0) + 1, timestamp: (parent?.block.header.timestamp ?? BASE_TIMESTAMP) + 1000, prevHash: parent?.hash ?? GENESIS_HASH, messages }).block.header
  return signHeader({ height: base.height, timestamp: base.timestamp, prevHash: base.prevHash, messageRoot: base.messageRoot, proposer: base.proposer, ...over }, messages)
}

const [m1] = makeMessages(1, { nonceStart: 500 })
const badMessage = { ...m1, signature: new Uint8Array(64).fill(7) }
const signedVariants: Block[] = [
  ...chain.map(b => b.block),
  on(chain[0], { prevHash: new Uint8Array(32).fill(9) }),
  on(chain[0], { messageRoot: new Uint8Array(32).fill(1) }),
  on(chain[0], { timestamp: rules.now + 60_000 }),
  on(chain[0], { timestamp: 0 }),
  on(chain[0], { height: 9 }),
  on(undefined, {}, [m1, m1]),
  on(undefined, {}, [badMessage]),
  on(chain[1], {}, chain[0].block.messages)
]
/** Every (hash, signature) the leader made: a header verifies only if it is one of these. */
const leaderSigned = new Set(signedVariants.map(b => bytesKey(blockHashOf(b.header)) + bytesKey(b.header.signature)))
const signedEncodings = signedVariants.map(encodeBlock)
const stranger = buildSignedBlock(senderKey, { height: 1, timestamp: BASE_TIMESTAMP, prevHash: GENESIS_HASH, messages: [] }).block

const blockBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  { arbitrary: fc.constantFrom(...signedEncodings), weight: 4 },
  { arbitrary: byteMutated(fc.constantFrom(...signedEncodings)), weight: 3 },
  { arbitrary: fc.tuple(fc.constantFrom(...signedVariants), treeEdit).map(([b, e]) => applyTreeEdit(blockNode(b), e)), weight: 3 },
  { arbitrary: blockValue.map(b => encodeBlock({ ...b, header: { ...b.header, proposer: leaderKey.publicKey, height: b.header.height % 6 } })), weight: 1 },
  { arbitrary: fc.constant(encodeBlock(stranger)), weight: 1 }
)

export interface GossipInput {
  data: Uint8Array
  /** Blocks of `chain` already stored (0: only genesis). */
  stored: number
  queued: number
  /** The importer validates; or fails, or answers what a store race or a lost parent gives. */
  importer: 'validate' | 'throw' | 'PARENT_UNKNOWN' | 'STORE_CONFLICT' | 'nothing'
  /** The importer reports the root and ids checked before the signatures, as for a large block. */
  early: boolean
  /** The equivocation guard has stopped the node from following. */
  halted?: boolean
}

export const gossipInput: fc.Arbitrary<GossipInput> = fc.record({
  data: blockBytes,
  stored: fc.integer({ min: 0, max: 3 }),
  queued: fc.oneof({ arbitrary: fc.constant(0), weight: 10 }, { arbitrary: fc.constantFrom(MAX_QUEUED_GOSSIP_IMPORTS - 1, MAX_QUEUED_GOSSIP_IMPORTS), weight: 1 }),
  importer: fc.oneof({ arbitrary: fc.constant('validate' as const), weight: 24 }, { arbitrary: fc.constantFrom('throw' as const, 'PARENT_UNKNOWN' as const, 'STORE_CONFLICT' as const, 'nothing' as const), weight: 1 }),
  early: fc.boolean(),
  halted: fc.option(fc.constant(true), { nil: undefined, freq: 30 })
}, { requiredKeys: ['data', 'stored', 'queued', 'importer', 'early'] })

/** SPEC 5: forwarding may start once the header verifies and the root matches the recomputed ids, with no repeated id. */
function rootHolds (block: Block): boolean {
  const ids = block.messages.map(messageId)
  return new Set(ids.map(bytesKey)).size === ids.length && bytesKey(merkleRoot(ids)) === bytesKey(block.header.messageRoot)
}

// ---- Fakes ------------------------------------------------------------------------------

interface Calls {
  imports: number
  syncs: number
  /** Each peerHolds report as `peer height hash`. */
  held: string[]
  rejected: string[]
  atOrBelowTip: number
  otherParent: number
}

/** The stored header at each height: genesis, then the stored part of the chain. */
const storedHeaders = (stored: number): BlockHeader[] => [GENESIS_BLOCK.header, ...chain.slice(0, stored).map(b => b.block.header)]

function modules (input: GossipInput, calls: Calls): BlockGossipModules {
  const stored = chain.slice(0, input.stored)
  const top = stored.at(-1)
  const tip: ParentInfo = top === undefined ? { height: 0, hash: GENESIS_HASH, timestamp: 0 } : { height: top.block.header.height, hash: top.hash, timestamp: top.block.header.timestamp }
  const included = new Set(stored.flatMap(b => b.messageIds.map(bytesKey)))
  const importer = {
    queued: input.queued,
    tip: () => tip,
    // Nothing queued in this model: the head is the stored tip.
    head: () => tip,
    importNext: async (block: Uint8Array, _queued: unknown, options?: ImportOptions): Promise<ImportResult> => await importer.importBlocks([block], 'gossip', { ...options, headersVerified: true }),
    importBlocks: async (blocks: Uint8Array[], _source: unknown, options?: ImportOptions): Promise<ImportResult> => {
      calls.imports++
      await Promise.resolve()
      if (input.importer === 'throw') throw new Error('pool stopped')
      if (input.importer === 'nothing') return { imported: 0, blocks: [], known: 1 }
      if (input.importer !== 'validate') return { imported: 0, blocks: [], known: 0, error: { code: input.importer, reason: 'as the store says' } }
      const decoded = decodeBlock(blocks[0])
      if (!decoded.ok) return { imported: 0, blocks: [], known: 0, error: { code: 'BLOCK_MALFORMED', reason: decoded.reason } }
      if (input.early && rootHolds(decoded.value)) {
        options?.onChecked?.()
        await Promise.resolve()
      }
      const verdict = validateBlock(decoded.value, blocks[0].byteLength, tip, rules, id => included.has(bytesKey(id)))
      if (!verdict.ok) return { imported: 0, blocks: [], known: 0, error: { code: verdict.code, reason: verdict.reason } }
      const h = decoded.value.header
      return { imported: 1, known: 0, blocks: [{ height: h.height, hash: toHex(verdict.value.hash), timestamp: h.timestamp, messageCount: decoded.value.messages.length, validatedAt: Date.now() }] }
    }
  }
  const histogram = { observe: () => undefined }
  const metrics = { blocksRejected: { inc: ({ code }: { code: string }) => { calls.rejected.push(code) } }, gossipReceiveLatency: histogram, blockStageLatency: histogram, validationTime: histogram }
  const quiet = (): void => undefined
  const headers = storedHeaders(input.stored)
  // The equivocation guard's two checks, recorded: whether they are asked is what the model predicts.
  const guard = { halted: input.halted === true, checkAtOrBelowTip: () => { calls.atOrBelowTip++; return false }, checkParent: () => { calls.otherParent++; return false } }
  return {
    importer: importer as unknown as BlockImporter,
    leaderKey: leaderKey.publicKey,
    storedHeader: height => headers[height],
    guard: guard as unknown as EquivocationGuard,
    logger: { debug: quiet, warn: quiet, info: quiet, error: quiet } as unknown as Logger,
    metrics: metrics as unknown as NodeMetrics,
    requestSync: () => { calls.syncs++ },
    peerHolds: (peer, tip) => { calls.held.push(`${peer} ${tip.height} ${tip.hash}`) }
  }
}

type Outcome = 'reject' | 'ignore' | 'accept' | 'ignore+sync' | 'import' | 'ignore+equivocation?' | 'ignore+other-parent?'

/** SPEC 5's order of checks for a gossiped block, computed without the code under test. */
function expected (input: GossipInput): Outcome {
  if (input.halted === true) return 'ignore'
  const prefix = referenceBlockPrefix(input.data)
  if (!prefix.ok) return 'reject'
  const h = prefix.value.header
  const tipHeight = input.stored
  const ours = storedHeaders(input.stored)[h.height] as BlockHeader | undefined
  const hash = blockHashOf(h)
  // A block this node stores already, in any encoding: a duplicate.
  if (ours !== undefined && bytesKey(blockHashOf(ours)) === bytesKey(hash)) return 'ignore'
  const signed = toHex(h.proposer) === toHex(leaderKey.publicKey) && leaderSigned.has(bytesKey(hash) + bytesKey(h.signature))
  if (!signed) return 'reject'
  // Leader-signed and different from ours at that height: evidence for the equivocation guard.
  if (h.height <= tipHeight) return 'ignore+equivocation?'
  if (h.height > tipHeight + 1) return 'ignore+sync'
  const tipHash = input.stored === 0 ? GENESIS_HASH : chain[input.stored - 1].hash
  if (toHex(h.prevHash) !== toHex(tipHash)) return 'ignore+other-parent?'
  if (input.queued >= MAX_QUEUED_GOSSIP_IMPORTS) return 'ignore'
  return 'import'
}

export const target = defineTarget({
  name: 'gossip-verdict',
  about: 'blockGossipVerdict with in-memory fakes: verdict order, one signature before any work, only signed blocks accepted',
  files: ['src/main/chain/block-gossip.ts', 'src/shared/codec.ts'],
  input: gossipInput,
  runs: 40_000,
  quickRuns: 500,
  async: true,
  async check (input) {
    const calls: Calls = { imports: 0, syncs: 0, held: [], rejected: [], atOrBelowTip: 0, otherParent: 0 }
    const verdict = await blockGossipVerdict(input.data, 'fuzz-peer', modules(input, calls))
    const want = expected(input)
    const got = calls.syncs > 0
      ? `${verdict}+sync`
      : calls.imports > 0 ? 'import' : calls.atOrBelowTip > 0 ? `${verdict}+equivocation?` : calls.otherParent > 0 ? `${verdict}+other-parent?` : verdict
    check(calls.atOrBelowTip + calls.otherParent <= 1, 'asked the equivocation guard twice')
    check(calls.syncs <= 1, 'asked for more than one sync')
    // Before a sync, the peer that sent the block is known to hold it: sync may fetch up to it there.
    check(calls.held.length <= 1, 'reported the sender as holding the block more than once')
    const prefix = referenceBlockPrefix(input.data)
    if (calls.syncs > 0 && prefix.ok) {
      const h = prefix.value.header
      const source = `fuzz-peer ${h.height} ${toHex(blockHashOf(h))}`
      check(calls.held[0] === source, `sync asked with the sender recorded as ${calls.held[0] ?? 'nothing'}, not ${source}`)
    }
    const whole = referenceBlock(input.data)
    const forwardedEarly = want === 'import' && input.early && input.importer === 'validate' && whole.ok && rootHolds(whole.value)
    // A block forwarded early and refused later is counted as rejected, though gossip heard 'accept'.
    if (!forwardedEarly) check(calls.rejected.length === (verdict === 'reject' ? 1 : 0), `counted ${calls.rejected.length} rejections for a ${verdict}`)
    if (want !== 'import') {
      if (got !== want) throw new Finding(`verdict ${got}, SPEC 5 gives ${want}`)
      return
    }
    check(calls.imports === 1 && calls.syncs === (input.importer === 'PARENT_UNKNOWN' ? 1 : 0), `a block for the next height was imported ${calls.imports} times, with ${calls.syncs} syncs`)
    if (input.importer !== 'validate') { check(verdict === 'ignore', `verdict ${verdict} when the importer answered ${input.importer}`); return }
    if (forwardedEarly) { check(verdict === 'accept', `verdict ${verdict} for a block whose root held`); return }
    // The next block of the chain, in any encoding SPEC 5 allows, is accepted; anything else is not.
    const isNext = whole.ok && sameValue(whole.value, chain[input.stored]?.block)
    if (isNext) check(verdict === 'accept', `verdict ${verdict} for the next block of the chain`)
    else check(verdict === 'reject', () => `verdict ${verdict} for a signed block at the next height that is not the chain's: ${show(whole.ok ? whole.value.header : whole.reason)}`)
  }
})

// decodeBlock: the gossip and sync payload. Checked against the independent reading; what it
// accepts re-encodes to the same block, renders to JSON and back, and, for mutations of a
// signed block, validates only if it is that very block.
import fc from 'fast-check'
import { bytesKey, toHex } from '../../../src/shared/bytes.js'
import { decodeBlock, decodeBlockHeader, decodeMessage, encodeBlock, encodeMessage, messageOffsetsIn, spliceBlock } from '../../../src/shared/codec.js'
import { blockToJson, messageToJson } from '../../../src/shared/json.js'
import { DEFAULT_PARAMS } from '../../../src/shared/params.js'
import { messagesFromJson } from '../../../src/shared/submission-codec.js'
import { validateBlock } from '../../../src/shared/validation.js'
import type { Block } from '../../../src/shared/types.js'
import { check, checkHeaderRules, checkMessageRules, agreesWithReference, sameValue } from '../lib/checks.js'
import { wireInput } from '../lib/inputs.js'
import { referenceBlock } from '../lib/reference.js'
import { blocksByHash, parents, rules, signedBlockEncoding } from '../lib/signed.js'
import { defineTarget } from '../lib/target.js'
import { blockTree, blockValue } from '../lib/values.js'

export const blockInput: fc.Arbitrary<Uint8Array> = wireInput({
  tree: blockTree,
  encoded: fc.oneof(blockValue.map(encodeBlock), signedBlockEncoding)
})

/** What holds for any block the decoder accepted from `bytes`. */
export function checkAcceptedBlock (block: Block, bytes: Uint8Array, rawMessages: readonly Uint8Array[]): void {
  checkHeaderRules(block.header, 'header')
  block.messages.forEach((m, i) => { checkMessageRules(m, `messages[${i}]`) })
  check(rawMessages.length === block.messages.length, 'one raw view per message')
  rawMessages.forEach((raw, i) => {
    const again = decodeMessage(raw)
    check(again.ok && sameValue(again.value, block.messages[i]), `the raw bytes of message ${i} decode to another message`)
  })
  const reencoded = decodeBlock(encodeBlock(block))
  check(reencoded.ok && sameValue(reencoded.value, block), 'the re-encoded block decodes to another block')
  // The producer's splice of the header around the messages' own bytes is the same block.
  const spliced = spliceBlock(block.header, rawMessages)
  const splicedRaw: Uint8Array[] = []
  const resplit = decodeBlock(spliced.encoded, splicedRaw)
  check(resplit.ok && sameValue(resplit.value, block), 'the spliced block decodes to another block')
  check(sameValue(spliced.messageOffsets, messageOffsetsIn(spliced.encoded, splicedRaw)), 'spliceBlock and messageOffsetsIn disagree on where the messages are')
  const prefix = decodeBlockHeader(bytes)
  check(prefix.ok && sameValue(prefix.value.header, block.header) && prefix.value.messageCount === block.messages.length, 'decodeBlockHeader disagrees with decodeBlock')
  // The API's JSON form of each message reads back into the same message.
  block.messages.forEach((m, i) => {
    const back = messagesFromJson([JSON.parse(JSON.stringify(messageToJson(m)))], DEFAULT_PARAMS, true)
    check(back.ok && sameValue(back.value.messages[0], m), `message ${i} does not read back from its JSON form`)
    check(back.ok && sameValue(back.value.encoded[0], encodeMessage(m)), `message ${i}'s JSON form is written in other bytes than msgpackr's`)
  })
  // The block's JSON form hashes every message: only for small blocks, to keep runs cheap.
  if (block.messages.length <= 1) {
    const json = blockToJson(block, block.messages.length === 1)
    check(json.messageIds.length === block.messages.length && (json.messages?.length ?? 0) === block.messages.length, 'the JSON form of the block lists other messages')
  }
}

/** A decoded mutation of a signed block validates only when it is that block, and only on its own parent. */
function checkValidation (block: Block, bytes: Uint8Array): void {
  const parent = parents.get(bytesKey(block.header.prevHash))
  if (parent === undefined) return
  for (const other of parents.values()) {
    if (other !== parent) check(!validateBlock(block, bytes.byteLength, other, rules, () => false).ok, 'a block validated against a parent it was not built on')
  }
  const verdict = validateBlock(block, bytes.byteLength, parent, rules, () => false)
  if (!verdict.ok) return
  const original = blocksByHash.get(bytesKey(verdict.value.hash))
  check(original !== undefined, `a block that was never signed validated: ${toHex(verdict.value.hash)}`)
  check(sameValue(original.block, block) && sameValue(original.messageIds, verdict.value.messageIds), 'a validated block differs from the signed one with its hash')
}

/**
 * A view whose buffer was transferred away (to a worker) reads as empty and cannot even be
 * wrapped in a DataView: the decoders still answer with a result.
 */
export function checkDetachedInput (): void {
  const view = new Uint8Array(8)
  structuredClone(view.buffer, { transfer: [view.buffer] })
  for (const decode of [decodeBlock, decodeBlockHeader, decodeMessage]) {
    check(!decode(view).ok, `${decode.name} accepted a detached view`)
  }
}

export const target = defineTarget({
  name: 'block',
  about: 'decodeBlock (gossip, sync): reference agreement, round trip, JSON form, validation of mutated signed blocks',
  files: ['src/shared/codec.ts', 'src/shared/json.ts'],
  input: blockInput,
  runs: 150_000,
  quickRuns: 1_500,
  check (bytes) {
    if (bytes.byteLength === 0) checkDetachedInput()
    const raw: Uint8Array[] = []
    const decoded = decodeBlock(bytes, raw)
    agreesWithReference(decoded, referenceBlock(bytes), 'decodeBlock')
    if (!decoded.ok) return
    checkAcceptedBlock(decoded.value, bytes, raw)
    checkValidation(decoded.value, bytes)
  }
})

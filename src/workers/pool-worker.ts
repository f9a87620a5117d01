// The Piscina pool's worker module: one named export per task of the thread contract.
// Every task is synchronous, so nothing is left running when it returns. Admissions only
// verify: the producer alone writes `pending`.
import '../shared/polyfill.js'
import { decodeBlock } from '../shared/codec.js'
import { toHex } from '../shared/bytes.js'
import { blockHash, messageId } from '../shared/hash.js'
import { blockToJson } from '../shared/json.js'
import { buildMerkleTree } from '../shared/merkle-proof.js'
import type {
  AdmitMessagesInput, AdmitMessagesOutput, AdmitSubmissionInput, AdmitSubmissionOutput, HashBlockInput, HashBlockOutput, ImportBlocksInput, ImportBlocksOutput,
  MessageTreeInput, MessageTreeOutput, RenderBlockInput, RenderBlockOutput, VerifyMessagesInput, VerifyMessagesOutput, WarmUpOutput
} from '../shared/thread-contract.js'
import { admitMessages as admit } from './admit-messages.js'
import { admitSubmission as admitBody } from './admit-submission.js'
import { hashBlock as hashBlockBody, verifyMessages as verifySlice } from './block-body.js'
import { importBlocks as runImport } from './import-blocks.js'
import { splitIds } from '../shared/verified-messages.js'
import { workerContext } from './worker-context.js'

export function warmUp (): WarmUpOutput {
  return { priority: workerContext().priority }
}

export function admitMessages (input: AdmitMessagesInput): AdmitMessagesOutput {
  const { config, verified } = workerContext()
  return admit(config.params, new Uint8Array(input.batch), input, verified)
}

export function admitSubmission (input: AdmitSubmissionInput): AdmitSubmissionOutput {
  return admitBody(workerContext().config.params, new Uint8Array(input.body), input)
}

export function hashBlock (input: HashBlockInput): HashBlockOutput {
  return hashBlockBody(workerContext().config.params, new Uint8Array(input.block))
}

export function verifyMessages (input: VerifyMessagesInput): VerifyMessagesOutput {
  return verifySlice(input, workerContext().verified)
}

export function importBlocks (input: ImportBlocksInput): ImportBlocksOutput {
  const { store, rules, verified } = workerContext()
  return runImport(store, {
    // A block in a SharedArrayBuffer is copied before it is committed: LMDB refuses to write
    // from shared memory (the process aborts with "invalid address").
    blocks: input.blocks.map(b => b instanceof SharedArrayBuffer ? new Uint8Array(b).slice() : new Uint8Array(b)),
    checked: input.checked.map(body => body === null ? null : { ids: splitIds(new Uint8Array(body.ids)), offsets: new Uint32Array(body.offsets) }),
    rules: rules(input.now),
    ...(verified === undefined ? {} : { verified })
  })
}


export function renderBlock (input: RenderBlockInput): RenderBlockOutput {
  const { store } = workerContext()
  const height = input.height === 'latest' ? store.tip().height : input.height
  const encoded = store.blocks.getEncoded(height)
  if (encoded === undefined) return { json: null }
  const decoded = decodeBlock(encoded)
  // Stored blocks were validated before they were written: one that no longer decodes is corruption.
  if (!decoded.ok) throw new Error(`stored block ${height} does not decode: ${decoded.reason}`)
  return { json: JSON.stringify(blockToJson(decoded.value, input.withMessages)) }
}

export function messageTree (input: MessageTreeInput): MessageTreeOutput {
  const { store } = workerContext()
  const encoded = store.blocks.getEncoded(input.height)
  if (encoded === undefined) return { found: false }
  const decoded = decodeBlock(encoded)
  if (!decoded.ok) throw new Error(`stored block ${input.height} does not decode: ${decoded.reason}`)
  const { header, messages } = decoded.value
  const tree = buildMerkleTree(messages.map(messageId))
  return { found: true, count: tree.count, nodes: tree.nodes.buffer as ArrayBuffer, blockHash: toHex(blockHash(header)), messageRoot: toHex(header.messageRoot) }
}

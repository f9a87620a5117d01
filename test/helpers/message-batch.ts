// encodeMessageBatch: a list of Messages as one MessagePack array, the batch form the pool's
// admission task and SPEC 8's binary submission take. Tests and benchmarks build batches with
// it; production joins already encoded messages instead (joinEncodedMessages). Written with
// msgpackr directly, with the options of src/shared/codec.ts, so that it stays independent of
// the code it checks.
import { Packr } from 'msgpackr'
import type { Message } from '../../src/shared/types.js'

const packr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false, variableMapSize: true })

export function encodeMessageBatch (messages: readonly Message[]): Uint8Array {
  const packed = packr.pack(messages.map(m => [m.sender, m.timestamp, m.nonce, m.content, m.signature]))
  // msgpackr's output is a view of its reusable buffer: copy, so the batch owns (and can transfer) its buffer.
  return new Uint8Array(packed)
}

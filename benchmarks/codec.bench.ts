// The wire codec against JSON for one 1,000-message block: msgpackr encoding and our strict
// decoder, against JSON with binary fields as hex, as the HTTP API writes and reads them.
import { fromHex, toHex } from '../src/shared/bytes.js'
import { decodeBlock, encodeBlock } from '../src/shared/codec.js'
import { DEFAULT_PARAMS, HASH_BYTES, PUBLIC_KEY_BYTES, SIGNATURE_BYTES } from '../src/shared/params.js'
import type { Block, BlockHeader } from '../src/shared/types.js'
import { messageToJson, type MessageJson } from '../src/shared/json.js'
import { messagesFromJson } from '../src/shared/submission-codec.js'
import { BLOCK_MESSAGES, blocksOnGenesis } from './fixtures.js'
import { LIGHT, measure, type BenchContext, type Figures } from './util.js'

interface BlockJson {
  header: { height: number, timestamp: number, prevHash: string, messageRoot: string, proposer: string, signature: string }
  messages: MessageJson[]
}

function blockToJsonText (block: Block): string {
  const h = block.header
  const json: BlockJson = {
    header: { height: h.height, timestamp: h.timestamp, prevHash: toHex(h.prevHash), messageRoot: toHex(h.messageRoot), proposer: toHex(h.proposer), signature: toHex(h.signature) },
    messages: block.messages.map(messageToJson)
  }
  return JSON.stringify(json)
}

/** Parses and checks every field, as the API does for a submitted message (hex to bytes included). */
function blockFromJsonText (text: string): Block {
  const json = JSON.parse(text) as BlockJson
  const h = json.header
  const bin = (hex: string, length: number): Uint8Array => fromHex(hex, length) ?? fail('header field')
  const header: BlockHeader = {
    height: h.height,
    timestamp: h.timestamp,
    prevHash: bin(h.prevHash, HASH_BYTES),
    messageRoot: bin(h.messageRoot, HASH_BYTES),
    proposer: bin(h.proposer, PUBLIC_KEY_BYTES),
    signature: bin(h.signature, SIGNATURE_BYTES)
  }
  const parsed = messagesFromJson(json.messages, DEFAULT_PARAMS, true)
  return { header, messages: parsed.ok ? parsed.value.messages : fail(parsed.reason) }
}

function fail (what: string): never {
  throw new Error(`benchmark fixture did not round-trip: ${what}`)
}

export async function codecBenchmarks (ctx: BenchContext): Promise<Figures> {
  const [fixture] = blocksOnGenesis(1)
  const block = fixture.hashed.block
  const packed = encodeBlock(block)
  const jsonText = blockToJsonText(block)
  const label = `${BLOCK_MESSAGES}-msg block`

  const msgpackEncode = await measure(ctx, { name: `codec / msgpack encode / ${label}`, async: false, fn: () => encodeBlock(block) }, LIGHT)
  const msgpackDecode = await measure(ctx, {
    name: `codec / msgpack strict decode / ${label}`,
    async: false,
    fn: () => { if (!decodeBlock(packed).ok) fail('decodeBlock') }
  }, LIGHT)
  const jsonEncode = await measure(ctx, { name: `codec / JSON hex encode / ${label}`, async: false, fn: () => blockToJsonText(block) }, LIGHT)
  const jsonDecode = await measure(ctx, { name: `codec / JSON hex decode / ${label}`, async: false, fn: () => blockFromJsonText(jsonText) }, LIGHT)

  return {
    msgpack_encode_ops_per_s: msgpackEncode.callsPerSecond,
    msgpack_decode_ops_per_s: msgpackDecode.callsPerSecond,
    json_encode_ops_per_s: jsonEncode.callsPerSecond,
    json_decode_ops_per_s: jsonDecode.callsPerSecond,
    msgpack_block_bytes: packed.byteLength,
    json_block_bytes: Buffer.byteLength(jsonText, 'utf8')
  }
}

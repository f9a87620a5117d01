// The leader's chain as the invariants and figures need it: per block its hash, timestamp,
// message ids and encoded size (re-encoded from the API's JSON with the node's own codec).
import { fromHex } from '../../src/shared/bytes.js'
import { encodeBlock } from '../../src/shared/codec.js'
import type { BlockJson, MessageJson } from '../../src/shared/json.js'
import type { Block } from '../../src/shared/types.js'

export interface ChainBlock {
  height: number
  hash: string
  timestamp: number
  messageIds: string[]
  bytes: number
}

/** Blocks read at once. */
const WINDOW = 4

function bin (hex: string): Uint8Array {
  const bytes = fromHex(hex)
  if (bytes === undefined) throw new Error(`not hex: ${hex.slice(0, 20)}`)
  return bytes
}

function encodedBytes (json: BlockJson): number {
  const h = json.header
  const block: Block = {
    header: { height: h.height, timestamp: h.timestamp, prevHash: bin(h.prevHash), messageRoot: bin(h.messageRoot), proposer: bin(h.proposer), signature: bin(h.signature) },
    messages: (json.messages ?? []).map((m: MessageJson) => ({ sender: bin(m.sender), timestamp: m.timestamp, nonce: m.nonce, content: bin(m.content), signature: bin(m.signature) }))
  }
  return encodeBlock(block).byteLength
}

export async function getBlockJson (api: string, height: number, withMessages: boolean): Promise<BlockJson | undefined> {
  const res = await fetch(`${api}/v1/blocks/${height}${withMessages ? '?messages=1' : ''}`, { signal: AbortSignal.timeout(15_000) })
  if (res.status === 404) return undefined
  if (res.status !== 200) throw new Error(`GET ${api}/v1/blocks/${height} answered ${res.status}`)
  return await res.json() as BlockJson
}

/** Reads blocks from..to of one node (index = height; entries below `from` stay undefined). */
export async function readChain (api: string, from: number, to: number, into: ChainBlock[] = []): Promise<ChainBlock[]> {
  for (let h = from; h <= to; h += WINDOW) {
    const heights = Array.from({ length: Math.min(WINDOW, to - h + 1) }, (_, i) => h + i)
    const blocks = await Promise.all(heights.map(async height => await getBlockJson(api, height, true)))
    blocks.forEach((json, i) => {
      if (json === undefined) throw new Error(`${api} has no block at height ${heights[i]}`)
      into[heights[i]] = { height: heights[i], hash: json.hash, timestamp: json.header.timestamp, messageIds: json.messageIds, bytes: encodedBytes(json) }
    })
  }
  return into
}

// An in-memory chain for network tests: a ChainImporter that validates with the real SPEC
// rules and a BlockSource over what it stored. Also builds signed test chains.
import { buildSignedBlock, GENESIS_BLOCK, GENESIS_HASH, signMessage } from '../../../src/shared/block.js'
import { copyBytes, toHex } from '../../../src/shared/bytes.js'
import { decodeBlock, decodeBlockHeader, encodeBlock } from '../../../src/shared/codec.js'
import { encodeStatus, networkId } from '../../../src/shared/status.js'
import { signingKeyFromSeed, type SigningKey } from '../../../src/shared/keys.js'
import { DEFAULT_PARAMS, type NetworkParams } from '../../../src/shared/params.js'
import { validateBlock, type ParentInfo } from '../../../src/shared/validation.js'
import type { BlockSource, ChainImporter } from '../../../src/main/network/types.js'

export const LEADER_KEY: SigningKey = signingKeyFromSeed(new Uint8Array(32).fill(7))
const USER_KEY: SigningKey = signingKeyFromSeed(new Uint8Array(32).fill(9))

/** Encoded, signed blocks for heights 1..count on top of genesis; every 10th carries a message. */
export function buildChain (count: number, key: SigningKey = LEADER_KEY): Uint8Array[] {
  const out: Uint8Array[] = []
  let prevHash = GENESIS_HASH
  const timestamp = Date.now()
  for (let height = 1; height <= count; height++) {
    const messages = height % 10 === 0 ? [signMessage(USER_KEY, { timestamp, nonce: height, content: new TextEncoder().encode(`m${height}`) })] : []
    const built = buildSignedBlock(key, { height, timestamp, prevHash, messages })
    out.push(encodeBlock(built.block))
    prevHash = built.hash
  }
  return out
}

/** The status answer (SPEC 5) of a node serving `source`: its network id and tip header. */
export function statusOf (source: BlockSource, leaderKey: Uint8Array = LEADER_KEY.publicKey): Uint8Array {
  const height = source.tipHeight()
  const [last] = height === 0 ? [] : source.getEncodedBlocks(height, 1, Number.MAX_SAFE_INTEGER)
  const decoded = last === undefined ? undefined : decodeBlockHeader(last)
  const tip = decoded?.ok === true ? decoded.value.header : GENESIS_BLOCK.header
  return encodeStatus({ networkId: networkId(leaderKey), tip })
}

export class MemoryChain implements ChainImporter, BlockSource {
  readonly blocks: Uint8Array[] = []
  private parent: ParentInfo = { height: 0, hash: GENESIS_HASH, timestamp: 0 }
  private readonly ids = new Set<string>()
  importCalls = 0

  constructor (private readonly leaderKey: Uint8Array = LEADER_KEY.publicKey, private readonly params: NetworkParams = DEFAULT_PARAMS) {}

  tipHeight (): number {
    return this.blocks.length
  }

  async importBlocks (blocks: Uint8Array[]): Promise<{ imported: number, error?: { code: string, reason: string } }> {
    this.importCalls++
    let imported = 0
    for (const bytes of blocks) {
      const decoded = decodeBlock(bytes)
      if (!decoded.ok) return { imported, error: { code: 'BLOCK_MALFORMED', reason: decoded.reason } }
      const rules = { params: this.params, leaderKey: this.leaderKey, now: Date.now() }
      const valid = validateBlock(decoded.value, bytes.byteLength, this.parent, rules, id => this.ids.has(toHex(id)))
      if (!valid.ok) return { imported, error: { code: valid.code, reason: valid.reason } }
      this.blocks.push(copyBytes(bytes))
      for (const id of valid.value.messageIds) this.ids.add(toHex(id))
      this.parent = { height: decoded.value.header.height, hash: valid.value.hash, timestamp: decoded.value.header.timestamp }
      imported++
    }
    return await Promise.resolve({ imported })
  }

  /** The status answer (SPEC 5) for this chain's tip: what a node holding it would say. */
  statusAnswer (): Uint8Array {
    return statusOf(this, this.leaderKey)
  }

  getEncodedBlocks (from: number, count: number, maxBytes: number): Uint8Array[] {
    const out: Uint8Array[] = []
    let bytes = 0
    for (let height = from; height < from + count && height <= this.blocks.length; height++) {
      const block = this.blocks[height - 1]
      if (out.length > 0 && bytes + block.byteLength > maxBytes) break
      out.push(block)
      bytes += block.byteLength
    }
    return out
  }
}

// This node's answer to /kimura/status/1.0.0 (SPEC 5): its network id and its stored tip
// header. Encoded once per tip, since peers ask on every new connection and after a stall.
import { toHex } from '../../shared/bytes.js'
import { decodeBlockHeader } from '../../shared/codec.js'
import { KimuraError } from '../../shared/errors.js'
import { encodeStatus, networkId } from '../../shared/status.js'
import type { ChainStore } from '../../shared/store/index.js'
import type { BlockHeader } from '../../shared/types.js'

export class StatusAnswer {
  private readonly networkId: Uint8Array
  private cached: { hash: string, bytes: Uint8Array } | undefined

  constructor (private readonly store: ChainStore, leaderKey: Uint8Array) {
    this.networkId = networkId(leaderKey)
  }

  current (): Uint8Array {
    const tip = this.store.tip()
    const hash = toHex(tip.hash)
    if (this.cached?.hash === hash) return this.cached.bytes
    const bytes = encodeStatus({ networkId: this.networkId, tip: this.headerAt(tip.height) })
    this.cached = { hash, bytes }
    return bytes
  }

  /** The stored header at `height`, or undefined when no block is stored there. */
  headerAt (height: number): BlockHeader {
    const encoded = this.store.blocks.getEncoded(height)
    const shape = encoded === undefined ? undefined : decodeBlockHeader(encoded)
    if (shape === undefined || !shape.ok) throw new KimuraError('ERR_STORE_CORRUPT', `the stored block ${height} does not decode`)
    return shape.value.header
  }
}

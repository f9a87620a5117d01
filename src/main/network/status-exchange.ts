// The status protocol /kimura/status/1.0.0 (SPEC 5): on a new connection each side asks the
// other for its network id and its tip header. A peer of another network, or one whose tip
// header is not signed by the leader, is disconnected; a verified tip goes into the PeerBook,
// which is what sync chooses peers by.
import { decode, encode } from 'it-length-prefixed'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { Logger } from 'pino'
import { GENESIS_HASH } from '../../shared/block.js'
import { bytesEqual, toHex } from '../../shared/bytes.js'
import { KimuraError, errorMessage } from '../../shared/errors.js'
import { blockHash } from '../../shared/hash.js'
import { decodeStatus } from '../../shared/status.js'
import type { BlockHeader } from '../../shared/types.js'
import { verifyHeaderSignature } from '../../shared/validation.js'
import type { VerifiedTip } from './peer-book.js'

export { STATUS_PROTOCOL } from '../../shared/status.js'

/** A status answer is about 200 bytes; anything much larger is not one. */
export const MAX_STATUS_BYTES = 1024
/** How long an asker waits for the answer. */
export const STATUS_TIMEOUT_MS = 5_000

export type StatusVerdict =
  | { ok: true, tip: VerifiedTip, header: BlockHeader }
  | { ok: false, code: 'WRONG_NETWORK' | 'BAD_TIP' | 'MALFORMED', reason: string }

/** Checks a status answer against this node's network id and leader key. */
export function checkStatus (bytes: Uint8Array, ownNetworkId: Uint8Array, leaderKey: Uint8Array): StatusVerdict {
  const decoded = decodeStatus(bytes)
  if (!decoded.ok) return { ok: false, code: 'MALFORMED', reason: decoded.reason }
  const { networkId, tip } = decoded.value
  if (!bytesEqual(networkId, ownNetworkId)) return { ok: false, code: 'WRONG_NETWORK', reason: 'the peer follows another network (its networkId differs)' }
  if (tip.height === 0) {
    const hash = blockHash(tip)
    if (!bytesEqual(hash, GENESIS_HASH)) return { ok: false, code: 'BAD_TIP', reason: 'a height-0 tip that is not the genesis block' }
    return { ok: true, tip: { height: 0, hash: toHex(hash) }, header: tip }
  }
  const signed = verifyHeaderSignature(tip, leaderKey)
  if (!signed.ok) return { ok: false, code: 'BAD_TIP', reason: `tip header: ${signed.reason}` }
  return { ok: true, tip: { height: tip.height, hash: toHex(signed.value) }, header: tip }
}

/** The answerer's side: writes the current status (encoded by the caller) and closes. */
export function createStatusHandler (answer: () => Uint8Array, logger: Logger): (stream: Stream, connection: Connection) => Promise<void> {
  return async (stream, connection) => {
    try {
      stream.send(encode.single(answer()))
      await stream.close({ signal: AbortSignal.timeout(STATUS_TIMEOUT_MS) })
    } catch (err) {
      logger.debug({ peer: connection.remotePeer.toString(), err: errorMessage(err) }, 'status answer failed')
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }
}

/** What askStatus needs from libp2p. */
export interface StatusDialer {
  dialProtocol (peer: PeerId, protocols: string, options?: { signal?: AbortSignal }): Promise<Stream>
}

/** The asker's side: the raw answer bytes, or ERR_SYNC when the peer does not answer in time. */
export async function askStatus (dialer: StatusDialer, peer: PeerId, protocol: string, signal?: AbortSignal): Promise<Uint8Array> {
  const timeout = AbortSignal.timeout(STATUS_TIMEOUT_MS)
  const combined = signal === undefined ? timeout : AbortSignal.any([timeout, signal])
  let stream: Stream | undefined
  try {
    stream = await dialer.dialProtocol(peer, protocol, { signal: combined })
    await stream.close({ signal: combined })
    for await (const frame of decode(stream, { maxDataLength: MAX_STATUS_BYTES })) {
      if (combined.aborted) break
      return frame.subarray()
    }
    throw new Error('the peer closed the stream without a status')
  } catch (err) {
    stream?.abort(err instanceof Error ? err : new Error(String(err)))
    throw new KimuraError('ERR_SYNC', `status request failed: ${combined.aborted ? 'timed out' : errorMessage(err)}`, { peer: peer.toString() }, { cause: err })
  }
}

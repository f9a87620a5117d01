// Waiting until messages are in blocks, by polling: the first id not yet seen is asked for
// (GET /v1/messages/{id}); once it is in a block, that block's ids settle every other message
// it holds. A batch submitted together lands in one or a few blocks, so a batch of 10,000
// costs a few requests per block, not one per message.
import { getBlock, getMessage, messageIdHex } from './api.js'
import { KimuraApiError, KimuraTimeoutError, KimuraTransportError } from './errors.js'
import { sleep } from './retry.js'
import type { Transport } from './transport.js'
import type { MessageIdInput } from './types.js'

export interface WaitOptions {
  /** How long to wait for all of them; 60 s unless given. */
  timeoutMs?: number
  /** The pause between two asks while the first pending message is not in a block; 250 ms unless given. */
  pollMs?: number
  signal?: AbortSignal
}

export interface Inclusion {
  id: string
  height: number
}

const DEFAULT_TIMEOUT_MS = 60_000
const DEFAULT_POLL_MS = 250

/**
 * Resolves with each message's block height, in the order of `ids`, once all are in blocks;
 * throws KimuraTimeoutError (naming those included and those not) after `timeoutMs`. A message
 * the node does not know (404, as on a peer before the block arrives) is waited for like a
 * pending one, and so is a node that cannot be reached or answers 503 for a while.
 */
export async function waitForInclusion (transport: Transport, ids: readonly MessageIdInput[], options: WaitOptions = {}): Promise<Inclusion[]> {
  const wanted = ids.map(messageIdHex)
  const heights = new Map<string, number>()
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const deadline = Date.now() + timeoutMs
  let next = 0
  while (next < wanted.length) {
    const id = wanted[next]
    if (heights.has(id)) {
      next++
      continue
    }
    if (await settle(transport, id, heights, options.signal)) continue
    const left = deadline - Date.now()
    if (left <= 0) {
      const included = wanted.filter(w => heights.has(w)).map(w => ({ id: w, height: heights.get(w) as number }))
      const pending = wanted.filter(w => !heights.has(w))
      throw new KimuraTimeoutError(`${pending.length} of ${wanted.length} messages not in a block after ${timeoutMs} ms`, included, pending)
    }
    await sleep(Math.min(options.pollMs ?? DEFAULT_POLL_MS, left), options.signal)
  }
  return wanted.map(id => ({ id, height: heights.get(id) as number }))
}

/**
 * Asks for `id`; when it is in a block, records the height of every message of that block and
 * answers true. Not yet (pending, unknown, or a node restarting or busy): false.
 */
async function settle (transport: Transport, id: string, heights: Map<string, number>, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    const { height } = await getMessage(transport, id, { signal })
    if (height === null) return false
    const block = await getBlock(transport, height, { signal })
    for (const included of block.messageIds) heights.set(included.toLowerCase(), height)
    // The message's own answer counts even if the block's list disagreed: the wait moves on.
    heights.set(id, height)
    return true
  } catch (err) {
    if (signal?.aborted === true) throw err
    if (err instanceof KimuraApiError && (err.code === 'MESSAGE_NOT_FOUND' || err.status === 503)) return false
    if (err instanceof KimuraTransportError && err.code !== 'BAD_RESPONSE') return false
    throw err
  }
}

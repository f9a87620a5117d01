// The one place an admission writes `pending`: the store refuses a batch whole when the pool
// would exceed --max-pending, or when the disk is full; both become result codes, since a
// thrown error loses its class on its way back to the main thread.
import { errorCode, errorMessage } from '../shared/errors.js'
import type { ChainStore, PendingAppend } from '../shared/store/index.js'
import type { PendingRefusal } from '../shared/thread-contract.js'

export type PendingAppendResult =
  | { ok: true, added: number }
  | { ok: false, code: PendingRefusal, reason: string }

/** Appends verified messages in one durable transaction; nothing is written on a refusal. */
export function appendPendingWithin (store: ChainStore, entries: readonly PendingAppend[], maxPending = Number.POSITIVE_INFINITY): PendingAppendResult {
  let appended
  try {
    appended = store.appendPending(entries, { maxPending })
  } catch (err) {
    if (errorCode(err) === 'ERR_STORAGE_FULL') return { ok: false, code: 'STORAGE_FULL', reason: `the node's disk is full; retry once space returns (${errorMessage(err)})` }
    throw err
  }
  if (!appended.ok) return { ok: false, code: appended.code, reason: appended.reason }
  return { ok: true, added: appended.outcomes.filter(o => o === 'added').length }
}

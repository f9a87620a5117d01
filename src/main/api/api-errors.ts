// Every error the HTTP API answers, with its status: the one table from code to status (SPEC 8).
// A handler names the code; the server writes the status and {"error": {code, message}}.
import type { SubmitErrorCode } from './backend.js'

export const API_ERROR_STATUS = {
  // The submission body and its messages (SPEC 8, section 2's rules).
  MALFORMED_JSON: 400,
  MALFORMED_MSGPACK: 400,
  INVALID_MESSAGE: 400,
  MESSAGE_MALFORMED: 400,
  MESSAGE_TOO_LARGE: 400,
  MESSAGE_BAD_SIGNATURE: 400,
  EMPTY_BATCH: 400,
  BODY_TOO_LARGE: 413,
  BATCH_TOO_LARGE: 413,
  // Capacity: retry later (or, NO_PEERS, submit to the leader).
  OVERLOADED: 503,
  /** SPEC 8: a node holds at most 1,000 event streams. */
  TOO_MANY_STREAMS: 503,
  POOL_FULL: 503,
  NO_PEERS: 503,
  STORAGE_FULL: 507,
  // Paths and methods.
  INVALID_HEIGHT: 400,
  INVALID_ID: 400,
  INVALID_LIMIT: 400,
  BAD_REQUEST: 400,
  NOT_FOUND: 404,
  BLOCK_NOT_FOUND: 404,
  MESSAGE_NOT_FOUND: 404,
  /** The message is pending: it has no inclusion proof yet. */
  MESSAGE_NOT_INCLUDED: 404,
  METHOD_NOT_ALLOWED: 405,
  INTERNAL: 500
} as const satisfies Record<SubmitErrorCode, number> & Record<string, number>

export type ApiErrorCode = keyof typeof API_ERROR_STATUS

/** An answer other than success, thrown by a route handler and written by the server. */
export class ApiError extends Error {
  constructor (readonly code: ApiErrorCode, message: string) {
    super(message)
    this.name = 'ApiError'
  }

  get status (): number {
    return API_ERROR_STATUS[this.code]
  }
}

export function errorBody (code: ApiErrorCode, message: string): string {
  return JSON.stringify({ error: { code, message } })
}

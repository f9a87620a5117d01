// What kimura/client throws. Each error has a stable `code`: the API's own code for an answer
// the node refused (KimuraApiError), or one of the client's for everything else.

export type TransportErrorCode =
  /** The request did not reach the node or its answer broke off (refused, reset, DNS, offline). */
  | 'UNREACHABLE'
  /** No answer within the request timeout. */
  | 'REQUEST_TIMEOUT'
  /** The node answered something that is not what SPEC 8 says it answers. */
  | 'BAD_RESPONSE'

export class KimuraClientError extends Error {
  readonly code: string
  /**
   * Set by submit() when it fails after the node admitted earlier parts of the batch: their
   * ids, in request order (the messages after them were not admitted). Empty otherwise.
   */
  acceptedIds: readonly string[] = []

  constructor (code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'KimuraClientError'
    this.code = code
  }
}

/** An error answer of the HTTP API: its status and `{"error": {code, message}}`. */
export class KimuraApiError extends KimuraClientError {
  readonly status: number
  /** The answer's Retry-After, in milliseconds, when it had one. */
  readonly retryAfterMs: number | undefined

  constructor (status: number, code: string, message: string, retryAfterMs?: number) {
    super(code, message)
    this.name = 'KimuraApiError'
    this.status = status
    this.retryAfterMs = retryAfterMs
  }
}

/** The node could not be reached, did not answer in time, or answered outside SPEC 8. */
export class KimuraTransportError extends KimuraClientError {
  declare readonly code: TransportErrorCode

  constructor (code: TransportErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
    this.name = 'KimuraTransportError'
  }
}

/** waitForInclusion() ran out of time: which messages are in blocks, which are not. */
export class KimuraTimeoutError extends KimuraClientError {
  declare readonly code: 'INCLUSION_TIMEOUT'

  constructor (message: string, readonly included: ReadonlyArray<{ id: string, height: number }>, readonly pending: readonly string[]) {
    super('INCLUSION_TIMEOUT', message)
    this.name = 'KimuraTimeoutError'
  }
}

// Typed errors for what does throw (I/O, configuration, programming errors). Each carries a
// stable `code`: logs and metrics use the code, never the message.

export type ErrorCode =
  | 'ERR_STORE_CORRUPT'
  | 'ERR_STORE_CLOSED'
  | 'ERR_STORE_CONFLICT'
  /** The store was written in a format version this code does not read. */
  | 'ERR_STORE_FORMAT'
  /** A write failed because the disk (or the LMDB map) holding the store is full; nothing was written. */
  | 'ERR_STORAGE_FULL'
  | 'ERR_KEY_FILE'
  | 'ERR_INVALID_CONFIG'
  | 'ERR_POOL_OVERLOADED'
  | 'ERR_POOL_STOPPED'
  | 'ERR_WORKER_TASK'
  | 'ERR_WORKER_DIED'
  | 'ERR_NETWORK_PUBLISH'
  | 'ERR_NETWORK_SUBSCRIBE'
  | 'ERR_NETWORK_DIAL'
  | 'ERR_NETWORK_START'
  | 'ERR_NETWORK_SERIALIZATION'
  | 'ERR_SYNC'

export class KimuraError extends Error {
  readonly code: ErrorCode
  readonly details: Readonly<Record<string, unknown>>

  constructor (code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'KimuraError'
    this.code = code
    this.details = details
  }
}

export function errorCode (err: unknown): string {
  if (err instanceof KimuraError) return err.code
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code
  return 'ERR_UNEXPECTED'
}

export function errorMessage (err: unknown): string {
  if (err instanceof Error) return err.message
  // libp2p's streams may reject with the DOM Event that ended them (an 'abort' or a 'close'),
  // whose String() is "[object Event]": say which event, or the error it carries.
  if (err instanceof Event) {
    const carried: unknown = (err as Event & { error?: unknown }).error
    return carried === undefined ? `an event of type '${err.type}'` : errorMessage(carried)
  }
  return String(err)
}

// Waiting between attempts: exponential backoff with jitter, and a sleep that an AbortSignal ends.

export interface BackoffOptions {
  /** The first wait; each next one doubles. */
  initialDelayMs?: number
  /** The longest wait. */
  maxDelayMs?: number
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { initialDelayMs: 200, maxDelayMs: 5_000 }

/**
 * The wait before retry number `attempt` (0 for the first retry): between half and all of
 * initial * 2^attempt, capped. The random half keeps many clients refused together from
 * coming back together.
 */
export function backoffDelay (attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialDelayMs ?? DEFAULT_BACKOFF.initialDelayMs
  const max = options.maxDelayMs ?? DEFAULT_BACKOFF.maxDelayMs
  const full = Math.min(max, initial * 2 ** Math.min(attempt, 30))
  return full / 2 + Math.random() * (full / 2)
}

/** Resolves after `ms`, or rejects with the signal's reason once it aborts. */
export async function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted === true) throw signal.reason
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer)
      // The signal's reason, as fetch rejects with it: an AbortError unless the caller gave one.
      reject(signal?.reason as Error)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

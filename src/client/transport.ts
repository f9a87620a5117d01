// The HTTP transport: one place that turns fetch's outcomes into kimura/client's errors.
// fetch, AbortController and Response only, so the same code runs in Node and in browsers.
import { KimuraApiError, KimuraTransportError } from './errors.js'

export type FetchFunction = (input: string, init?: RequestInit) => Promise<Response>

export interface TransportOptions {
  /** A fetch to use instead of the global one (a proxy agent, a test double). */
  fetch?: FetchFunction
  /** How long a request may wait for its answer; 30 s unless given. */
  timeoutMs?: number
  /** Headers sent with every request (an API gateway's token, say). */
  headers?: Record<string, string>
}

export interface TransportRequest {
  method?: 'GET' | 'POST'
  /** The path under the node's URL, starting with `/`. */
  path: string
  query?: Record<string, string | number | undefined>
  headers?: Record<string, string>
  body?: Uint8Array | string
  signal?: AbortSignal
  /** This request's timeout instead of the transport's. */
  timeoutMs?: number
}

export interface Transport {
  /** The node's base URL, without a trailing slash. */
  readonly url: string
  /** Sends the request and parses its JSON answer; an error answer throws KimuraApiError. */
  json: <T>(request: TransportRequest) => Promise<T>
  /**
   * Sends the request and returns the successful answer with its body unread (a stream). The
   * timeout covers the wait for the answer's headers only; abort `signal` to close the stream.
   */
  open: (request: TransportRequest) => Promise<Response>
}

const DEFAULT_TIMEOUT_MS = 30_000
const ERROR_TEXT_LIMIT = 200

/** The HTTP transport to the node at `url` (`http://127.0.0.1:8080`). */
export function httpTransport (url: string, options: TransportOptions = {}): Transport {
  const base = url.replace(/\/+$/, '')
  if (!/^https?:\/\/[^/]/i.test(base)) throw new TypeError(`a node URL starts with http:// or https://, got ${JSON.stringify(url)}`)
  const fetchFn: FetchFunction = options.fetch ?? (async (input, init) => await globalThis.fetch(input, init))
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS

  /**
   * Sends `request` and hands the successful answer to `read`. `streaming`: the answer's body
   * outlives this call, so the caller's signal stays linked to it after the headers came.
   */
  async function send<T> (request: TransportRequest, read: (response: Response) => Promise<T>, streaming: boolean): Promise<T> {
    const outer = request.signal
    if (outer?.aborted === true) throw outer.reason
    const controller = new AbortController()
    const onAbort = (): void => { controller.abort(outer?.reason) }
    outer?.addEventListener('abort', onAbort, { once: true })
    let timedOut = false
    const limit = request.timeoutMs ?? timeoutMs
    const timer = limit > 0 ? setTimeout(() => { timedOut = true; controller.abort() }, limit) : undefined
    const method = request.method ?? 'GET'
    const target = base + request.path + queryString(request.query)
    let linked = false
    try {
      const response = await fetchFn(target, {
        method,
        headers: { ...options.headers, ...request.headers },
        ...(request.body === undefined ? {} : { body: request.body }),
        signal: controller.signal
      })
      if (!response.ok) throw await apiError(response)
      const value = await read(response)
      linked = streaming
      return value
    } catch (err) {
      if (aborted(outer)) throw outer?.reason
      if (err instanceof KimuraApiError || err instanceof KimuraTransportError) throw err
      if (timedOut) throw new KimuraTransportError('REQUEST_TIMEOUT', `${method} ${target}: no answer within ${limit} ms`, { cause: err })
      throw new KimuraTransportError('UNREACHABLE', `${method} ${target}: ${reasonOf(err)}`, { cause: err })
    } finally {
      clearTimeout(timer)
      if (!linked) outer?.removeEventListener('abort', onAbort)
    }
  }

  return {
    url: base,
    json: async <T>(request: TransportRequest): Promise<T> => await send(request, async response => {
      const text = await response.text()
      try {
        return JSON.parse(text) as T
      } catch {
        throw new KimuraTransportError('BAD_RESPONSE', `${request.path}: the answer is not JSON: ${text.slice(0, ERROR_TEXT_LIMIT)}`)
      }
    }, false),
    open: async (request: TransportRequest): Promise<Response> => await send(request, async response => await Promise.resolve(response), true)
  }
}

/** Whether the signal aborted (a call, so that TypeScript does not narrow it from an earlier check). */
export function aborted (signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true
}

function queryString (query: TransportRequest['query']): string {
  if (query === undefined) return ''
  const parts: string[] = []
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`)
  }
  return parts.length === 0 ? '' : `?${parts.join('&')}`
}

/** fetch's failures name the real cause (ECONNREFUSED, ...) in `cause`. */
function reasonOf (err: unknown): string {
  const cause = err instanceof Error ? err.cause : undefined
  if (cause instanceof Error) return cause.message
  if (typeof cause === 'object' && cause !== null && 'code' in cause) return String(cause.code)
  return err instanceof Error ? err.message : String(err)
}

/** SPEC 8's `{"error": {code, message}}`, or the status and the start of whatever came instead. */
async function apiError (response: Response): Promise<KimuraApiError> {
  const text = await response.text().catch(() => '')
  const retryAfter = Number(response.headers.get('retry-after') ?? NaN)
  const retryAfterMs = Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : undefined
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown, message?: unknown } }
    const { code, message } = body.error ?? {}
    if (typeof code === 'string') return new KimuraApiError(response.status, code, typeof message === 'string' ? message : code, retryAfterMs)
  } catch {
    // Not the API's error body (a proxy's page, say): described below.
  }
  return new KimuraApiError(response.status, `HTTP_${response.status}`, text.slice(0, ERROR_TEXT_LIMIT) || response.statusText, retryAfterMs)
}

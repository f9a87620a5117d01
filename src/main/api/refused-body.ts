// A refused body (413) must still be read: a client such as Node's fetch that is still sending
// when the connection closes sees a reset (EPIPE, "fetch failed") instead of the answer. The
// answer goes out at once; the connection closes once the rest of the body has been read and
// dropped, or, past a bound in bytes or time, at once.
import type { IncomingMessage, ServerResponse } from 'node:http'

export interface DrainLimits {
  /** The most bytes read and dropped; a body declared longer is not read at all. */
  maxBytes: number
  /** The most time spent reading the rest. */
  maxMs: number
}

/**
 * Writes a complete answer (with `connection: close`) and ends the response, which closes the
 * connection, only after the rest of the request body has been read and dropped within `limits`.
 */
export function answerAndDrain (req: IncomingMessage, res: ServerResponse, status: number, body: string, limits: DrainLimits): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' })
  // The answer is whole on the wire; ending the response is what closes the connection.
  res.write(body)
  let received = 0
  let ended = false
  const end = (): void => {
    if (ended) return
    ended = true
    clearTimeout(timer)
    req.off('data', onData)
    res.end()
  }
  const onData = (chunk: Buffer): void => {
    received += chunk.byteLength
    if (received > limits.maxBytes) end()
  }
  const timer = setTimeout(end, limits.maxMs)
  const declared = Number(req.headers['content-length'])
  if (req.complete || declared > limits.maxBytes) {
    end()
    return
  }
  req.on('data', onData)
  req.once('end', end)
  req.once('close', end)
  req.resume()
}

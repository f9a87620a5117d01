// The read requests of SPEC 8, one plain function each over a transport (the client class
// wraps them). Arguments are checked here, so a bad height or id never becomes another path.
import { KimuraTransportError } from './errors.js'
import { bytesOf, toHex } from './hex.js'
import type { Transport } from './transport.js'
import type { BlockJson, MessageAnswer, MessageIdInput, ProofJson, StatusJson } from './types.js'

export interface RequestOptions {
  signal?: AbortSignal
}

/** The id as the API's path segment: lowercase hex. */
export function messageIdHex (id: MessageIdInput): string {
  const bytes = bytesOf(id, 32)
  if (bytes === undefined) throw new RangeError(`a message id is 32 bytes (64 hex characters), got ${typeof id === 'string' ? JSON.stringify(id) : `${id.length} bytes`}`)
  return toHex(bytes)
}

function checkHeight (height: number, what = 'a height'): void {
  if (!Number.isSafeInteger(height) || height < 0) throw new RangeError(`${what} is a non-negative safe integer, got ${height}`)
}

/** `GET /v1/status`. */
export async function getStatus (transport: Transport, options: RequestOptions = {}): Promise<StatusJson> {
  return await transport.json<StatusJson>({ path: '/v1/status', signal: options.signal })
}

export interface BlockOptions extends RequestOptions {
  /** Include the messages themselves, not only their ids. */
  messages?: boolean
}

/** `GET /v1/blocks/{height}` or `/v1/blocks/latest`; 404 BLOCK_NOT_FOUND throws. */
export async function getBlock (transport: Transport, height: number | 'latest', options: BlockOptions = {}): Promise<BlockJson> {
  if (height !== 'latest') checkHeight(height)
  return await transport.json<BlockJson>({
    path: `/v1/blocks/${height}`,
    query: { messages: options.messages === true ? 1 : undefined },
    signal: options.signal
  })
}

/** The most blocks one `GET /v1/blocks` answers (SPEC 8). */
export const MAX_BLOCKS_PER_PAGE = 100

/** `GET /v1/blocks?from&limit`: the stored blocks from `from` up, at most `limit` (1 to 100, 20 by default); [] above the tip. */
export async function getBlocks (transport: Transport, from: number, limit = 20, options: RequestOptions = {}): Promise<BlockJson[]> {
  checkHeight(from, '`from`')
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_BLOCKS_PER_PAGE) throw new RangeError(`\`limit\` is 1 to ${MAX_BLOCKS_PER_PAGE}, got ${limit}`)
  const answer = await transport.json<{ blocks?: unknown }>({ path: '/v1/blocks', query: { from, limit }, signal: options.signal })
  if (!Array.isArray(answer.blocks)) throw new KimuraTransportError('BAD_RESPONSE', 'GET /v1/blocks: the answer has no `blocks` array')
  return answer.blocks as BlockJson[]
}

/** `GET /v1/messages/{id}`: the message and its height (null while pending); 404 MESSAGE_NOT_FOUND throws. */
export async function getMessage (transport: Transport, id: MessageIdInput, options: RequestOptions = {}): Promise<MessageAnswer> {
  return await transport.json<MessageAnswer>({ path: `/v1/messages/${messageIdHex(id)}`, signal: options.signal })
}

/** `GET /v1/messages/{id}/proof`; 404 MESSAGE_NOT_FOUND or MESSAGE_NOT_INCLUDED (pending) throws. Check it with verifyInclusion. */
export async function getProof (transport: Transport, id: MessageIdInput, options: RequestOptions = {}): Promise<ProofJson> {
  return await transport.json<ProofJson>({ path: `/v1/messages/${messageIdHex(id)}/proof`, signal: options.signal })
}

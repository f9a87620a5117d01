// kimura/client: Kimura from code, in Node and in the browser. Nothing here imports a Node
// module: fetch, TextEncoder/TextDecoder, Uint8Array, and @noble's pure-JavaScript BLAKE3 and
// Ed25519. Node-only helpers (key files) are in kimura/client/node.
export { KimuraClient, type KimuraClientOptions } from './client.js'
export { getBlock, getBlocks, getMessage, getProof, getStatus, MAX_BLOCKS_PER_PAGE, type BlockOptions, type RequestOptions } from './api.js'
export { followEvents, type EventsOptions, type ReconnectInfo } from './events.js'
export { KimuraApiError, KimuraClientError, KimuraTimeoutError, KimuraTransportError, type TransportErrorCode } from './errors.js'
export { isStrictPublicKey, verifyStrict } from './ed25519.js'
export { blockHash, messageId } from './hash.js'
export { fromHex, toHex } from './hex.js'
export { encodeMessageBatch } from './msgpack.js'
export type { BackoffOptions } from './retry.js'
export { Sender, type SenderOptions, type SignOptions } from './sender.js'
export { SseParser, type SseEvent } from './sse.js'
export { DEFAULT_MAX_BATCH_MESSAGES, DEFAULT_MAX_BODY_BYTES, submitMessages, type RetryOptions, type SubmitFormat, type SubmitOptions } from './submit.js'
export { httpTransport, type FetchFunction, type Transport, type TransportOptions, type TransportRequest } from './transport.js'
export type { BlockJson, HeaderJson, Message, MessageAnswer, MessageIdInput, MessageJson, ProofJson, StatusJson } from './types.js'
export { rootFromAuditPath, verifyInclusion, type InclusionFailure, type InclusionVerdict } from './verify.js'
export { waitForInclusion, type Inclusion, type WaitOptions } from './wait.js'

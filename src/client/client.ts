// KimuraClient: the node's HTTP API (SPEC 8) as methods, over one transport. Each method is a
// plain function of api.ts, submit.ts, wait.ts or events.ts with the transport filled in.
import { getBlock, getBlocks, getMessage, getProof, getStatus, type BlockOptions, type RequestOptions } from './api.js'
import { followEvents, type EventsOptions } from './events.js'
import { submitMessages, type SubmitOptions } from './submit.js'
import { httpTransport, type Transport, type TransportOptions } from './transport.js'
import type { BlockJson, Message, MessageAnswer, MessageIdInput, ProofJson, StatusJson } from './types.js'
import { waitForInclusion, type Inclusion, type WaitOptions } from './wait.js'

export interface KimuraClientOptions extends TransportOptions {
  /** The node's API, as `http://127.0.0.1:8080`. */
  url: string
  /** Defaults for every submit() of this client. */
  submit?: Omit<SubmitOptions, 'signal'>
}

export class KimuraClient {
  readonly transport: Transport
  private readonly submitDefaults: Omit<SubmitOptions, 'signal'>

  constructor (options: KimuraClientOptions | string) {
    const { url, submit, ...transportOptions } = typeof options === 'string' ? { url: options } : options
    this.transport = httpTransport(url, transportOptions)
    this.submitDefaults = submit ?? {}
  }

  get url (): string {
    return this.transport.url
  }

  async status (options?: RequestOptions): Promise<StatusJson> {
    return await getStatus(this.transport, options)
  }

  /** A block by height, or the tip; `{ messages: true }` includes the messages. */
  async block (height: number | 'latest', options?: BlockOptions): Promise<BlockJson> {
    return await getBlock(this.transport, height, options)
  }

  /** Stored blocks from `from` up, at most `limit` (1 to 100, 20 by default), without messages. */
  async blocks (from: number, limit?: number, options?: RequestOptions): Promise<BlockJson[]> {
    return await getBlocks(this.transport, from, limit, options)
  }

  async message (id: MessageIdInput, options?: RequestOptions): Promise<MessageAnswer> {
    return await getMessage(this.transport, id, options)
  }

  /** The message's inclusion proof; check it with verifyInclusion against a pinned leader key. */
  async proof (id: MessageIdInput, options?: RequestOptions): Promise<ProofJson> {
    return await getProof(this.transport, id, options)
  }

  /** Submits signed messages (MessagePack unless `format: 'json'`); resolves with their ids in order. */
  async submit (messages: readonly Message[], options?: SubmitOptions): Promise<string[]> {
    return await submitMessages(this.transport, messages, { ...this.submitDefaults, ...options })
  }

  /** Resolves with each message's block height once all are in blocks. */
  async waitForInclusion (ids: readonly MessageIdInput[], options?: WaitOptions): Promise<Inclusion[]> {
    return await waitForInclusion(this.transport, ids, options)
  }

  /** The blocks the node stores, in order, each once, live: `for await (const block of client.events({ from }))`. */
  events (options?: EventsOptions): AsyncGenerator<BlockJson, void, undefined> {
    return followEvents(this.transport, options)
  }
}

// The load: signed messages at a steady rate, in one MessagePack batch per tick, sent in turn
// to the leader and the load peers. Every id a 202 acknowledged is recorded; refusals are
// counted by code. A batch that fails is not sent again: its messages are simply not
// acknowledged (if one was admitted all the same, the chain shows it as unacknowledged).
import { signMessage } from '../../src/shared/block.js'
import { toHex } from '../../src/shared/bytes.js'
import { encodeMessage, joinEncodedMessages } from '../../src/shared/codec.js'
import { messageId } from '../../src/shared/hash.js'
import { signingKeyFromSeed, type SigningKey } from '../../src/shared/keys.js'
import type { Rng } from './rng.js'
import type { TestnetNode } from './testnet-node.js'

const SENDERS = 16
const CONTENT_BYTES = 100
/** Batches waiting for an answer at once; past it a tick's messages wait for the next tick. */
const MAX_IN_FLIGHT = 8
const REQUEST_TIMEOUT_MS = 10_000

export interface LoadStats {
  /** Messages signed and sent (acknowledged or not). */
  sent: number
  acked: number
  /** Refused batches by answer (`503 NO_PEERS`, `error: fetch failed`, ...), in messages. */
  refused: Record<string, number>
  /** Acknowledged messages by target node. */
  ackedBy: Record<string, number>
}

export class LoadGenerator {
  /** Every acknowledged message id (hex), with the name of the node whose 202 acknowledged it. */
  readonly acked = new Map<string, string>()
  private readonly senders: SigningKey[]
  private readonly stats: LoadStats = { sent: 0, acked: 0, refused: {}, ackedBy: {} }
  private timer: NodeJS.Timeout | undefined
  private readonly inFlight = new Set<Promise<void>>()
  private startedAt = 0
  private nonce = 0
  private turn = 0

  constructor (private readonly targets: readonly TestnetNode[], private readonly perSecond: number, private readonly tickMs: number, private readonly rng: Rng) {
    this.senders = Array.from({ length: SENDERS }, () => signingKeyFromSeed(rng.bytes(32)))
  }

  start (): void {
    if (this.perSecond <= 0 || this.targets.length === 0) return
    this.startedAt = performance.now()
    this.timer = setInterval(() => { this.tick() }, this.tickMs)
  }

  /** Stops sending and waits for the answers still due. */
  async stop (): Promise<LoadStats> {
    clearInterval(this.timer)
    this.timer = undefined
    await Promise.all([...this.inFlight])
    return this.stats
  }

  private tick (): void {
    if (this.inFlight.size >= MAX_IN_FLIGHT) return
    // Catch up to the rate over the whole run, so a late tick does not lower it.
    const due = Math.floor(this.perSecond * (performance.now() - this.startedAt) / 1000) - this.stats.sent
    if (due <= 0) return
    const target = this.targets[this.turn++ % this.targets.length]
    const request = this.send(target, due).finally(() => { this.inFlight.delete(request) })
    this.inFlight.add(request)
  }

  private async send (target: TestnetNode, count: number): Promise<void> {
    const encoded: Uint8Array[] = []
    const ids: string[] = []
    for (let i = 0; i < count; i++) {
      const n = this.nonce++
      const content = this.rng.bytes(CONTENT_BYTES)
      const message = signMessage(this.senders[n % SENDERS], { timestamp: Date.now(), nonce: n, content })
      encoded.push(encodeMessage(message))
      ids.push(toHex(messageId(message)))
    }
    this.stats.sent += count
    let answer: string
    try {
      const res = await fetch(`${target.api}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/msgpack' },
        body: joinEncodedMessages(encoded),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS)
      })
      const text = await res.text()
      if (res.status === 202) {
        const body = JSON.parse(text) as { ids?: unknown }
        if (Array.isArray(body.ids) && body.ids.length === ids.length && body.ids.every((id, i) => id === ids[i])) {
          for (const id of ids) this.acked.set(id, target.name)
          this.stats.acked += count
          this.stats.ackedBy[target.name] = (this.stats.ackedBy[target.name] ?? 0) + count
          return
        }
        answer = '202 with other ids'
      } else {
        answer = `${res.status} ${errorCodeIn(text)}`.trim()
      }
    } catch (err) {
      answer = `error: ${err instanceof Error ? err.message : String(err)}`
    }
    this.stats.refused[answer] = (this.stats.refused[answer] ?? 0) + count
  }
}

/** The `error.code` of an error answer, or '' when the body is not one. */
function errorCodeIn (text: string): string {
  try {
    const code = (JSON.parse(text) as { error?: { code?: unknown } }).error?.code
    return typeof code === 'string' ? code : ''
  } catch {
    return ''
  }
}

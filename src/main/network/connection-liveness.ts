// Dead connections: a peer that stopped (SIGSTOP) or whose link went down leaves a connection
// that TCP keeps open for many minutes, and gossip sent into it is lost. Every `intervalMs`
// each connection is pinged with a Yamux PING frame (12 bytes each way, answered inside the
// other side's muxer); one that does not answer within `timeoutMs` is closed, and libp2p's
// keep-alive tags and PeerKeeper dial the peer again.
//
// Why not libp2p's connection monitor: its ping is a new stream each time (Yamux SYN and ACK,
// multistream-select, a peer-store update on both sides, 32 bytes each way, two closes), from
// both ends of every connection. With 5 idle nodes (2 s blocks) a peer used 1.33-1.77 % of a
// core with it and 0.75-1.24 % with Yamux pings (three runs; its main thread 0.98-1.25 %
// against 0.72-0.87 % in the first). Yamux's own keep-alive sends the same frame but never
// closes a connection that stops answering, so it is off and this does the pinging.
//
// A connection whose muxer has no ping (another muxer, or a later @libp2p/yamux) is pinged by
// the libp2p ping protocol instead, as the connection monitor did.
import type { Connection } from '@libp2p/interface'
import type { Logger } from 'pino'
import { errorMessage } from '../../shared/errors.js'

export interface ConnectionLivenessOptions {
  /** How often every connection is pinged. */
  intervalMs: number
  /** How long a ping may take before its connection is closed. */
  timeoutMs: number
}

export interface ConnectionLivenessModules {
  /** The node's open connections. */
  connections: () => Connection[]
  /** A ping by the libp2p ping protocol on `connection`, for a muxer that cannot ping. */
  protocolPing: (connection: Connection, signal: AbortSignal) => Promise<unknown>
  logger: Logger
}

/** The muxer ping of @libp2p/yamux 8 (not part of libp2p's Connection interface). */
interface MuxerPing { ping: (options: { signal: AbortSignal }) => Promise<number> }

export class ConnectionLiveness {
  private timer: NodeJS.Timeout | undefined
  private readonly checking = new WeakSet<Connection>()

  constructor (private readonly options: ConnectionLivenessOptions, private readonly modules: ConnectionLivenessModules) {}

  start (): void {
    this.timer ??= setInterval(() => { this.checkAll() }, this.options.intervalMs)
  }

  stop (): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }

  /** Pings every open connection once; closes those that do not answer in time. */
  checkAll (): void {
    for (const connection of this.modules.connections()) {
      if (connection.status !== 'open' || this.checking.has(connection)) continue
      this.checking.add(connection)
      void this.check(connection).finally(() => { this.checking.delete(connection) })
    }
  }

  private async check (connection: Connection): Promise<void> {
    const signal = AbortSignal.timeout(this.options.timeoutMs)
    try {
      const muxer = muxerPing(connection)
      await (muxer === undefined ? this.modules.protocolPing(connection, signal) : muxer.ping({ signal }))
    } catch (err) {
      if (connection.status !== 'open') return
      const reason = signal.aborted ? `no answer to a ping within ${this.options.timeoutMs} ms` : `ping failed: ${errorMessage(err)}`
      this.modules.logger.info({ peer: connection.remotePeer.toString(), reason }, 'closing a connection that does not answer')
      connection.abort(new Error(reason))
    }
  }
}

function muxerPing (connection: Connection): MuxerPing | undefined {
  const muxer = (connection as unknown as { muxer?: Partial<MuxerPing> }).muxer
  return typeof muxer?.ping === 'function' ? muxer as MuxerPing : undefined
}

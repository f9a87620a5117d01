// Catches the local chain up with a peer over /kimura/sync/1.0.0: asks for tip+1.. in batches,
// keeps the next request in flight while the current batch is imported, and stops when a
// response comes back empty (caught up). Triggers coalesce: one running round plus at most
// one queued re-run.
import { EventEmitter } from 'node:events'
import type { Logger } from 'pino'
import { errorCode, errorMessage } from '../../shared/errors.js'
import { MAX_RESPONSE_BLOCKS } from './sync-protocol.js'
import type { ChainImporter, PeerEvent, SyncNetwork } from './types.js'

export interface SyncClientModules {
  network: SyncNetwork
  importer: ChainImporter
  logger: Logger
}

export interface SyncClientOptions {
  /** Blocks asked for per request; servers cap it at MAX_RESPONSE_BLOCKS anyway. */
  batchSize: number
  /** After a round fails on transport errors, retry after this delay, doubling up to retryMaxMs. */
  retryMinMs: number
  retryMaxMs: number
}

export const DEFAULT_SYNC_CLIENT_OPTIONS: Readonly<SyncClientOptions> = Object.freeze({
  batchSize: MAX_RESPONSE_BLOCKS,
  retryMinMs: 1_000,
  retryMaxMs: 30_000
})

/**
 * synced: a peer answered empty (caught up); invalid: a peer sent a block the importer refused
 * (the round stops, nothing is retried until the next trigger); failed: requests failed on every
 * peer, or the import threw (retried later with backoff); no-peers: nobody to ask.
 */
export type SyncStatus = 'synced' | 'invalid' | 'failed' | 'no-peers' | 'stopped'

export interface SyncResult {
  status: SyncStatus
  /** First height asked for. */
  from: number
  /** Local tip height when the round ended. */
  to: number
  imported: number
  ms: number
  /** The peer the round ended with. */
  peer?: string
  error?: { code: string, reason: string }
}

export interface SyncProgress {
  peer: string
  /** Blocks imported so far in this round. */
  imported: number
  height: number
}

export interface SyncClientEvents {
  progress: [SyncProgress]
  done: [SyncResult]
}

type Fetched = { ok: true, blocks: Uint8Array[] } | { ok: false, error: { code: string, reason: string } }

interface PeerOutcome {
  status: Exclude<SyncStatus, 'no-peers'>
  imported: number
  error?: { code: string, reason: string }
  /** false when the failure was local (the importer threw): asking another peer will not help. */
  tryNextPeer?: boolean
}

interface Deferred {
  promise: Promise<SyncResult>
  resolve: (result: SyncResult) => void
}

export class SyncClient extends EventEmitter<SyncClientEvents> {
  private readonly options: SyncClientOptions
  private readonly network: SyncNetwork
  private readonly importer: ChainImporter
  private readonly log: Logger
  private controller: AbortController | undefined
  private current: Promise<SyncResult> | undefined
  private queued: Deferred | undefined
  private retryTimer: NodeJS.Timeout | undefined
  private failedRounds = 0
  private readonly onLeaderConnected = (_event: PeerEvent): void => { void this.requestSync() }

  constructor (modules: SyncClientModules, options: Partial<SyncClientOptions> = {}) {
    super()
    this.network = modules.network
    this.importer = modules.importer
    this.log = modules.logger
    this.options = { ...DEFAULT_SYNC_CLIENT_OPTIONS, ...options }
  }

  start (): void {
    if (this.controller !== undefined) return
    this.controller = new AbortController()
    this.network.on('leader:connected', this.onLeaderConnected)
    void this.requestSync()
  }

  async stop (): Promise<void> {
    const controller = this.controller
    if (controller === undefined) return
    this.controller = undefined
    this.network.off('leader:connected', this.onLeaderConnected)
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    controller.abort()
    await this.current
  }

  /** Runs a sync round, or queues one re-run if a round is running; never rejects. */
  async requestSync (): Promise<SyncResult> {
    const controller = this.controller
    if (controller === undefined) {
      const tip = this.importer.tipHeight()
      return { status: 'stopped', from: tip + 1, to: tip, imported: 0, ms: 0 }
    }
    if (this.current === undefined) {
      const round = this.runRound(controller.signal).finally(() => {
        this.current = undefined
        this.startQueued()
      })
      this.current = round
      return await round
    }
    if (this.queued === undefined) {
      let resolve!: (result: SyncResult) => void
      const promise = new Promise<SyncResult>(res => { resolve = res })
      this.queued = { promise, resolve }
    }
    return await this.queued.promise
  }

  private startQueued (): void {
    const queued = this.queued
    if (queued === undefined) return
    this.queued = undefined
    void this.requestSync().then(queued.resolve)
  }

  private async runRound (signal: AbortSignal): Promise<SyncResult> {
    const startedAt = Date.now()
    const from = this.importer.tipHeight() + 1
    const peers = this.network.syncPeers()
    let result: SyncResult
    if (peers.length === 0) {
      result = { status: 'no-peers', from, to: from - 1, imported: 0, ms: 0 }
    } else {
      let imported = 0
      let last: PeerOutcome = { status: 'failed', imported: 0 }
      let lastPeer = peers[0]
      for (const peer of peers) {
        lastPeer = peer
        last = await this.syncFrom(peer, signal)
        imported += last.imported
        if (last.status !== 'failed' || last.tryNextPeer === false || signal.aborted) break
        this.log.debug({ peer, code: last.error?.code, reason: last.error?.reason }, 'sync from peer failed')
      }
      const status = signal.aborted ? 'stopped' : last.status
      result = { status, from, to: this.importer.tipHeight(), imported, ms: Date.now() - startedAt, peer: lastPeer, error: last.error }
    }
    this.report(result)
    return result
  }

  /** Syncs from one peer until it answers empty, a request fails, or a block is refused. */
  private async syncFrom (peer: string, signal: AbortSignal): Promise<PeerOutcome> {
    let imported = 0
    let from = this.importer.tipHeight() + 1
    let pending = this.fetch(peer, from, signal)
    for (;;) {
      const fetched = await pending
      if (!fetched.ok) return { status: signal.aborted ? 'stopped' : 'failed', imported, error: fetched.error }
      const blocks = fetched.blocks
      if (blocks.length === 0) return { status: 'synced', imported }

      // Pipelining: the next range is on its way while this batch is validated and stored.
      const nextFrom = from + blocks.length
      const nextController = new AbortController()
      const next = this.fetch(peer, nextFrom, AbortSignal.any([signal, nextController.signal]))

      // Blocks that arrived meanwhile by gossip are skipped, not imported twice.
      const fresh = blocks.slice(Math.max(0, this.importer.tipHeight() + 1 - from))
      if (fresh.length > 0) {
        let outcome: Awaited<ReturnType<ChainImporter['importBlocks']>>
        try {
          outcome = await this.importer.importBlocks(fresh)
        } catch (err) {
          nextController.abort()
          return { status: 'failed', imported, error: { code: errorCode(err), reason: errorMessage(err) }, tryNextPeer: false }
        }
        imported += outcome.imported
        const progress: SyncProgress = { peer, imported, height: this.importer.tipHeight() }
        this.safely('progress', () => this.emit('progress', progress))
        if (outcome.error !== undefined || outcome.imported + (outcome.known ?? 0) < fresh.length) {
          nextController.abort()
          const error = outcome.error ?? { code: 'SYNC_INCOMPLETE_IMPORT', reason: `imported ${outcome.imported} of ${fresh.length} blocks (${outcome.known ?? 0} already stored)` }
          return { status: 'invalid', imported, error }
        }
      }
      if (signal.aborted) {
        nextController.abort()
        return { status: 'stopped', imported }
      }
      from = nextFrom
      pending = next
    }
  }

  /** One request as a result value, so an in-flight request never rejects unobserved. */
  private async fetch (peer: string, from: number, signal: AbortSignal): Promise<Fetched> {
    try {
      return { ok: true, blocks: await this.network.requestBlocks(peer, from, this.options.batchSize, signal) }
    } catch (err) {
      return { ok: false, error: { code: errorCode(err), reason: errorMessage(err) } }
    }
  }

  private report (result: SyncResult): void {
    const line = { status: result.status, from: result.from, to: result.to, blocks: result.imported, ms: result.ms, peer: result.peer }
    switch (result.status) {
      case 'synced':
        this.failedRounds = 0
        if (result.imported > 0) this.log.info(line, 'sync complete')
        else this.log.debug(line, 'sync: already caught up')
        break
      case 'invalid':
        this.failedRounds = 0
        this.log.warn({ ...line, code: result.error?.code, reason: result.error?.reason }, 'sync stopped: peer sent an invalid block')
        break
      case 'failed':
        this.log.warn({ ...line, code: result.error?.code, reason: result.error?.reason }, 'sync failed')
        this.scheduleRetry()
        break
      case 'no-peers':
        this.log.debug('sync: no connected peer to ask')
        break
      case 'stopped':
        break
    }
    this.safely('done', () => this.emit('done', result))
  }

  /** A throwing listener must not break a sync round. */
  private safely (event: keyof SyncClientEvents, emit: () => void): void {
    try {
      emit()
    } catch (err) {
      this.log.debug({ event, err: errorMessage(err) }, 'sync event listener threw')
    }
  }

  /** A failed round is retried with backoff; a successful trigger meanwhile makes it moot. */
  private scheduleRetry (): void {
    if (this.controller === undefined || this.retryTimer !== undefined) return
    const delay = Math.min(this.options.retryMaxMs, this.options.retryMinMs * 2 ** Math.min(this.failedRounds, 20))
    this.failedRounds++
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      void this.requestSync()
    }, delay)
  }
}

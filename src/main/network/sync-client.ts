// Catches the local chain up over /kimura/sync/1.0.0 from whichever connected peer proved (by
// a leader-signed status tip) that it is ahead: asks for tip+1.. in batches, keeps the next
// request in flight while the current batch is imported, and stops when it holds the highest
// tip its peers proved, or when a response comes back empty (caught up). Past that tip, blocks
// are new ones that gossip brings: a node slow to keep up (a loaded machine) would otherwise
// fetch each of them a second time, for as long as it stays a block behind. A peer that fails
// or serves a refused block moves down the list and the round goes on with the next. Triggers
// coalesce: one running round plus at most one queued re-run. A node that stores no block for
// `stallMs` asks its peers for their status again.
import type { Logger } from 'pino'
import { errorCode, errorMessage } from '../../shared/errors.js'
import { MAX_RESPONSE_BLOCKS } from './sync-protocol.js'
import type { ChainImporter, PeerStatusEvent, SyncNetwork } from './types.js'

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
  /**
   * No block stored for this long (SPEC 5: two block intervals): ask the peers for their status
   * again, which starts a sync if one of them is ahead. 0 turns the watch off.
   */
  stallMs: number
}

export const DEFAULT_SYNC_CLIENT_OPTIONS: Readonly<SyncClientOptions> = Object.freeze({
  batchSize: MAX_RESPONSE_BLOCKS,
  retryMinMs: 1_000,
  retryMaxMs: 30_000,
  stallMs: 10_000
})

/**
 * synced: a peer answered empty (caught up); invalid: every peer that was asked sent a block the
 * importer refused; failed: requests failed on every peer, or the import threw (retried later
 * with backoff); no-peers: no connected peer is known to be ahead.
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

/** Import failures that are this node's own state (a full disk, a halt), not the peer's blocks. */
const LOCAL_IMPORT_FAILURES = new Set(['STORAGE_FULL', 'HALTED'])

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

export class SyncClient {
  private readonly options: SyncClientOptions
  private readonly network: SyncNetwork
  private readonly importer: ChainImporter
  private readonly log: Logger
  private controller: AbortController | undefined
  private current: Promise<SyncResult> | undefined
  private queued: Deferred | undefined
  private retryTimer: NodeJS.Timeout | undefined
  private stallTimer: NodeJS.Timeout | undefined
  private heightAtLastWatch = -1
  private failedRounds = 0
  private readonly onPeerStatus = (event: PeerStatusEvent): void => {
    if (event.tip.height > this.importer.tipHeight()) void this.requestSync()
  }

  constructor (modules: SyncClientModules, options: Partial<SyncClientOptions> = {}) {
    this.network = modules.network
    this.importer = modules.importer
    this.log = modules.logger
    this.options = { ...DEFAULT_SYNC_CLIENT_OPTIONS, ...options }
  }

  start (): void {
    if (this.controller !== undefined) return
    this.controller = new AbortController()
    this.network.on('peer:status', this.onPeerStatus)
    if (this.options.stallMs > 0) this.stallTimer = setInterval(() => { this.watchStall() }, this.options.stallMs)
    void this.requestSync()
  }

  async stop (): Promise<void> {
    const controller = this.controller
    if (controller === undefined) return
    this.controller = undefined
    this.network.off('peer:status', this.onPeerStatus)
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer)
    if (this.stallTimer !== undefined) clearInterval(this.stallTimer)
    this.retryTimer = undefined
    this.stallTimer = undefined
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

  /** Heard no block since the last watch: the peers may be ahead without gossip reaching us. */
  private watchStall (): void {
    const height = this.importer.tipHeight()
    const stalled = height === this.heightAtLastWatch && this.current === undefined
    this.heightAtLastWatch = height
    if (!stalled) return
    this.log.debug({ height }, 'no block stored for two intervals: asking peers for their status')
    this.network.refreshStatuses().catch((err: unknown) => { this.log.debug({ err: errorMessage(err) }, 'status refresh failed') })
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
    const tried = new Set<string>()
    // The next peer to ask: the best one still ahead of the local tip, not yet asked this round.
    const nextPeer = (): string | undefined => this.network.syncPeers(this.importer.tipHeight()).find(p => !tried.has(p))
    let peer = nextPeer()
    if (peer === undefined) {
      const result: SyncResult = { status: 'no-peers', from, to: from - 1, imported: 0, ms: 0 }
      this.report(result)
      return result
    }
    let imported = 0
    let last: PeerOutcome = { status: 'failed', imported: 0 }
    let lastPeer = peer
    while (peer !== undefined) {
      tried.add(peer)
      lastPeer = peer
      last = await this.syncFrom(peer, signal)
      imported += last.imported
      if (last.status === 'synced') this.network.reportSyncSuccess(peer)
      if (last.status === 'synced' || last.status === 'stopped' || last.tryNextPeer === false || signal.aborted) break
      // Failed or refused: this peer goes down the list, and the next one is asked.
      this.network.reportSyncFailure(peer)
      this.log.debug({ peer, status: last.status, code: last.error?.code, reason: last.error?.reason }, 'sync from peer did not complete')
      peer = nextPeer()
    }
    const status = signal.aborted ? 'stopped' : last.status
    const result: SyncResult = { status, from, to: this.importer.tipHeight(), imported, ms: Date.now() - startedAt, peer: lastPeer, ...(last.error === undefined ? {} : { error: last.error }) }
    this.report(result)
    return result
  }

  /**
   * Syncs from one peer until this node holds the highest proved tip, the peer answers empty,
   * a request fails, or a block is refused.
   */
  private async syncFrom (peer: string, signal: AbortSignal): Promise<PeerOutcome> {
    let imported = 0
    let from = this.importer.tipHeight() + 1
    const target = this.network.highestPeerTip()?.height ?? Infinity
    let pending = this.fetch(peer, from, signal)
    for (;;) {
      const fetched = await pending
      if (!fetched.ok) return { status: signal.aborted ? 'stopped' : 'failed', imported, error: fetched.error }
      const blocks = fetched.blocks
      if (blocks.length === 0) return { status: 'synced', imported }

      // Pipelining: the next range is on its way while this batch is validated and stored, as
      // long as it starts at or below the target.
      const nextFrom = from + blocks.length
      const nextController = new AbortController()
      const next = nextFrom <= target ? this.fetch(peer, nextFrom, AbortSignal.any([signal, nextController.signal])) : undefined

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
        if (outcome.error !== undefined && LOCAL_IMPORT_FAILURES.has(outcome.error.code)) {
          // The blocks may be fine: this node cannot store them now. Another peer will not help.
          nextController.abort()
          return { status: 'failed', imported, error: outcome.error, tryNextPeer: false }
        }
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
      // No next request: this batch reached the target, and it is stored in full.
      if (next === undefined || this.importer.tipHeight() >= target) {
        nextController.abort()
        return { status: 'synced', imported }
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
        this.log.warn({ ...line, code: result.error?.code, reason: result.error?.reason }, 'sync stopped: the peers sent invalid blocks')
        break
      case 'failed':
        this.log.warn({ ...line, code: result.error?.code, reason: result.error?.reason }, 'sync failed')
        this.scheduleRetry()
        break
      case 'no-peers':
        this.log.debug('sync: no connected peer is known to be ahead')
        break
      case 'stopped':
        break
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

// The node's configuration, as the command line (SPEC section 7) resolves it.
import { join, resolve } from 'node:path'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { fromHex } from '../shared/bytes.js'
import { KimuraError } from '../shared/errors.js'
import { isValidPublicKey } from '../shared/keys.js'
import { DEFAULT_PARAMS, type NetworkParams } from '../shared/params.js'

export type Role = 'leader' | 'peer'
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error']
export type LogFormat = 'pretty' | 'json'
export const LOG_FORMATS: readonly LogFormat[] = ['pretty', 'json']

/** SPEC 7: --max-pending's default. */
export const DEFAULT_MAX_PENDING = 1_000_000

/**
 * How often the event-loop delay (`kimura_nodejs_eventloop_lag_*`) is sampled, ms. Each
 * sample is a libuv timer that wakes the main thread: every 10 ms, prom-client's usual
 * precision, was a third of an idle node's CPU (100 wakeups a second, about 0.6 % of a core
 * of 1.6 to 2.3 %). Every 100 ms still catches every stall over 100 ms and a shorter one in
 * proportion to its length; `--event-loop-resolution-ms 10` samples as finely as before (the
 * e2e and soak benchmarks' leaders do, so their p99 figures compare with earlier runs).
 */
export const DEFAULT_EVENT_LOOP_RESOLUTION_MS = 100

/**
 * --worker-nice's default: 0, the worker threads run as the main thread. A nice value orders
 * the worker threads below every other thread of the same scheduling group, not only below
 * their own main thread: on a machine shared with other busy processes they starve. The
 * 20-node testnet (20 nodes on 2 cores) broke with 10: the leader's pool, behind 19 peers' main
 * threads, answered its API too late for the runner to read the chain. On a machine of its
 * own, 10 lets the main thread go first (src/workers/thread-priority.ts has the figures).
 */
export const DEFAULT_WORKER_NICE = 0

export interface ApiAddress {
  host: string
  port: number
}

export interface NodeConfig {
  role: Role
  dataDir: string
  listen: string[]
  /** null: the HTTP API is off. */
  api: ApiAddress | null
  /** Leader: its signing key file. */
  keyFile: string
  /** Where to dial the leader, ending in /p2p/<peer id> (a peer: required unless --peers is given). */
  leaderAddr?: string
  /** Other nodes to dial and keep connected to (--peers), each ending in /p2p/<peer id>. */
  peers: string[]
  /** The addresses other nodes are told to dial (--announce); the listen addresses when absent. */
  announce?: string[]
  /** Peer: the leader's public key. (A leader's is its own signing key's.) */
  leaderKey?: Uint8Array
  params: NetworkParams
  logLevel: LogLevel
  logFormat: LogFormat
  /** Worker threads in the pool. */
  threads?: number
  /** How often the event-loop delay metrics sample, ms (metrics.ts has the default and why). */
  eventLoopResolutionMs?: number
  /** The nice value (0 to 19) the worker threads lower themselves to, on Linux. */
  workerNice: number
  /** Leader: the most messages `pending` holds; a submission beyond it is refused whole (SPEC 7). */
  maxPending: number
  /**
   * --allow-peers: the only libp2p peer ids this node connects with, the leader's (from
   * --leader-addr) included; undefined lets anyone connect.
   */
  allowPeers?: string[]
}

/** The raw option values, as strings, from flags or KIMURA_* variables. */
export interface RawOptions {
  leader?: boolean
  db: string
  listen: string
  api: string
  key?: string
  leaderAddr?: string
  leaderKey?: string
  peers?: string
  announce?: string
  blockIntervalMs: string
  logLevel: string
  /** Unset: pretty on a terminal, JSON otherwise. */
  logFormat?: string
  threads?: string
  eventLoopResolutionMs?: string
  workerNice: string
  maxPending: string
  allowPeers?: string
}

function invalid (message: string): never {
  throw new KimuraError('ERR_INVALID_CONFIG', message)
}

export function parseApiAddress (text: string): ApiAddress | null {
  if (text === 'off') return null
  const match = /^(.+):(\d{1,5})$/.exec(text)
  const port = match === null ? NaN : Number(match[2])
  if (match === null || port > 65535) invalid(`--api must be HOST:PORT or off, got "${text}"`)
  return { host: (match[1]).replace(/^\[(.*)\]$/, '$1'), port }
}

function parseMultiaddr (text: string, option: string): string {
  try {
    return multiaddr(text).toString()
  } catch {
    return invalid(`${option} is not a multiaddr: "${text}"`)
  }
}

function parsePositiveInt (text: string, option: string, min: number, max: number): number {
  const value = Number(text)
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) invalid(`${option} must be an integer from ${min} to ${max}, got "${text}"`)
  return value
}

export function resolveConfig (raw: RawOptions): NodeConfig {
  const role: Role = raw.leader === true ? 'leader' : 'peer'
  const dataDir = resolve(raw.db)
  const logLevel = raw.logLevel as LogLevel
  if (!LOG_LEVELS.includes(logLevel)) invalid(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${raw.logLevel}"`)
  const logFormat = (raw.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json')) as LogFormat
  if (!LOG_FORMATS.includes(logFormat)) invalid(`--log-format must be one of ${LOG_FORMATS.join(', ')}, got "${raw.logFormat}"`)
  const config: NodeConfig = {
    role,
    dataDir,
    listen: raw.listen.split(',').map(a => parseMultiaddr(a.trim(), '--listen')),
    api: parseApiAddress(raw.api),
    keyFile: resolve(raw.key ?? join(dataDir, 'leader.key')),
    params: { ...DEFAULT_PARAMS, blockIntervalMs: parsePositiveInt(raw.blockIntervalMs, '--block-interval-ms', 10, 3_600_000) },
    maxPending: parsePositiveInt(raw.maxPending, '--max-pending', 1, Number.MAX_SAFE_INTEGER),
    workerNice: parsePositiveInt(raw.workerNice, '--worker-nice', 0, 19),
    peers: raw.peers === undefined ? [] : parsePeerAddrs(raw.peers, '--peers'),
    logLevel,
    logFormat
  }
  if (raw.threads !== undefined) config.threads = parsePositiveInt(raw.threads, '--threads', 1, 64)
  if (raw.eventLoopResolutionMs !== undefined) config.eventLoopResolutionMs = parsePositiveInt(raw.eventLoopResolutionMs, '--event-loop-resolution-ms', 1, 60_000)
  if (raw.allowPeers !== undefined) config.allowPeers = parsePeerIds(raw.allowPeers, '--allow-peers')
  if (raw.announce !== undefined) config.announce = raw.announce.split(',').map(a => parseMultiaddr(a.trim(), '--announce'))
  if (role === 'peer') {
    if (raw.leaderAddr === undefined && config.peers.length === 0) invalid('a peer needs --leader-addr (the leader prints it on start) or --peers; use --leader to run a leader')
    if (raw.leaderKey === undefined) invalid('a peer needs --leader-key (the leader prints it on start)')
    if (raw.leaderAddr !== undefined) [config.leaderAddr] = parsePeerAddrs(raw.leaderAddr, '--leader-addr')
    config.leaderKey = fromHex(raw.leaderKey, 32) ?? invalid('--leader-key must be 64 hex characters (a 32-byte public key)')
    if (!isValidPublicKey(config.leaderKey)) invalid(`--leader-key ${raw.leaderKey} is not a valid Ed25519 public key (not a canonical point of the prime-order subgroup: small-order, mixed-order, non-canonical or off the curve; SPEC 1); copy the key the leader prints on start`)
  }
  if (config.allowPeers !== undefined) {
    // The configured nodes are always allowed: --leader-addr and --peers name them by peer id.
    for (const addr of [...(config.leaderAddr === undefined ? [] : [config.leaderAddr]), ...config.peers]) {
      const id = peerIdOf(addr)
      if (id !== undefined && !config.allowPeers.includes(id)) config.allowPeers.push(id)
    }
  }
  return config
}

/** Comma-separated multiaddrs, each ending in /p2p/<peer id> (so the peer can be authenticated). */
function parsePeerAddrs (text: string, option: string): string[] {
  const addrs = text.split(',').map(s => s.trim()).filter(s => s !== '').map(a => parseMultiaddr(a, option))
  if (addrs.length === 0) invalid(`${option} needs at least one multiaddr`)
  for (const addr of addrs) {
    const id = peerIdOf(addr)
    if (id === undefined) invalid(`${option}: "${addr}" must end in /p2p/<peer id> (a node prints its address with it on start and in /v1/status)`)
    try {
      peerIdFromString(id)
    } catch {
      invalid(`${option}: "${addr}" does not end in a valid peer id`)
    }
  }
  return [...new Set(addrs)]
}

function parsePeerIds (text: string, option: string): string[] {
  const ids = text.split(',').map(s => s.trim()).filter(s => s !== '')
  if (ids.length === 0) invalid(`${option} needs at least one peer id`)
  for (const id of ids) {
    try {
      peerIdFromString(id)
    } catch {
      invalid(`${option}: "${id}" is not a libp2p peer id (12D3KooW...; a node prints its own on start and in /v1/status)`)
    }
  }
  return [...new Set(ids)]
}

/** The peer id a multiaddr ends in (/p2p/<id>), if any. */
function peerIdOf (addr: string): string | undefined {
  return multiaddr(addr).getComponents().findLast(c => c.name === 'p2p')?.value
}

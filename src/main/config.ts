// The node's configuration, as the command line (SPEC section 7) resolves it.
import { join, resolve } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { fromHex } from '../shared/bytes.js'
import { KimuraError } from '../shared/errors.js'
import { isValidPublicKey } from '../shared/keys.js'
import { DEFAULT_PARAMS, type NetworkParams } from '../shared/params.js'

export type Role = 'leader' | 'peer'
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error']

/** SPEC 7: --max-pending's default. */
export const DEFAULT_MAX_PENDING = 1_000_000

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
  /** Peer: the leader's multiaddr, ending in /p2p/<peer id>. */
  leaderAddr?: string
  /** Peer: the leader's public key. (A leader's is its own signing key's.) */
  leaderKey?: Uint8Array
  params: NetworkParams
  logLevel: LogLevel
  /** Worker threads in the pool. */
  threads?: number
  /** Leader: the most messages `pending` holds; a submission beyond it is refused whole (SPEC 7). */
  maxPending: number
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
  blockIntervalMs: string
  logLevel: string
  threads?: string
  maxPending: string
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
  const config: NodeConfig = {
    role,
    dataDir,
    listen: raw.listen.split(',').map(a => parseMultiaddr(a.trim(), '--listen')),
    api: parseApiAddress(raw.api),
    keyFile: resolve(raw.key ?? join(dataDir, 'leader.key')),
    params: { ...DEFAULT_PARAMS, blockIntervalMs: parsePositiveInt(raw.blockIntervalMs, '--block-interval-ms', 10, 3_600_000) },
    maxPending: parsePositiveInt(raw.maxPending, '--max-pending', 1, Number.MAX_SAFE_INTEGER),
    logLevel
  }
  if (raw.threads !== undefined) config.threads = parsePositiveInt(raw.threads, '--threads', 1, 64)
  if (role === 'peer') {
    if (raw.leaderAddr === undefined) invalid('a peer needs --leader-addr (the leader prints it on start); use --leader to run a leader')
    if (raw.leaderKey === undefined) invalid('a peer needs --leader-key (the leader prints it on start)')
    config.leaderAddr = parseMultiaddr(raw.leaderAddr, '--leader-addr')
    if (!config.leaderAddr.includes('/p2p/')) invalid('--leader-addr must end in /p2p/<peer id> (copy it from the leader\'s start-up output)')
    config.leaderKey = fromHex(raw.leaderKey, 32) ?? invalid('--leader-key must be 64 hex characters (a 32-byte public key)')
    if (!isValidPublicKey(config.leaderKey)) invalid(`--leader-key ${raw.leaderKey} is not a valid Ed25519 public key (not a canonical point of the prime-order subgroup: small-order, mixed-order, non-canonical or off the curve; SPEC 1); copy the key the leader prints on start`)
  }
  return config
}

// The runner's flags (`npm run testnet -- --help`), their defaults and their checks.
import { parseArgs } from 'node:util'

export const FAULT_KINDS = ['kill', 'pause', 'partition', 'restart'] as const
export type FaultKind = typeof FAULT_KINDS[number]

export type ModeChoice = 'auto' | 'netns' | 'loopback'

export interface TestnetOptions {
  nodes: number
  /** Seconds of load (and faults), after the start and before the wait for convergence. */
  durationS: number
  faults: FaultKind[]
  /** How many faults in the run; kinds taken in turn. */
  faultCount: number
  /** How long a pause or a partition lasts. */
  faultMs: number
  /** Signed messages per second (0: none). */
  load: number
  /** How many peers receive load besides the leader (never faulted: a peer's 202 is not durable). */
  loadPeers: number
  blockIntervalMs: number
  seed: number
  mode: ModeChoice
  /** Names of namespaces, links and the run directory start with it (cleanup of leftovers uses it). */
  prefix: string
  /** The second octet of the /16s: 10.<n>.0.0/16 in namespaces, 127.<n>.0.0/16 on loopback. */
  subnet: number
  /** The quiet stretch (no load, no faults) over which idle CPU is measured, after convergence. */
  idleS: number
  /** The recovery bound of invariant 3. */
  recoveryS: number
  /** --threads for every node (its pool); undefined: the node's default, one per core. */
  threads?: number
  /** Nodes started at once (each start costs about a core-second). */
  startConcurrency: number
  /** Keep the run directory (data and logs) after the run. */
  keep: boolean
  /** Options for node itself, before dist/main.js (--cpu-prof, say). */
  nodeArgs: string[]
  /** Niceness the nodes get on top of the runner's, so the runner keeps its schedule on a saturated machine. */
  nodeNice: number
}

export const USAGE = `usage: npm run testnet -- [flags]      (node build/benchmarks/testnet/index.js [flags])

  --nodes N               nodes, one of them the leader                        (default 10)
  --duration S            seconds of load and faults                            (default 60)
  --faults LIST           kill,pause,partition,restart or none                  (default all four)
  --fault-count N         faults in the run, kinds in turn, each on its own peer
                          while peers last        (default: kinds x max(1, floor(nodes / 20)))
  --fault-ms N            how long a pause or a partition lasts, ms             (default 10000)
  --load N                signed messages per second                            (default 50)
  --load-peers N          peers fed besides the leader (never faulted)          (default 2)
  --block-interval-ms N   the nodes' block interval                             (default 1000)
  --seed N                seed of the topology, keys and fault schedule         (default: random)
  --mode M                auto, netns or loopback                               (default auto)
  --prefix NAME           prefix of namespaces, links and the run directory     (default kimtn)
  --subnet N              10.N.0.0/16 in namespaces, 127.N.0.0/16 on loopback    (default 213)
  --idle S                quiet seconds at the end for the idle-CPU figure (0: none) (default 10)
  --recovery S            the recovery bound a faulted node must meet           (default 20)
  --threads N             pool threads per node                                 (default: the node's)
  --start-concurrency N   nodes started at once                                 (default 4)
  --node-nice N           niceness of the nodes above the runner's (0: the same), so that
                          the fault schedule and the load keep time on a saturated machine (default 5)
  --keep                  keep the run directory (node data and logs)
  --node-arg ARG          an option for node itself, before dist/main.js; repeatable
                          (--node-arg=--cpu-prof --node-arg=--cpu-prof-dir=/tmp/prof profiles every node)
  --help                  this text

Faults hit peers only. kill: SIGKILL, then start again at once. pause: SIGSTOP, SIGCONT after
--fault-ms. partition: the node's link down for --fault-ms (namespaces only; skipped on
loopback). restart: SIGTERM, start again once it exited.
Exit status: 0 when the three invariants hold, 1 when one fails or the run broke, 2 for a usage error.`

export class UsageError extends Error {}

function integer (flag: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = Number(text)
  if (!Number.isInteger(value) || value < min || value > max) throw new UsageError(`--${flag} wants an integer from ${min} to ${max}, got '${text}'`)
  return value
}

function number (flag: string, text: string, min: number): number {
  const value = Number(text)
  if (!Number.isFinite(value) || value < min) throw new UsageError(`--${flag} wants a number of at least ${min}, got '${text}'`)
  return value
}

function faultList (text: string): FaultKind[] {
  if (text === 'none' || text === '') return []
  const kinds = text.split(',').map(s => s.trim())
  for (const k of kinds) if (!(FAULT_KINDS as readonly string[]).includes(k)) throw new UsageError(`--faults takes ${FAULT_KINDS.join(', ')} or none, got '${k}'`)
  return [...new Set(kinds)] as FaultKind[]
}

/** Reads the flags; throws UsageError for a bad one. `--help` is the caller's. */
export function parseOptions (argv: string[]): TestnetOptions {
  let values
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      options: {
        nodes: { type: 'string', default: '10' },
        duration: { type: 'string', default: '60' },
        faults: { type: 'string', default: FAULT_KINDS.join(',') },
        'fault-count': { type: 'string' },
        'fault-ms': { type: 'string', default: '10000' },
        load: { type: 'string', default: '50' },
        'load-peers': { type: 'string', default: '2' },
        'block-interval-ms': { type: 'string', default: '1000' },
        seed: { type: 'string' },
        mode: { type: 'string', default: 'auto' },
        prefix: { type: 'string', default: 'kimtn' },
        subnet: { type: 'string', default: '213' },
        idle: { type: 'string', default: '10' },
        recovery: { type: 'string', default: '20' },
        threads: { type: 'string' },
        'start-concurrency': { type: 'string', default: '4' },
        keep: { type: 'boolean', default: false },
        'node-arg': { type: 'string', multiple: true, default: [] },
        'node-nice': { type: 'string', default: '5' },
        help: { type: 'boolean', default: false }
      }
    }).values
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err))
  }
  const nodes = integer('nodes', values.nodes, 1, 250)
  const faults = faultList(values.faults)
  const mode = values.mode
  if (mode !== 'auto' && mode !== 'netns' && mode !== 'loopback') throw new UsageError(`--mode takes auto, netns or loopback, got '${mode}'`)
  // Interface names are at most 15 bytes: the prefix, 'v' and a node number must fit.
  if (!/^[a-z][a-z0-9]{1,7}$/.test(values.prefix)) throw new UsageError(`--prefix wants 2 to 8 lowercase letters or digits, starting with a letter, got '${values.prefix}'`)
  return {
    nodes,
    durationS: number('duration', values.duration, 1),
    faults,
    faultCount: values['fault-count'] === undefined
      ? faults.length * Math.max(1, Math.floor(nodes / 20))
      : integer('fault-count', values['fault-count'], 0),
    faultMs: integer('fault-ms', values['fault-ms'], 100),
    load: number('load', values.load, 0),
    loadPeers: integer('load-peers', values['load-peers'], 0),
    blockIntervalMs: integer('block-interval-ms', values['block-interval-ms'], 50),
    seed: values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : integer('seed', values.seed, 0, 2 ** 32 - 1),
    mode,
    prefix: values.prefix,
    subnet: integer('subnet', values.subnet, 1, 254),
    idleS: number('idle', values.idle, 0),
    recoveryS: number('recovery', values.recovery, 1),
    ...(values.threads === undefined ? {} : { threads: integer('threads', values.threads, 1, 64) }),
    startConcurrency: integer('start-concurrency', values['start-concurrency'], 1),
    keep: values.keep,
    nodeArgs: values['node-arg'],
    nodeNice: integer('node-nice', values['node-nice'], 0, 19)
  }
}

// What the whole-node benchmarks (`npm run bench:e2e`, `npm run soak`) share: the message
// shape of the load, clocks, /proc readers for node processes (memory, CPU), the foreign-CPU
// figure with our child processes taken out, percentiles, disk usage and argument parsing.
import { readFileSync } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { cpuSample, foreignCpuPercent } from '../util.js'

/** Issue 10's load: batches of 500 messages of 100-byte contents from 16 senders. */
export const BATCH_MESSAGES = 500
export const SENDERS = 16
export const CONTENT_BYTES = 100

export const MB = 1e6

/**
 * Wall-clock milliseconds since the epoch, sub-millisecond and comparable across processes on
 * one machine (each process's timeOrigin is read from the same clock): acknowledgements are
 * timed in the load generator's process, blocks in the benchmark's.
 */
export function nowMs (): number {
  return performance.timeOrigin + performance.now()
}

export async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

export interface ProcessMemory {
  /** `RssAnon`: the process's own heap, stacks and buffers; LMDB's mapped file pages are not in it. */
  anonBytes: number
  /** `VmRSS`: everything resident, LMDB's mapped pages included. */
  rssBytes: number
}

/** A process's memory from /proc/<pid>/status; undefined once it has exited (or off Linux). */
export function readMemory (pid: number): ProcessMemory | undefined {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/status`, 'latin1')
  } catch {
    return undefined
  }
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024
  return { anonBytes: kb('RssAnon'), rssBytes: kb('VmRSS') }
}

/** Linux reports /proc/<pid>/stat times in USER_HZ ticks, 100 per second on every mainstream kernel. */
const TICKS_PER_SECOND = 100

/** Fields 3 onwards of /proc/<pid>/stat; undefined once the process has gone. */
function statFields (pid: number | 'self'): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1')
    // The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
    return text.slice(text.lastIndexOf(')') + 2).split(' ')
  } catch {
    return undefined
  }
}

/** CPU seconds (user + system, every thread) a process has used; undefined once it has exited. */
export function processCpuSeconds (pid: number): number | undefined {
  const fields = statFields(pid)
  return fields === undefined ? undefined : (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
}

/** CPU seconds of this process's children that have exited and been reaped (cutime + cstime). */
export function reapedChildrenCpuSeconds (): number {
  const fields = statFields('self')
  return fields === undefined ? 0 : (Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND
}

/** CPU use of named processes (nodes, the load generator) and of the rest of the machine over a phase. */
export class CpuMeter {
  private readonly start = cpuSample()
  private readonly startByName = new Map<string, number>()
  private readonly startReaped = reapedChildrenCpuSeconds()

  constructor (private readonly pids: ReadonlyMap<string, number>) {
    for (const [name, pid] of pids) this.startByName.set(name, processCpuSeconds(pid) ?? NaN)
  }

  /**
   * Each named process's CPU as a percentage of one core, this process's own, and the share of
   * the whole machine (all cores) that other processes used meanwhile: what tells a quiet run
   * from one disturbed by other work on the machine. Children of this process that exited and
   * were reaped meanwhile (the nodes of finished measurements) count as ours, not as others'.
   */
  read (): { byName: Record<string, number>, ownPct: number, foreignPct: number | undefined, seconds: number } {
    const end = cpuSample()
    const seconds = (end.at - this.start.at) / 1000
    const byName: Record<string, number> = {}
    let childSeconds = reapedChildrenCpuSeconds() - this.startReaped
    for (const [name, pid] of this.pids) {
      const used = (processCpuSeconds(pid) ?? NaN) - (this.startByName.get(name) ?? NaN)
      byName[name] = 100 * used / seconds
      if (Number.isFinite(used)) childSeconds += used
    }
    const foreignWithChildren = foreignCpuPercent(this.start, end)
    const foreignPct = foreignWithChildren === undefined
      ? undefined
      : Math.max(0, foreignWithChildren - 100 * childSeconds / (seconds * availableParallelism()))
    return { byName, ownPct: 100 * (end.own - this.start.own) / seconds, foreignPct, seconds }
  }
}

/** The 1-minute load average, from /proc/loadavg (undefined off Linux). */
export function loadAverage (): number | undefined {
  try {
    return Number(readFileSync('/proc/loadavg', 'latin1').split(' ')[0])
  } catch {
    return undefined
  }
}

/** p (0..1) quantile of values already sorted ascending, nearest rank; NaN when empty. */
export function percentile (sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]
}

/** Bytes a directory tree occupies on disk (allocated blocks, as `du` counts them). */
export async function diskBytes (dir: string): Promise<number> {
  let total = 0
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) total += await diskBytes(path)
    else total += (await stat(path)).blocks * 512
  }
  return total
}

/** A positive number from a flag, or a clear usage error. */
export function positive (flag: string, text: string): number {
  const value = Number(text)
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`--${flag} wants a positive number, got '${text}'`)
  return value
}

export class UsageError extends Error {}

/**
 * Runs a flag parser: `--help` prints the usage and exits 0; a parse error becomes a
 * UsageError (exit status 2) carrying the usage.
 */
export function readFlags<T> (usage: string, parse: () => T): T {
  if (process.argv.includes('--help')) {
    process.stdout.write(`${usage}\n`)
    process.exit(0)
  }
  try {
    return parse()
  } catch (err) {
    throw new UsageError(`${err instanceof Error ? err.message : String(err)}\n${usage}`)
  }
}

/** `1,234` for rates, one decimal for small figures; `n/a` for a missing one. */
export function fmt (value: number | undefined, digits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return 'n/a'
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
}

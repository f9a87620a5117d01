// Watching node processes from outside while the load runs: when each height first appears on
// a node (its own log lines), each node's anonymous and resident memory (/proc every ~100 ms),
// the leader's event-loop delay (prom-client's gauges on GET /metrics), and how long its main
// thread waited for a core (/proc schedstat).
import { readFileSync } from 'node:fs'
import { metricValue, getMetrics, type ApiTarget } from '../../test/helpers/api-client.js'
import type { NodeProcess } from '../../test/helpers/node-process.js'
import { emptyNodeLog, readLogLine } from '../testnet/node-log.js'
import { readMemory } from './common.js'

/**
 * When each height first appears on a node, read from the node's log as it prints it ('block
 * produced', 'block received', 'sync complete', with the times the node logged them), as the
 * testnet reads them. It used to poll GET /v1/status every 20 ms per node: that cost this
 * process 8-10 % of a core, and the nodes a request each every 20 ms, on the machine whose
 * limit the run measures, and it saw a height up to a poll late.
 */
export class HeightWatcher {
  /** firstSeen[h]: epoch ms when the node logged a stored height >= h. */
  readonly firstSeen: number[] = [0]
  private readonly log = emptyNodeLog()
  private unsubscribe: (() => void) | undefined

  constructor (readonly name: string, private readonly node: NodeProcess) {}

  get height (): number {
    return this.firstSeen.length - 1
  }

  start (): void {
    if (this.unsubscribe !== undefined) return
    // What the node printed before, then every line from now on (the same turn: none is missed).
    for (const line of this.node.output.split('\n')) this.read(line)
    this.unsubscribe = this.node.onLine(line => { this.read(line) })
  }

  stop (): void {
    this.unsubscribe?.()
    this.unsubscribe = undefined
  }

  private read (line: string): void {
    const known = this.log.tips.length
    readLogLine(line, this.log)
    for (const { time, height } of this.log.tips.slice(known)) {
      while (this.firstSeen.length <= height) this.firstSeen.push(time)
    }
  }
}

export interface MemoryPeaks {
  /** Bytes; NaN when the process could not be read. */
  peakAnon: number
  peakRss: number
  lastAnon: number
  lastRss: number
}

/** Samples the memory of named processes every `intervalMs`; peaks since the last reset. */
export class MemorySampler {
  private readonly peaks = new Map<string, MemoryPeaks>()
  private timer: NodeJS.Timeout | undefined

  constructor (private readonly pids: ReadonlyMap<string, number>, private readonly intervalMs = 100) {
    this.reset()
  }

  start (): void {
    this.sample()
    this.timer ??= setInterval(() => { this.sample() }, this.intervalMs)
  }

  stop (): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** The peaks since the last reset, by name; then starts over. */
  reset (): Record<string, MemoryPeaks> {
    const out = Object.fromEntries(this.peaks)
    for (const name of this.pids.keys()) this.peaks.set(name, { peakAnon: NaN, peakRss: NaN, lastAnon: NaN, lastRss: NaN })
    return out
  }

  private sample (): void {
    for (const [name, pid] of this.pids) {
      const memory = readMemory(pid)
      const peaks = this.peaks.get(name)
      if (memory === undefined || peaks === undefined) continue
      peaks.lastAnon = memory.anonBytes
      peaks.lastRss = memory.rssBytes
      peaks.peakAnon = Number.isNaN(peaks.peakAnon) ? memory.anonBytes : Math.max(peaks.peakAnon, memory.anonBytes)
      peaks.peakRss = Number.isNaN(peaks.peakRss) ? memory.rssBytes : Math.max(peaks.peakRss, memory.rssBytes)
    }
  }
}

export interface EventLoopWindow {
  /** prom-client's p99 and max of the event-loop delay since the previous scrape, ms. */
  p99Ms: number
  maxMs: number
}

/**
 * Scrapes a node's event-loop gauges. prom-client resets its delay histogram at every scrape,
 * so a scrape reports the window since the previous one: scrape at the start of a phase (the
 * figure is dropped) and at its end (the figure is the phase's). The node samples at a 10 ms
 * resolution and the histogram holds the interval between samples, so an idle loop reads ~10 ms.
 */
export async function scrapeEventLoop (node: ApiTarget): Promise<EventLoopWindow> {
  const text = await getMetrics(node)
  const seconds = (name: string): number => metricValue(text, name) ?? NaN
  return { p99Ms: 1000 * seconds('kimura_nodejs_eventloop_lag_p99_seconds'), maxMs: 1000 * seconds('kimura_nodejs_eventloop_lag_max_seconds') }
}

/** A process's main thread over a window, ms per second of the window. */
export interface MainThreadWindow {
  /** On a core. */
  runMsPerS: number
  /** Runnable but waiting for a core (the kernel's run queue). */
  waitMsPerS: number
}

/** The main thread's [ns on a core, ns waiting to run], from `/proc/<pid>/task/<pid>/schedstat`. */
function readSchedStat (pid: number | undefined): [number, number] | undefined {
  if (pid === undefined) return undefined
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'latin1').split(' ').map(Number)
    return Number.isFinite(run) && Number.isFinite(wait) ? [run, wait] : undefined
  } catch {
    return undefined
  }
}

/**
 * How long a process's main thread ran and waited for a core from construction to `read()`. An
 * event-loop delay is either work on the loop or the thread waiting in the run queue while
 * other threads (its own workers, other processes) hold the cores: this tells them apart.
 * NaN off Linux, without schedstats, or without a process (`pid` undefined).
 */
export class MainThreadMeter {
  private readonly start: [number, number] | undefined
  private readonly startedAt = performance.now()

  constructor (private readonly pid: number | undefined) {
    this.start = readSchedStat(pid)
  }

  read (): MainThreadWindow {
    const end = readSchedStat(this.pid)
    const seconds = (performance.now() - this.startedAt) / 1000
    if (this.start === undefined || end === undefined) return { runMsPerS: NaN, waitMsPerS: NaN }
    return { runMsPerS: (end[0] - this.start[0]) / 1e6 / seconds, waitMsPerS: (end[1] - this.start[1]) / 1e6 / seconds }
  }
}

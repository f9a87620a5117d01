// What a node's JSON log says, read once at the end (the testnet) or line by line as the node
// prints it (bench:e2e's HeightWatcher): when it stored which height (gossip and sync), what
// the leader produced, and its errors. Times are the log lines' own (pino `time`,
// ms since the epoch; every node shares the machine's clock).
import { readFileSync } from 'node:fs'

export interface Received { time: number, height: number, latencyMs: number }
export interface Synced { time: number, from: number, to: number, blocks: number }
export interface Produced { time: number, height: number, messages: number }

export interface NodeLog {
  /** Blocks stored from gossip ('block received'). */
  received: Received[]
  /** Sync rounds that stored blocks ('sync complete'). */
  synced: Synced[]
  /** Leader: 'block produced'. */
  produced: Produced[]
  /** (time, height) whenever the stored tip is known: store opened, received, synced, produced; in time order. */
  tips: Array<{ time: number, height: number }>
  /** Lines at level error (50) or fatal (60), the first few kept whole. */
  errors: number
  errorExamples: string[]
  /** Process ids seen (one per incarnation). */
  pids: number[]
}

const PINO_ERROR = 50
const EXAMPLES = 3

type Line = Record<string, unknown>

function num (line: Line, field: string): number | undefined {
  const v = line[field]
  return typeof v === 'number' ? v : undefined
}

export function emptyNodeLog (): NodeLog {
  return { received: [], synced: [], produced: [], tips: [], errors: 0, errorExamples: [], pids: [] }
}

export function readNodeLog (file: string): NodeLog {
  const log = emptyNodeLog()
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return log
  }
  for (const raw of text.split('\n')) readLogLine(raw, log)
  log.tips.sort((a, b) => a.time - b.time)
  return log
}

/** One line of a node's output into `log`; lines that are not the node's JSON are skipped. */
export function readLogLine (raw: string, log: NodeLog): void {
  if (!raw.startsWith('{')) return
  let line: Line
  try {
    line = JSON.parse(raw) as Line
  } catch {
    return
  }
  const time = num(line, 'time')
  if (time === undefined) return
  const pid = num(line, 'pid')
  if (pid !== undefined && !log.pids.includes(pid)) log.pids.push(pid)
  if ((num(line, 'level') ?? 0) >= PINO_ERROR) {
    log.errors++
    if (log.errorExamples.length < EXAMPLES) log.errorExamples.push(raw.slice(0, 400))
  }
  readEvent(line, time, log)
}

function readEvent (line: Line, time: number, log: NodeLog): void {
  const height = num(line, 'height')
  switch (line.msg) {
    case 'block received': {
      const latencyMs = num(line, 'latencyMs')
      if (height === undefined || latencyMs === undefined) return
      log.received.push({ time, height, latencyMs })
      log.tips.push({ time, height })
      return
    }
    case 'sync complete': {
      const from = num(line, 'from')
      const to = num(line, 'to')
      const blocks = num(line, 'blocks')
      if (from === undefined || to === undefined || blocks === undefined) return
      log.synced.push({ time, from, to, blocks })
      log.tips.push({ time, height: to })
      return
    }
    case 'block produced':
      if (height === undefined) return
      log.produced.push({ time, height, messages: num(line, 'messages') ?? 0 })
      log.tips.push({ time, height })
      return
    case 'store opened':
      if (height !== undefined) log.tips.push({ time, height })
  }
}

/** The highest height the node had stored at time t (from its log). */
export function heightAt (log: NodeLog, t: number): number {
  let best = 0
  for (const tip of log.tips) {
    if (tip.time > t) break
    best = Math.max(best, tip.height)
  }
  return best
}

/** The first time at or after `after` at which the node held `height` or more; undefined if never. */
export function reachedAt (log: NodeLog, height: number, after: number): number | undefined {
  if (heightAt(log, after) >= height) return after
  return log.tips.find(tip => tip.time >= after && tip.height >= height)?.time
}

/** The last lines of a log file, for an error message. */
export function logTail (file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

// The node's logs: pino, JSON lines by default (one object a line) or pino-pretty's readable
// lines (--log-format, SPEC 7). Logging must never stop or wedge the node: lines go to stdout
// asynchronously through a bounded buffer, a write error (a full disk, a closed pipe) drops
// lines until the destination recovers, and nothing it throws reaches the event loop.
import pretty from 'pino-pretty'
import { pino, type DestinationStream, type Logger } from 'pino'
import type { LogFormat, LogLevel } from './config.js'

export type { Logger }

/** Log bytes buffered while stdout is slow or failing; beyond it, lines are dropped (counted). */
const LOG_BUFFER_MAX_BYTES = 4 * 1024 * 1024

export interface NodeLogger {
  logger: Logger
  /** Writes what is buffered, synchronously and best effort: call before process.exit(). */
  flush: () => void
}

export function createLogger (level: LogLevel, format: LogFormat): NodeLogger {
  const stdout = pino.destination({ dest: 1, sync: false, maxLength: LOG_BUFFER_MAX_BYTES })
  let failing = false
  stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (failing) return
    failing = true
    // stderr may fail too (the same full disk): nothing here may throw.
    try {
      process.stderr.write(`kimura: writing logs failed (${err.code ?? err.message}); dropping log lines until it works again\n`)
    } catch {
      // Nowhere left to say it.
    }
  })
  stdout.on('write', () => { failing = false })
  stdout.on('drop', () => { failing = true })
  const destination: DestinationStream = format === 'pretty'
    ? pretty({ destination: stdout, colorize: process.stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
    : stdout
  const logger = pino({ level, base: { pid: process.pid } }, destination)
  return {
    logger,
    flush: () => {
      try {
        stdout.flushSync()
      } catch {
        // A destination that cannot take the lines now loses them; exiting must not fail.
      }
    }
  }
}

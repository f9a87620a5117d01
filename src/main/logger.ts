// The node's logs: pino, JSON lines (one object a line) or pino-pretty's readable lines
// (--log-format, SPEC 7), written to stdout by a LogWriter: a failing log destination never
// stops or wedges the node.
import { prettyFactory } from 'pino-pretty'
import { pino, type DestinationStream, type Logger } from 'pino'
import type { LogFormat, LogLevel } from './config.js'
import { LogWriter } from './log-writer.js'

export type { Logger }

export interface NodeLogger {
  logger: Logger
  /** Writes text to stdout beside the log lines (the leader's start-up banner), never throwing. */
  print: (text: string) => void
  /** Writes what is buffered, synchronously and best effort: call before process.exit(). */
  flush: () => void
}

export function createLogger (level: LogLevel, format: LogFormat): NodeLogger {
  const stdout = new LogWriter({
    fd: 1,
    maxBufferedBytes: 4 * 1024 * 1024,
    retryMs: 1_000,
    onFailure: err => {
      // stderr may fail too (the same full disk): nothing here may throw.
      try {
        process.stderr.write(`kimura: writing logs failed (${err.code ?? err.message}); dropping log lines until it works again\n`)
      } catch {
        // Nowhere left to say it.
      }
    }
  })
  const prettify = format === 'pretty'
    ? prettyFactory({ colorize: process.stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true })
    : undefined
  const destination: DestinationStream = { write: (line: string) => { stdout.write(prettify === undefined ? line : prettify(line)) } }
  return {
    logger: pino({ level, base: { pid: process.pid } }, destination),
    print: text => { stdout.write(text) },
    flush: () => { stdout.flushSync() }
  }
}

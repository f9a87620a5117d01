import { pino, type Logger } from 'pino'
import type { LogLevel } from './config.js'

export type { Logger }

/** Structured JSON lines on stdout; one logger per node, children per component. */
export function createLogger (level: LogLevel): Logger {
  return pino({ level, base: { pid: process.pid } })
}

// What the commands that talk to a node through kimura/client share: the --api option, the
// node's URL from it, and errors printed with the API's code.
import { Option } from 'commander'
// errors.js alone: cli.ts imports this module for every command, and the client's crypto loads only when used.
import { KimuraApiError, KimuraClientError } from '../../client/errors.js'
import { KimuraError } from '../../shared/errors.js'
import { parseApiAddress } from '../config.js'

/** `--api <host:port>` (or a URL), from KIMURA_API, 127.0.0.1:8080 by default. */
export function apiOption (): Option {
  return new Option('--api <host:port>', 'the node\'s HTTP API (or its URL)').env('KIMURA_API').default('127.0.0.1:8080')
}

/** The base URL of `--api`: host:port (IPv6 in brackets or not) or an http(s) URL. */
export function apiUrl (api: string): string {
  if (/^https?:\/\//i.test(api)) return api
  const address = parseApiAddress(api)
  if (address === null) throw new KimuraError('ERR_INVALID_CONFIG', '--api cannot be off here: it names the node to ask')
  return `http://${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`
}

/** Prints a client error as `kimura <command>: <message> (<code>[, HTTP <status>])` and answers the exit code 1; rethrows anything else. */
export function reportClientError (command: string, err: unknown): number {
  if (!(err instanceof KimuraClientError)) throw err
  const status = err instanceof KimuraApiError ? `, HTTP ${err.status}` : ''
  process.stderr.write(`kimura ${command}: ${err.message} (${err.code}${status})\n`)
  return 1
}

/** A usage error of a command's argument: printed, exit code 2 (as the CLI's other usage errors). */
export function usageError (command: string, message: string): number {
  process.stderr.write(`kimura ${command}: ${message}\n`)
  return 2
}

/** A closed stdout (`kimura submit ... | head -1`) ends the output quietly instead of crashing on EPIPE. */
export function ignoreClosedStdout (): void {
  process.stdout.on('error', err => {
    if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err
  })
}
